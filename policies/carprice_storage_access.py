"""Policy 4: storage accounts refuse shared keys; the data lake account has a hierarchical namespace."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import construct_path, is_false, is_true, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck


def is_lake(conf: dict[str, Any]) -> bool:
    """The lake is the account built by the DataLake construct (or, without metadata, named *lake*)."""
    path = construct_path(conf)
    if path:
        return "/DataLake/" in f"/{path}/"
    return "lake" in str(value(conf, "name", ""))


class StorageAccess(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure storage accounts disable shared key access and the lake has a hierarchical namespace",
            id="CKV_CARPRICE_4",
            categories=(CheckCategories.IAM,),
            supported_resources=("azurerm_storage_account",),
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["shared_access_key_enabled", "is_hns_enabled"]
        if not is_false(conf, "shared_access_key_enabled"):
            self.details.append("shared_access_key_enabled must be false (Entra ID only)")
        if is_lake(conf) and not is_true(conf, "is_hns_enabled"):
            self.details.append("the data lake account needs is_hns_enabled = true (ADLS Gen2)")
        return CheckResult.FAILED if self.details else CheckResult.PASSED


check = StorageAccess()
