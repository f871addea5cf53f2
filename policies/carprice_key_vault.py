"""Policy 5: Key Vaults use RBAC authorization and purge protection."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import is_true
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class KeyVaultGuardrails(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Key Vault uses RBAC authorization and purge protection",
            id="CKV_CARPRICE_5",
            categories=(CheckCategories.IAM,),
            supported_resources=("azurerm_key_vault",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["rbac_authorization_enabled", "purge_protection_enabled"]
        for key in self.evaluated_keys:
            if not is_true(conf, key):
                self.details.append(f"{key} must be true")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = KeyVaultGuardrails()
