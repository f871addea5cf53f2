"""Which Terraform azurerm types show up in an Azure resource group listing, and under which ARM type.

Only top-level ("tracked") resources appear in `resources.list_by_resource_group`; child resources such as
subnets, containers or role assignments never do, so they are not compared. A few child types do appear
with a `parent/child` name; for those, `parent` says which attribute references the parent resource.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ArmType:
    arm_type: str
    parent_attribute: str | None = None  # attribute holding `${parent_type.id.id}`; listed name is parent/name
    taggable: bool = True


ARM_TYPES: dict[str, ArmType] = {
    "azurerm_resource_group": ArmType("Microsoft.Resources/resourceGroups"),
    "azurerm_log_analytics_workspace": ArmType("Microsoft.OperationalInsights/workspaces"),
    "azurerm_application_insights": ArmType("Microsoft.Insights/components"),
    "azurerm_virtual_network": ArmType("Microsoft.Network/virtualNetworks"),
    "azurerm_network_security_group": ArmType("Microsoft.Network/networkSecurityGroups"),
    "azurerm_public_ip": ArmType("Microsoft.Network/publicIPAddresses"),
    "azurerm_private_endpoint": ArmType("Microsoft.Network/privateEndpoints"),
    "azurerm_private_dns_zone": ArmType("Microsoft.Network/privateDnsZones"),
    "azurerm_private_dns_zone_virtual_network_link": ArmType(
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks", parent_attribute="private_dns_zone_name"
    ),
    "azurerm_user_assigned_identity": ArmType("Microsoft.ManagedIdentity/userAssignedIdentities"),
    "azurerm_key_vault": ArmType("Microsoft.KeyVault/vaults"),
    "azurerm_storage_account": ArmType("Microsoft.Storage/storageAccounts"),
    "azurerm_container_registry": ArmType("Microsoft.ContainerRegistry/registries"),
    "azurerm_eventhub_namespace": ArmType("Microsoft.EventHub/namespaces"),
    "azurerm_cosmosdb_account": ArmType("Microsoft.DocumentDB/databaseAccounts"),
    "azurerm_machine_learning_workspace": ArmType("Microsoft.MachineLearningServices/workspaces"),
    "azurerm_machine_learning_compute_cluster": ArmType(
        "Microsoft.MachineLearningServices/workspaces/computes", parent_attribute="machine_learning_workspace_id"
    ),
    "azurerm_kubernetes_cluster": ArmType("Microsoft.ContainerService/managedClusters"),
    "azurerm_service_plan": ArmType("Microsoft.Web/serverFarms"),
    "azurerm_linux_web_app": ArmType("Microsoft.Web/sites"),
    "azurerm_linux_web_app_slot": ArmType("Microsoft.Web/sites/slots", parent_attribute="app_service_id"),
    "azurerm_traffic_manager_profile": ArmType("Microsoft.Network/trafficManagerProfiles"),
    "azurerm_monitor_action_group": ArmType("Microsoft.Insights/actionGroups"),
    "azurerm_monitor_metric_alert": ArmType("Microsoft.Insights/metricAlerts"),
    "azurerm_monitor_scheduled_query_rules_alert_v2": ArmType("Microsoft.Insights/scheduledQueryRules"),
    "azurerm_data_factory": ArmType("Microsoft.DataFactory/factories"),
    "azurerm_databricks_workspace": ArmType("Microsoft.Databricks/workspaces"),
    "azurerm_databricks_access_connector": ArmType("Microsoft.Databricks/accessConnectors"),
    "azurerm_synapse_workspace": ArmType("Microsoft.Synapse/workspaces"),
    "azurerm_stream_analytics_job": ArmType("Microsoft.StreamAnalytics/streamingJobs"),
    "azurerm_disk_encryption_set": ArmType("Microsoft.Compute/diskEncryptionSets"),
    "azurerm_nat_gateway": ArmType("Microsoft.Network/natGateways"),
    "azurerm_dev_center": ArmType("Microsoft.DevCenter/devcenters"),
    "azurerm_dev_center_project": ArmType("Microsoft.DevCenter/projects"),
    "azurerm_managed_devops_pool": ArmType("Microsoft.DevOpsInfrastructure/pools"),
    "azurerm_application_gateway": ArmType("Microsoft.Network/applicationGateways"),
    "azurerm_web_application_firewall_policy": ArmType(
        "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies"
    ),
    "azurerm_monitor_data_collection_rule": ArmType("Microsoft.Insights/dataCollectionRules"),
    "azurerm_cognitive_account": ArmType("Microsoft.CognitiveServices/accounts"),
    "azurerm_search_service": ArmType("Microsoft.Search/searchServices"),
}
# azapi_resource carries its ARM type in `type` ("<type>@<api version>") and its parent in `parent_id`.
AZAPI_RESOURCE = "azapi_resource"
# azapi children Resource Manager never lists on their own (a site's configuration and publishing policies).
UNLISTED_AZAPI_TYPES = frozenset(
    t.lower() for t in ("Microsoft.Web/sites/config", "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
)
# A parent_id that is a resource group itself: the resource is top-level in that group.
RESOURCE_GROUP_ID = r"^/subscriptions/[^/]+/resourceGroups/([^/]+)$"

# Resources another deployer owns in our resource groups: the ML pipeline (tools/deploy/ml/jobs.py) creates
# the online and batch endpoints and their deployments. Listed as such, never drift.
DEPLOYED_BY_ML_PIPELINE = frozenset(
    t.lower()
    for t in (
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
        "Microsoft.MachineLearningServices/workspaces/onlineEndpoints/deployments",
        "Microsoft.MachineLearningServices/workspaces/batchEndpoints",
        "Microsoft.MachineLearningServices/workspaces/batchEndpoints/deployments",
    )
)

# Resources Azure creates by itself next to ours; reported, never drift.
AZURE_CREATED_TYPES = frozenset(
    t.lower()
    for t in (
        "Microsoft.AlertsManagement/smartDetectorAlertRules",  # Application Insights smart detection
        "Microsoft.Network/networkInterfaces",  # the NIC behind each private endpoint
        "Microsoft.Network/networkWatchers",
    )
)
AZURE_CREATED_NAMES = frozenset({"application insights smart detection"})


def is_azure_created(arm_type: str, name: str) -> bool:
    return arm_type.lower() in AZURE_CREATED_TYPES or name.lower() in AZURE_CREATED_NAMES
