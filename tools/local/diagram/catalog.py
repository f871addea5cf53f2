"""What each Terraform resource type is called on a picture, and which Azure icon (from `diagrams`) it gets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import diagrams
from diagrams.azure import (
    aimachinelearning,
    analytics,
    compute,
    database,
    devops,
    general,
    identity,
    managementgovernance,
    ml,
    monitor,
    network,
    networking,
    other,
    security,
    storage,
    web,
)

_ICON_ROOT = Path(diagrams.__file__).resolve().parent.parent


@dataclass(frozen=True)
class Kind:
    label: str  # what a reader calls it ("Key Vault"), shown under the resource's name
    icon_class: type[diagrams.Node]

    @property
    def icon(self) -> Path:
        return _ICON_ROOT / self.icon_class._icon_dir / self.icon_class._icon  # type: ignore[attr-defined]


KINDS: dict[str, Kind] = {
    "azurerm_resource_group": Kind("Resource group", general.Resourcegroups),
    "azurerm_virtual_network": Kind("Virtual network", network.VirtualNetworks),
    "azurerm_virtual_network_peering": Kind("VNet peering", networking.Connections),
    "azurerm_subnet": Kind("Subnet", network.Subnets),
    "azurerm_network_security_group": Kind("Network security group", networking.NetworkSecurityGroups),
    "azurerm_subnet_network_security_group_association": Kind("NSG on subnet", networking.NetworkSecurityGroups),
    "azurerm_private_dns_zone": Kind("Private DNS zone", network.DNSPrivateZones),
    "azurerm_private_dns_zone_virtual_network_link": Kind("DNS zone link", network.DNSZones),
    "azurerm_private_endpoint": Kind("Private endpoint", other.PrivateEndpoints),
    "azurerm_user_assigned_identity": Kind("Managed identity", identity.ManagedIdentities),
    "azurerm_role_assignment": Kind("Role assignment", identity.AzureADRolesAndAdministrators),
    "azurerm_role_definition": Kind("Custom role", identity.AzureADRolesAndAdministrators),
    "azurerm_cosmosdb_sql_role_assignment": Kind("Cosmos DB data role", identity.AzureADRolesAndAdministrators),
    "azurerm_key_vault": Kind("Key Vault", security.KeyVaults),
    "azurerm_key_vault_secret": Kind("Key Vault secret", security.KeyVaults),
    "azurerm_key_vault_key": Kind("Key Vault key", security.KeyVaults),
    "azurerm_key_vault_certificate": Kind("Key Vault certificate", security.KeyVaults),
    "time_sleep": Kind("Wait for RBAC propagation", general.Gear),
    "azurerm_management_lock": Kind("Delete lock", general.Resource),
    "azurerm_log_analytics_workspace": Kind("Log Analytics", monitor.LogAnalyticsWorkspaces),
    "azurerm_application_insights": Kind("Application Insights", devops.ApplicationInsights),
    "azurerm_monitor_diagnostic_setting": Kind("Diagnostic setting", monitor.DiagnosticsSettings),
    "azurerm_consumption_budget_resource_group": Kind("Budget", general.CostBudgets),
    "azurerm_eventhub_namespace": Kind("Event Hubs namespace", analytics.EventHubs),
    "azurerm_eventhub": Kind("Event hub", analytics.EventHubs),
    "azurerm_eventhub_consumer_group": Kind("Consumer group", analytics.EventHubs),
    "azurerm_storage_account": Kind("Storage account", storage.StorageAccounts),
    "azurerm_storage_container": Kind("Blob container", general.StorageContainer),
    "azurerm_storage_data_lake_gen2_filesystem": Kind("Lake filesystem", storage.DataLakeStorage),
    "azurerm_storage_management_policy": Kind("Lifecycle policy", general.Gear),
    "azurerm_cosmosdb_account": Kind("Cosmos DB", database.CosmosDb),
    "azurerm_cosmosdb_sql_database": Kind("Cosmos DB database", database.CosmosDb),
    "azurerm_cosmosdb_sql_container": Kind("Cosmos DB container", general.StorageContainer),
    "azurerm_machine_learning_workspace": Kind("Azure ML workspace", ml.MachineLearningServiceWorkspaces),
    "azurerm_machine_learning_compute_cluster": Kind("Azure ML compute", compute.BatchAccounts),
    "azurerm_machine_learning_datastore_datalake_gen2": Kind("Azure ML datastore", storage.DataLakeStorage),
    "azurerm_container_registry": Kind("Container registry", compute.ContainerRegistries),
    "azurerm_kubernetes_cluster": Kind("AKS cluster", compute.KubernetesServices),
    "azurerm_kubernetes_cluster_node_pool": Kind("AKS node pool", compute.VMScaleSets),
    "azurerm_kubernetes_cluster_extension": Kind("AKS extension", general.Extensions),
    "azurerm_service_plan": Kind("App Service plan", web.AppServicePlans),
    "azurerm_linux_web_app": Kind("Web app", web.AppServices),
    "azurerm_linux_web_app_slot": Kind("Deployment slot", general.WebSlots),
    "azurerm_application_gateway": Kind("Application Gateway (WAF)", network.ApplicationGateway),
    "azurerm_web_application_firewall_policy": Kind("WAF policy", network.Firewall),
    "azurerm_public_ip": Kind("Public IP", network.PublicIpAddresses),
    "azurerm_traffic_manager_profile": Kind("Traffic Manager", network.TrafficManagerProfiles),
    "azurerm_traffic_manager_azure_endpoint": Kind("Traffic Manager endpoint", network.TrafficManagerProfiles),
    "azurerm_data_factory": Kind("Data Factory", analytics.DataFactories),
    "azurerm_data_factory_integration_runtime_azure": Kind("Integration runtime (managed VNet)", general.Gear),
    "azurerm_data_factory_managed_private_endpoint": Kind("Managed private endpoint", other.PrivateEndpoints),
    "azurerm_data_factory_linked_service_data_lake_storage_gen2": Kind("Linked service", general.ResourceLinked),
    "azurerm_data_factory_custom_dataset": Kind("Dataset", general.File),
    "azurerm_data_factory_pipeline": Kind("Pipeline", analytics.DataFactories),
    "azurerm_data_factory_trigger_schedule": Kind("Schedule trigger", general.Recent),
    "azurerm_cognitive_account": Kind("Azure OpenAI", aimachinelearning.AzureOpenai),
    "azurerm_cognitive_deployment": Kind("Model deployment", aimachinelearning.AzureOpenai),
    "azurerm_cognitive_account_rai_policy": Kind("Content filter", aimachinelearning.ContentModerators),
    "azurerm_search_service": Kind("AI Search", aimachinelearning.CognitiveSearch),
    "azurerm_data_factory_linked_custom_service": Kind("Linked service", general.ResourceLinked),
    "azurerm_databricks_workspace": Kind("Azure Databricks", analytics.Databricks),
    "azurerm_databricks_access_connector": Kind("Access connector (managed identity)", identity.ManagedIdentities),
    "databricks_job": Kind("Databricks job", analytics.Databricks),
    "databricks_cluster_policy": Kind("Cluster policy", managementgovernance.Policy),
    "databricks_external_location": Kind("External location (Unity Catalog)", storage.DataLakeStorage),
    "databricks_storage_credential": Kind("Storage credential (Unity Catalog)", security.KeyVaults),
}

# azapi resources carry their ARM type in `type`; the ones the stacks use get a proper name.
AZAPI_KINDS: dict[str, Kind] = {
    "Microsoft.MachineLearningServices/workspaces/computes": Kind("Azure ML attached compute", compute.AKS),
    "Microsoft.Web/sites": Kind("Function app", compute.FunctionApps),
    "Microsoft.Web/sites/basicPublishingCredentialsPolicies": Kind("Publishing credentials policy", general.Gear),
}

_FALLBACK_ICON = general.Resource


def kind_of(tf_type: str, attributes: dict | None = None) -> Kind:
    """Known types get their Azure name and icon; anything new still gets drawn (with a generic icon)."""
    if tf_type == "azapi_resource" and attributes:
        arm_type = str(attributes.get("type", "")).split("@")[0]
        if arm_type in AZAPI_KINDS:
            return AZAPI_KINDS[arm_type]
        return Kind(arm_type.rsplit("/", 1)[-1] or "ARM resource", _FALLBACK_ICON)
    if tf_type in KINDS:
        return KINDS[tf_type]
    words = tf_type.removeprefix("azurerm_").replace("_", " ")
    return Kind(words[:1].upper() + words[1:], _FALLBACK_ICON)
