"""The synth floor: import cdktn and every provider module the stacks use, then synthesize one empty stack."""

from __future__ import annotations

import importlib
import sys
import tempfile

from cdktn import App, TerraformStack

PROVIDER_MODULES = [
    "application_insights", "consumption_budget_resource_group", "container_registry", "cosmosdb_account",
    "cosmosdb_sql_container", "cosmosdb_sql_database", "cosmosdb_sql_role_assignment", "data_azurerm_client_config",
    "eventhub", "eventhub_consumer_group", "eventhub_namespace", "key_vault", "key_vault_secret",
    "kubernetes_cluster", "kubernetes_cluster_extension", "kubernetes_cluster_node_pool", "linux_web_app",
    "linux_web_app_slot", "log_analytics_workspace", "machine_learning_compute_cluster",
    "machine_learning_datastore_datalake_gen2", "machine_learning_workspace", "management_lock",
    "monitor_diagnostic_setting", "network_security_group", "private_dns_zone",
    "private_dns_zone_virtual_network_link", "private_endpoint", "provider", "resource_group", "role_assignment",
    "service_plan", "storage_account", "storage_container", "storage_management_policy", "subnet",
    "subnet_network_security_group_association", "traffic_manager_azure_endpoint", "traffic_manager_profile",
    "user_assigned_identity", "virtual_network", "virtual_network_peering",
]


def main() -> None:
    for module in PROVIDER_MODULES:
        importlib.import_module(f"cdktn_provider_azurerm.{module}")
    importlib.import_module("cdktn_provider_azapi.resource")
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, stack_traces=False)
        TerraformStack(app, "empty")
        app.synth()


if __name__ == "__main__":
    main()
    sys.exit(0)
