"""Policy 3: in a private environment, no data store accepts traffic on its public endpoint.

A storage account may keep its public endpoint for named Azure resource instances only (network rules deny by
default, with no IP or subnet rule): Event Hubs Capture writes that way, having no private endpoint to use."""

from __future__ import annotations

from typing import Any

from carprice_policy_support import block, environment_of, is_false, value
from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

DATA_STORES = (
    "azurerm_storage_account",
    "azurerm_key_vault",
    "azurerm_cosmosdb_account",
    "azurerm_machine_learning_workspace",
    "azurerm_container_registry",
    "azurerm_cognitive_account",
    "azurerm_search_service",
)


def admits_resource_instances_only(conf: dict[str, Any]) -> bool:
    """A storage account whose public endpoint denies every network and admits only resource-instance rules."""
    rules = block(conf, "network_rules")
    return (
        bool(rules)
        and value(rules, "default_action") == "Deny"
        and not value(rules, "ip_rules")
        and not value(rules, "virtual_network_subnet_ids")
        and bool(value(rules, "private_link_access"))
    )


class PrivateDataStores(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="Ensure data stores disable public network access when the environment is private",
            id="CKV_CARPRICE_3",
            categories=(CheckCategories.NETWORKING,),
            supported_resources=DATA_STORES,
        )

    def scan_resource_conf(self, conf: dict[str, Any]) -> CheckResult:
        self.evaluated_keys = ["public_network_access_enabled", "tags"]
        env = environment_of(conf)
        if env is None:
            self.details.append("no environment tag: cannot tell whether the environment is private")
            return CheckResult.FAILED
        if not env.get("private_networking"):
            return CheckResult.PASSED  # public access restricted to allowed_ip_ranges is the env's choice
        if is_false(conf, "public_network_access_enabled") or admits_resource_instances_only(conf):
            return CheckResult.PASSED
        self.details.append(f"{env['name']} is private but public_network_access_enabled is not false")
        return CheckResult.FAILED


check = PrivateDataStores()
