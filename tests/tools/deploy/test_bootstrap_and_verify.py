"""`make bootstrap-state` and `make verify` through the real Azure SDK clients, with ARM faked at the
HTTP transport (tests/tools/deploy/fake_arm.py); the drift logic is also tested directly on the synth."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stacks.config import ENVIRONMENTS_DIR, REQUIRED_TAGS, load_environment
from tests.tools.deploy.fake_arm import FakeArmTransport, FakeCredential
from tools.deploy.infra.bootstrap import BootstrapError, bootstrap
from tools.deploy.infra.verify import RESOURCE_GROUP_TYPE, Resource, compare, expected_resources, render, verify
from tools.synth_output import SynthStack, environment_stacks, load_stacks

pytestmark = pytest.mark.xdist_group("deploy-synth")

PROD = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
GROUP = f"/subscriptions/{PROD.subscription_id}/resourceGroups/rg-carprice-tfstate-prod"
ACCOUNT = f"{GROUP}/providers/Microsoft.Storage/storageAccounts/stcarpricetfprod"
PROVIDERS = f"/subscriptions/{PROD.subscription_id}/providers"
POOL_PROVIDERS = ("Microsoft.DevCenter", "Microsoft.DevOpsInfrastructure")


def _providers(fake: FakeArmTransport, state: str) -> FakeArmTransport:
    for namespace in POOL_PROVIDERS:
        fake.route("GET", f"{PROVIDERS}/{namespace}", 200, {"namespace": namespace, "registrationState": state})
        fake.route("POST", f"{PROVIDERS}/{namespace}/register", 200, {"namespace": namespace})
    return fake


def _empty_subscription() -> FakeArmTransport:
    fake = FakeArmTransport()
    fake.route("HEAD", GROUP, 404).route("PUT", GROUP, 201, {"id": GROUP, "name": "rg", "location": "westeurope"})
    fake.route("PUT", ACCOUNT, 200, {"id": ACCOUNT, "name": "stcarpricetfprod", "location": "westeurope",
                                     "properties": {"provisioningState": "Succeeded"}})
    fake.route("GET", f"{ACCOUNT}/blobServices/default", 200, {"properties": {}})
    fake.route("PUT", f"{ACCOUNT}/blobServices/default", 200, {"properties": {}})
    fake.route("PUT", f"{ACCOUNT}/blobServices/default/containers/tfstate", 201, {"name": "tfstate"})
    return _providers(fake, "NotRegistered")


def _bootstrapped_subscription(**account_properties: object) -> FakeArmTransport:
    properties = {"allowSharedKeyAccess": False, "allowBlobPublicAccess": False, "minimumTlsVersion": "TLS1_2",
                  "supportsHttpsTrafficOnly": True, **account_properties}
    fake = FakeArmTransport()
    fake.route("HEAD", GROUP, 204)
    fake.route("GET", ACCOUNT, 200, {"id": ACCOUNT, "name": "stcarpricetfprod", "properties": properties})
    fake.route("PATCH", ACCOUNT, 200, {"id": ACCOUNT, "name": "stcarpricetfprod", "properties": properties})
    fake.route("GET", f"{ACCOUNT}/blobServices/default", 200, {
        "properties": {"isVersioningEnabled": True, "deleteRetentionPolicy": {"enabled": True, "days": 30}}})
    fake.route("GET", f"{ACCOUNT}/blobServices/default/containers/tfstate", 200, {"name": "tfstate"})
    return _providers(fake, "Registered")


def test_bootstrap_state_with_fake_arm_transport_creates_group_keyless_account_and_container() -> None:
    fake = _empty_subscription()
    bootstrap(PROD, FakeCredential(), transport=fake)
    writes = {(w.method, w.path.lower()): w.body for w in fake.writes()}
    assert writes[("PUT", GROUP.lower())]["location"] == "westeurope"
    account = writes[("PUT", ACCOUNT.lower())]
    assert account["properties"]["allowSharedKeyAccess"] is False
    assert account["properties"]["allowBlobPublicAccess"] is False
    assert account["properties"]["minimumTlsVersion"] == "TLS1_2"
    assert set(REQUIRED_TAGS) <= set(account["tags"])
    blob_service = writes[("PUT", f"{ACCOUNT}/blobServices/default".lower())]["properties"]
    assert blob_service["isVersioningEnabled"] is True
    assert ("PUT", f"{ACCOUNT}/blobServices/default/containers/tfstate".lower()) in writes


def test_bootstrap_state_with_fake_arm_transport_is_idempotent() -> None:
    fake = _bootstrapped_subscription()
    report = bootstrap(PROD, FakeCredential(), transport=fake)
    assert fake.writes() == []
    assert any("exists" in action for action in report.actions)


def test_bootstrap_state_with_fake_arm_transport_turns_shared_keys_back_off() -> None:
    fake = _bootstrapped_subscription(allowSharedKeyAccess=True)
    bootstrap(PROD, FakeCredential(), transport=fake)
    [patch] = fake.writes()
    assert patch.method == "PATCH" and patch.body == {"properties": {"allowSharedKeyAccess": False}}


def test_bootstrap_with_fake_arm_transport_registers_only_the_unregistered_provider_and_waits_for_it() -> None:
    from tools.deploy.infra.bootstrap import BootstrapReport, Waiting, register_providers

    assert PROD.agents is not None
    fake = _bootstrapped_subscription()
    fake.route("GET", f"{PROVIDERS}/Microsoft.DevOpsInfrastructure", 200,
               {"namespace": "Microsoft.DevOpsInfrastructure", "registrationState": "NotRegistered"})
    polls: list[float] = []
    with pytest.raises(BootstrapError, match="still NotRegistered"):  # this fake never finishes registering
        register_providers(PROD, FakeCredential(), BootstrapReport("prod"), Waiting(3, 5.0, polls.append),
                           transport=fake)
    registered = [(w.method, w.path) for w in fake.writes()]
    assert registered == [("POST", f"{PROVIDERS}/Microsoft.DevOpsInfrastructure/register")]
    assert polls == [5.0, 5.0, 5.0]


def test_bootstrap_state_for_a_local_backend_calls_nothing() -> None:
    fake = FakeArmTransport()
    local = load_environment(ENVIRONMENTS_DIR / "dev.yaml").with_local_state()
    report = bootstrap(local, FakeCredential(), transport=fake)
    assert fake.requests == [] and "nothing to create" in report.actions[0]


def _as_deployed(expected: list[Resource]) -> list[Resource]:
    tags = {tag: "x" for tag in REQUIRED_TAGS}
    return [Resource(r.arm_type, r.name, r.resource_group, {**tags, **(r.tags or {})}) for r in expected]


def test_synthesized_prod_matches_itself_and_sees_web_apps_and_slots(synth_out: Path) -> None:
    expected, unchecked = expected_resources(environment_stacks(load_stacks(synth_out), "prod"))
    types = {r.arm_type for r in expected}
    assert {"Microsoft.Web/sites", "Microsoft.Web/sites/slots", RESOURCE_GROUP_TYPE} <= types
    assert any(r.name.endswith("/staging") for r in expected if r.arm_type == "Microsoft.Web/sites/slots")
    assert all(not u.endswith("not a literal)") for u in unchecked)
    drift = compare(expected, _as_deployed(expected))
    assert not drift.drifted and drift.matched == len(expected)


def test_drift_lists_missing_unexpected_and_tag_problems_but_not_azure_created(synth_out: Path) -> None:
    expected, _ = expected_resources(environment_stacks(load_stacks(synth_out), "prod"))
    deployed = _as_deployed(expected)
    gone = next(r for r in deployed if r.arm_type == "Microsoft.KeyVault/vaults")
    untagged = next(r for r in deployed if r.arm_type == "Microsoft.Storage/storageAccounts")
    deployed = [r for r in deployed if r not in (gone, untagged)]
    deployed.append(Resource(untagged.arm_type, untagged.name, untagged.resource_group, {"owner": "x"}))
    deployed.append(Resource("Microsoft.Compute/virtualMachines", "vm-handmade", "rg-carprice-prod", {}))
    deployed.append(Resource("Microsoft.Network/networkInterfaces", "pe-x.nic.1234", "rg-carprice-prod", {}))
    drift = compare(expected, deployed)
    assert [r.name for r in drift.missing] == [gone.name]
    assert [r.name for r in drift.unexpected] == ["vm-handmade"]
    assert [r.name for r in drift.azure_created] == ["pe-x.nic.1234"]
    assert any(untagged.name in p and "'environment'" in p for p in drift.tag_problems)
    text = render("prod", drift)
    assert "- declared but missing in Azure (1)" in text and "vm-handmade" in text
    assert text.endswith("DRIFT: the environment does not match the stacks")


# What ARM lists per resource group for each tracked Terraform type, written from the ARM resource types
# (not from tools/deploy/infra/arm_types.py, so a type verify forgets shows up as drift here).
ARM_LISTED = {
    "azurerm_log_analytics_workspace": "Microsoft.OperationalInsights/workspaces",
    "azurerm_application_insights": "microsoft.insights/components",
    "azurerm_virtual_network": "Microsoft.Network/virtualNetworks",
    "azurerm_network_security_group": "Microsoft.Network/networkSecurityGroups",
    "azurerm_public_ip": "Microsoft.Network/publicIPAddresses",
    "azurerm_nat_gateway": "Microsoft.Network/natGateways",
    "azurerm_private_endpoint": "Microsoft.Network/privateEndpoints",
    "azurerm_private_dns_zone": "Microsoft.Network/privateDnsZones",
    "azurerm_user_assigned_identity": "Microsoft.ManagedIdentity/userAssignedIdentities",
    "azurerm_key_vault": "Microsoft.KeyVault/vaults",
    "azurerm_disk_encryption_set": "Microsoft.Compute/diskEncryptionSets",
    "azurerm_storage_account": "Microsoft.Storage/storageAccounts",
    "azurerm_container_registry": "Microsoft.ContainerRegistry/registries",
    "azurerm_eventhub_namespace": "Microsoft.EventHub/namespaces",
    "azurerm_cosmosdb_account": "Microsoft.DocumentDB/databaseAccounts",
    "azurerm_machine_learning_workspace": "Microsoft.MachineLearningServices/workspaces",
    "azurerm_kubernetes_cluster": "Microsoft.ContainerService/managedClusters",
    "azurerm_service_plan": "Microsoft.Web/serverFarms",
    "azurerm_linux_web_app": "Microsoft.Web/sites",
    "azurerm_traffic_manager_profile": "Microsoft.Network/trafficManagerProfiles",
    "azurerm_monitor_action_group": "microsoft.insights/actiongroups",
    "azurerm_monitor_metric_alert": "microsoft.insights/metricalerts",
    "azurerm_monitor_scheduled_query_rules_alert_v2": "microsoft.insights/scheduledqueryrules",
    "azurerm_dev_center": "Microsoft.DevCenter/devcenters",
    "azurerm_dev_center_project": "Microsoft.DevCenter/projects",
    "azurerm_managed_devops_pool": "Microsoft.DevOpsInfrastructure/pools",
    "azurerm_application_gateway": "Microsoft.Network/applicationGateways",
    "azurerm_web_application_firewall_policy": "Microsoft.Network/ApplicationGatewayWebApplicationFirewallPolicies",
    "azurerm_monitor_data_collection_rule": "Microsoft.Insights/dataCollectionRules",
    "azurerm_data_factory": "Microsoft.DataFactory/factories",
    "azurerm_cognitive_account": "Microsoft.CognitiveServices/accounts",
    "azurerm_search_service": "Microsoft.Search/searchServices",
    "azurerm_databricks_workspace": "Microsoft.Databricks/workspaces",
    "azurerm_databricks_access_connector": "Microsoft.Databricks/accessConnectors",
}
# azapi children Resource Manager does not list on their own.
UNLISTED_AZAPI = ("Microsoft.Web/sites/config@", "Microsoft.Web/sites/basicPublishingCredentialsPolicies@")
# Listed as "<parent name>/<name>": (ARM type, attribute naming the parent).
ARM_LISTED_CHILDREN = {
    "azurerm_private_dns_zone_virtual_network_link": (
        "Microsoft.Network/privateDnsZones/virtualNetworkLinks", "private_dns_zone_name"),
    "azurerm_machine_learning_compute_cluster": (
        "Microsoft.MachineLearningServices/workspaces/computes", "machine_learning_workspace_id"),
    "azurerm_linux_web_app_slot": ("Microsoft.Web/sites/slots", "app_service_id"),
}


# Child, extension and data-plane types: ARM never lists them in a resource group.
NOT_LISTED = {
    "azurerm_resource_group", "azurerm_subnet", "azurerm_subnet_network_security_group_association",
    "azurerm_subnet_nat_gateway_association", "azurerm_nat_gateway_public_ip_association",
    "azurerm_virtual_network_peering", "azurerm_role_assignment", "azurerm_management_lock",
    "azurerm_monitor_diagnostic_setting", "azurerm_monitor_data_collection_rule_association",
    "azurerm_consumption_budget_resource_group", "azurerm_key_vault_key", "azurerm_key_vault_secret",
    "azurerm_key_vault_certificate", "azurerm_storage_container", "azurerm_storage_management_policy",
    "azurerm_cosmosdb_sql_database", "azurerm_cosmosdb_sql_container", "azurerm_cosmosdb_sql_role_assignment",
    "azurerm_eventhub", "azurerm_eventhub_consumer_group", "azurerm_kubernetes_cluster_extension",
    "azurerm_kubernetes_cluster_node_pool", "azurerm_machine_learning_datastore_datalake_gen2",
    "azurerm_traffic_manager_azure_endpoint", "time_sleep",
    # A custom role is a subscription-level definition (Microsoft.Authorization/roleDefinitions), never listed.
    "azurerm_role_definition",
    # DNS record sets (privateDnsZones/<zone>/A/<name>) are proxy resources of their zone.
    "azurerm_private_dns_a_record",
    # Data Factory's children (factories/<name>/...): proxy resources, never in a resource group listing.
    "azurerm_data_factory_custom_dataset", "azurerm_data_factory_integration_runtime_azure",
    "azurerm_data_factory_linked_service_data_lake_storage_gen2", "azurerm_data_factory_managed_private_endpoint",
    "azurerm_data_factory_pipeline", "azurerm_data_factory_trigger_schedule",
    # An OpenAI account's deployments and content filters (accounts/<name>/...): proxy resources.
    "azurerm_cognitive_deployment", "azurerm_cognitive_account_rai_policy",
    "azurerm_data_factory_linked_custom_service",
    # A setting of the Databricks workspace (its DBFS root key), not a resource of its own.
    "azurerm_databricks_workspace_root_dbfs_customer_managed_key",
    # Workspace-level Databricks objects: the workspace's own API, not Resource Manager.
    "databricks_cluster_policy", "databricks_external_location", "databricks_ip_access_list", "databricks_job",
    "databricks_storage_credential", "databricks_workspace_conf", "databricks_workspace_file",
}


def test_every_synthesized_type_is_known_to_the_arm_shaped_listing(synth_out: Path) -> None:
    types = {t for stack in load_stacks(synth_out).values() for t in stack.resources()}
    unknown = types - set(ARM_LISTED) - set(ARM_LISTED_CHILDREN) - NOT_LISTED - {"azapi_resource"}
    assert not unknown, f"say how ARM lists {sorted(unknown)} (here and in tools/deploy/infra/arm_types.py)"


def _arm_listing(synth_out: Path) -> dict[str | None, list[dict[str, object]]]:
    """Resource group -> the `resources` listing ARM would return for deployed prod, with what Azure and the ML
    pipeline add next to the stacks' resources."""
    stacks = environment_stacks(load_stacks(synth_out), "prod")
    tags = {**PROD.all_tags}
    listing: dict[str | None, list[dict[str, object]]] = {}
    for stack in stacks.values():
        for tf_type, instances in stack.resources().items():
            for attributes in instances.values():
                name = stack.resolve(attributes.get("name"))
                group = stack.resolve(attributes.get("resource_group_name"))
                for listed_group, arm_type, listed_name in (_listed_as(stack, tf_type, attributes, group, name)
                                                            + _added_next_to(tf_type, group, name)):
                    listing.setdefault(listed_group, []).append({
                        "id": f"/x/{listed_name}", "name": listed_name, "type": arm_type, "tags": tags,
                        "location": "westeurope"})
    return listing


def _listed_as(stack: SynthStack, tf_type: str, attributes: dict[str, Any], group: str | None,
               name: str) -> list[tuple[str | None, str, str]]:
    """(group, ARM type, name) of the resource itself, as ARM lists it (none for what ARM does not list)."""
    if tf_type in ARM_LISTED:
        return [(group, ARM_LISTED[tf_type], name)]
    if tf_type in ARM_LISTED_CHILDREN:
        arm_type, parent_attribute = ARM_LISTED_CHILDREN[tf_type]
        parent = stack.referenced_name(attributes[parent_attribute])
        group = group or stack.referenced_name(attributes[parent_attribute], "resource_group_name")
        return [(group, arm_type, f"{parent}/{name}")]
    if tf_type != "azapi_resource" or attributes["type"].startswith(UNLISTED_AZAPI):
        return []
    arm_type = attributes["type"].split("@")[0]
    if "/resourceGroups/" in attributes["parent_id"]:
        return [(attributes["parent_id"].rsplit("/", 1)[-1], arm_type, name)]
    parent = stack.referenced_name(attributes["parent_id"])
    return [(stack.referenced_name(attributes["parent_id"], "resource_group_name"), arm_type, f"{parent}/{name}")]


def _added_next_to(tf_type: str, group: str | None, name: str) -> list[tuple[str | None, str, str]]:
    """What Azure (a NIC per private endpoint, a smart detector alert rule) or the ML pipeline (the endpoints)
    creates next to a resource of the stacks."""
    if tf_type == "azurerm_private_endpoint":
        return [(group, "Microsoft.Network/networkInterfaces", f"{name}.nic.6c1f0e2a-1d2b")]
    if tf_type == "azurerm_application_insights":
        return [(group, "microsoft.alertsmanagement/smartDetectorAlertRules", f"Failure Anomalies - {name}")]
    if tf_type == "azurerm_machine_learning_workspace":
        ml = "Microsoft.MachineLearningServices/workspaces"
        return [(group, f"{ml}/onlineEndpoints", f"{name}/carprice-online"),
                (group, f"{ml}/onlineEndpoints/deployments", f"{name}/carprice-online/blue"),
                (group, f"{ml}/batchEndpoints", f"{name}/carprice-batch")]
    return []


def _fake_arm(listing: dict[str | None, list[dict[str, object]]]) -> FakeArmTransport:
    fake = FakeArmTransport()
    for group, resources in listing.items():
        base = f"/subscriptions/{PROD.subscription_id}/resourcegroups/{group}"
        fake.route("GET", base, 200, {"id": base, "name": group, "location": "westeurope", "tags": PROD.all_tags})
        fake.route("GET", f"{base}/resources", 200, {"value": resources})
    return fake


def test_verify_with_fake_arm_transport_finds_no_drift_in_an_arm_shaped_listing(synth_out: Path) -> None:
    fake = _fake_arm(_arm_listing(synth_out))
    drift = verify("prod", synth_out, PROD.subscription_id, FakeCredential(), transport=fake)
    assert drift.unexpected == [] and drift.missing == [] and drift.tag_problems == [], render("prod", drift)
    assert not drift.drifted
    by_ml_pipeline = {r.arm_type.split("/")[-1] for r in drift.ml_pipeline}
    assert by_ml_pipeline == {"onlineEndpoints", "deployments", "batchEndpoints"}
    assert any(r.arm_type.endswith("networkInterfaces") for r in drift.azure_created)
    assert {r.method for r in fake.requests} == {"GET"}


def test_verify_with_fake_arm_transport_reports_a_missing_and_a_handmade_resource(synth_out: Path) -> None:
    listing = _arm_listing(synth_out)
    group = next(g for g, items in listing.items() if any(r["type"] == "Microsoft.KeyVault/vaults" for r in items))
    vault = next(r for r in listing[group] if r["type"] == "Microsoft.KeyVault/vaults")
    listing[group] = [r for r in listing[group] if r is not vault]
    listing[group].append({"id": "/x/vm", "name": "vm-handmade", "type": "Microsoft.Compute/virtualMachines",
                           "tags": {}, "location": "westeurope"})
    drift = verify("prod", synth_out, PROD.subscription_id, FakeCredential(), transport=_fake_arm(listing))
    assert [r.name for r in drift.missing] == [vault["name"]]
    assert [r.name for r in drift.unexpected] == ["vm-handmade"] and drift.drifted
