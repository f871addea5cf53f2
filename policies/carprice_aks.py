"""Policy 6: AKS has local accounts disabled, Entra ID with Azure RBAC, and a network policy."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import block, is_true, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class AksGuardrails(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure AKS disables local accounts, uses Entra ID RBAC and sets a network policy",
            id="CKV_CARPRICE_6",
            categories=(CheckCategories.KUBERNETES,),
            supported_resources=("azurerm_kubernetes_cluster",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = [
            "local_account_disabled",
            "azure_active_directory_role_based_access_control/[0]/azure_rbac_enabled",
            "network_profile/[0]/network_policy",
        ]
        if not is_true(conf, "local_account_disabled"):
            self.details.append("local_account_disabled must be true")
        if not is_true(block(conf, "azure_active_directory_role_based_access_control"), "azure_rbac_enabled"):
            self.details.append("azure_active_directory_role_based_access_control.azure_rbac_enabled must be true")
        if not value(block(conf, "network_profile"), "network_policy"):
            self.details.append("network_profile.network_policy must be set")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = AksGuardrails()
