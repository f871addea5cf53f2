"""Policy 8: Cosmos DB accepts only Entra ID tokens (local key authentication disabled)."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import is_false, is_true
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


class CosmosLocalAuth(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure Cosmos DB disables local (key) authentication",
            id="CKV_CARPRICE_8",
            categories=(CheckCategories.IAM,),
            supported_resources=("azurerm_cosmosdb_account",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        # azurerm 4.x: `local_authentication_enabled = false`; the deprecated `local_authentication_disabled`
        # (removed in 5.0) still counts, since stock checkov's CKV_AZURE_140 reads only that one.
        self.evaluated_keys = ["local_authentication_enabled", "local_authentication_disabled"]
        if is_false(conf, "local_authentication_enabled") or is_true(conf, "local_authentication_disabled"):
            return CheckResult.PASSED
        self.details.append("local_authentication_enabled must be false")
        return CheckResult.FAILED


check = CosmosLocalAuth()
