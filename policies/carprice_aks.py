"""Policy 6: AKS has Kubernetes RBAC, Entra ID with Azure RBAC, and a network policy.

Local accounts are not part of it: the Azure ML extension, which the inference cluster runs, does not support
AKS with local accounts disabled (Learn: how-to-deploy-kubernetes-extension, "Limitations").
"""

from __future__ import annotations

from typing import Any

from carprice_policy_support import block, is_true, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class AksGuardrails(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure AKS enables Kubernetes RBAC, uses Entra ID with Azure RBAC and sets a network policy",
            id="CKV_CARPRICE_6",
            categories=(CheckCategories.KUBERNETES,),
            supported_resources=("azurerm_kubernetes_cluster",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = [
            "role_based_access_control_enabled",
            "azure_active_directory_role_based_access_control/[0]/azure_rbac_enabled",
            "network_profile/[0]/network_policy",
        ]
        if not is_true(conf, "role_based_access_control_enabled"):
            self.details.append("role_based_access_control_enabled must be true")
        if not is_true(block(conf, "azure_active_directory_role_based_access_control"), "azure_rbac_enabled"):
            self.details.append("azure_active_directory_role_based_access_control.azure_rbac_enabled must be true")
        if not value(block(conf, "network_profile"), "network_policy"):
            self.details.append("network_profile.network_policy must be set")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = AksGuardrails()
