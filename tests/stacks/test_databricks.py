"""The Databricks tier as synthesized: a VNet-injected Premium workspace with no public IPs, private in private
environments, an access connector with data roles on exactly the lake layers prep touches, Unity Catalog's
external locations, cluster policies, the pinned job, and the factory running it after ingest."""

from __future__ import annotations

import json
import re
from importlib.metadata import version

import pytest

from stacks.config import ENVIRONMENTS_DIR, ConfigError, load_environment
from stacks.modules.databricks_jobs import CODE_ROOT, JOB_ENTRY, job_code
from tests.environments import write_environment

pytestmark = pytest.mark.xdist_group("stacks")
ENVIRONMENTS = ("dev", "prod")


def _write_env(tmp_path, kind, change):
    return write_environment(tmp_path, kind, change)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_workspace_is_premium_injected_and_has_no_public_ips(synth, env):
    workspace = synth.one(f"{env}-databricks", "azurerm_databricks_workspace")
    params = workspace["custom_parameters"]
    assert workspace["sku"] == "premium" and params["no_public_ip"] is True
    assert "databricks-host" in params["public_subnet_name"] and "databricks-container" in params["private_subnet_name"]
    assert params["public_subnet_network_security_group_association_id"]
    assert params["private_subnet_network_security_group_association_id"]
    subnets = synth.stack(f"{env}-foundation")["resource"]["azurerm_subnet"]
    delegated = [s for s in subnets.values() if s.get("delegation")
                 and s["delegation"][0]["service_delegation"]["name"] == "Microsoft.Databricks/workspaces"]
    assert len(delegated) == 2
    # Both subnets leave through the platform's NAT gateway (the ML stack's).
    nat = synth.resources(f"{env}-databricks", "azurerm_subnet_nat_gateway_association")
    assert len(nat) == 2 and all("NatGateway" in a["nat_gateway_id"] or "nat_gateway" in a["nat_gateway_id"]
                                 for a in nat)


def test_public_access_follows_the_environment_with_the_provider_rule_for_private_workspaces(synth):
    prod = synth.one("prod-databricks", "azurerm_databricks_workspace")
    dev = synth.one("dev-databricks", "azurerm_databricks_workspace")
    # databricks_workspace_resource.go (v4.81.0): public access off forbids "AllRules".
    assert (prod["public_network_access_enabled"], prod["network_security_group_rules_required"]) == (
        False, "NoAzureDatabricksRules")
    assert dev["public_network_access_enabled"] is True
    # dev's public endpoint admits only the environment's ranges, like the other data planes.
    allowed = synth.one("dev-prep", "databricks_ip_access_list")
    assert allowed["list_type"] == "ALLOW" and allowed["ip_addresses"] == ["203.0.113.0/24"]
    assert not synth.resources("prod-prep", "databricks_ip_access_list")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_private_endpoints_for_the_api_and_browser_sign_in(synth, env):
    endpoints = synth.resources(f"{env}-databricks", "azurerm_private_endpoint")
    subresources = sorted(e["private_service_connection"]["subresource_names"][0] for e in endpoints)
    assert subresources == ["browser_authentication", "databricks_ui_api"]
    zones = synth.stack(f"{env}-foundation")["resource"]["azurerm_private_dns_zone"]
    assert "privatelink.azuredatabricks.net" in {z["name"] for z in zones.values()}
    assert synth.resources(f"{env}-databricks", "azurerm_monitor_diagnostic_setting")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_customer_managed_keys_for_disks_and_the_workspace_storage(synth, env):
    workspace = synth.one(f"{env}-databricks", "azurerm_databricks_workspace")
    # A versioned key URL (the provider validates VersionTypeVersioned); the workspace follows rotations.
    key = synth.referenced(f"{env}-databricks", workspace["managed_disk_cmk_key_vault_key_id"])
    assert (key.tf_type, key.name, key.attribute) == ("azurerm_key_vault_key", "cmk-disks", "id")  # `id`: versioned
    assert workspace["customer_managed_key_enabled"] is True
    assert workspace["managed_disk_cmk_rotation_to_latest_version_enabled"] is True
    dbfs = synth.one(f"{env}-databricks", "azurerm_databricks_workspace_root_dbfs_customer_managed_key")
    assert synth.referenced(f"{env}-databricks", dbfs["key_vault_key_id"]).name == "cmk-storage"
    roles = {g["role_definition_name"] for g in synth.resources(f"{env}-databricks", "azurerm_role_assignment")}
    assert "Key Vault Crypto Service Encryption User" in roles


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_managed_services_are_encrypted_through_the_azuredatabricks_application(synth, env):
    config = load_environment(ENVIRONMENTS_DIR / f"{env}.yaml").databricks
    stack = f"{env}-databricks"
    workspace = synth.one(stack, "azurerm_databricks_workspace")
    # Versioned key id (ValidateNestedItemID(VersionTypeVersioned)); the vault is in the workspace's subscription.
    assert workspace["managed_services_cmk_key_vault_key_id"].endswith("KeyStorage_D74F08F2id}")
    assert "managed_services_cmk_key_vault_id" not in workspace
    (grant,) = [g for g in synth.resources(stack, "azurerm_role_assignment")
                if g["principal_id"] == config.azure_databricks_object_id]
    assert grant["role_definition_name"] == "Key Vault Crypto Service Encryption User"  # get, wrap, unwrap
    assert "azurerm_key_vault" in grant["scope"]
    # The workspace is created (or re-keyed) only after the grant has propagated.
    (wait,) = synth.resources(stack, "time_sleep")
    assert any(d.startswith("azurerm_role_assignment.Workspace_GrantManagedServicesKeyUser")
               for d in wait["depends_on"])
    assert any(d.startswith("time_sleep.Workspace_ManagedServicesKeyPropagation") for d in workspace["depends_on"])


def test_the_azuredatabricks_object_id_is_required_and_checked(tmp_path):
    path = _write_env(tmp_path, "public", lambda d: d["databricks"].pop("azure_databricks_object_id"))
    with pytest.raises(ConfigError, match="databricks.azure_databricks_object_id"):
        load_environment(path)
    path = _write_env(tmp_path, "public",
                      lambda d: d["databricks"].update(azure_databricks_object_id="AzureDatabricks"))
    with pytest.raises(ConfigError, match="databricks.azure_databricks_object_id"):
        load_environment(path)


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_unity_catalog_is_checked_at_plan_before_anything_uses_it(synth, env):
    stack = f"{env}-prep"
    metastore = synth.stack(stack)["data"]["databricks_current_metastore"]
    ((address, data),) = metastore.items()
    (check,) = data["lifecycle"]["postcondition"]
    # catalog/data_current_metastore.go reads "No metastore assigned for the current workspace" as this id.
    assert check["condition"] == '${self.id != "no_metastore"}' and "account admin" in check["error_message"]
    credential = synth.one(stack, "databricks_storage_credential")
    assert credential["depends_on"] == [f"data.databricks_current_metastore.{address}"]
    assert not synth.resources(stack, "databricks_metastore_assignment")  # needs an account-level provider


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_access_connector_writes_exactly_the_layers_prep_touches(synth, env):
    stack = f"{env}-databricks"
    grants = [g for g in synth.resources(stack, "azurerm_role_assignment")
              if "databricks_access_connector" in g["principal_id"]]
    # The data stack's containers, referenced across stacks by their construct ids.
    assert sorted(re.search(r"Filesystem([A-Z][a-z]+)_", g["scope"]).group(1).lower() for g in grants) == [
        "bronze", "gold", "silver"]
    assert {g["role_definition_name"] for g in grants} == {"Storage Blob Data Contributor"}
    locations = synth.resources(f"{env}-prep", "databricks_external_location")
    lake = load_environment(ENVIRONMENTS_DIR / f"{env}.yaml")
    account = f"stcarprice{lake.name}lake"
    assert sorted(loc["url"].split("@")[0] for loc in locations) == ["abfss://bronze", "abfss://gold", "abfss://silver"]
    assert all(loc["url"].split("@")[1].startswith(account) for loc in locations)
    credential = synth.one(f"{env}-prep", "databricks_storage_credential")
    assert credential["azure_managed_identity"]["access_connector_id"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_job_pins_the_runtime_of_the_tested_spark_and_the_environments_bounds(synth, env):
    config = load_environment(ENVIRONMENTS_DIR / f"{env}.yaml").databricks
    job = synth.one(f"{env}-prep", "databricks_job")
    cluster = job["job_cluster"][0]["new_cluster"]
    assert cluster["spark_version"] == config.runtime == "17.3.x-scala2.13"
    assert version("pyspark") == "4.0.0"  # Databricks Runtime 17.3 LTS: Apache Spark 4.0.0
    assert (cluster["autoscale"]["min_workers"], cluster["autoscale"]["max_workers"]) == (
        config.min_workers, config.max_workers)
    assert cluster["node_type_id"] == config.node_type and cluster["policy_id"]
    task = job["task"][0]
    assert task["spark_python_task"]["python_file"] == f"{CODE_ROOT}/{JOB_ENTRY}"
    assert task["spark_python_task"]["parameters"][0] == "--lake-root"
    files = {f["path"] for f in synth.resources(f"{env}-prep", "databricks_workspace_file")}
    assert files == set(job_code()) and f"{CODE_ROOT}/{JOB_ENTRY}" in files
    assert {lib["pypi"]["package"].split("==")[0] for lib in task["library"]} == {"fastavro", "deltalake"}


def test_cluster_policies_stop_oversized_and_shared_clusters(synth):
    found = synth.resources("prod-prep", "databricks_cluster_policy")
    policies = {p["name"]: json.loads(p["definition"]) for p in found}
    interactive = policies["carprice-prep-interactive"]
    assert interactive["autoscale.max_workers"]["maxValue"] == interactive["num_workers"]["maxValue"] == 4
    assert interactive["data_security_mode"] == {"type": "fixed", "value": "SINGLE_USER"}
    assert interactive["node_type_id"]["type"] == "allowlist"
    assert interactive["autotermination_minutes"]["maxValue"] == 30
    jobs = policies["carprice-prep-jobs"]
    assert jobs["autoscale.max_workers"]["maxValue"] == 8 and jobs["spark_version"]["value"] == "17.3.x-scala2.13"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_factory_runs_the_job_after_ingest_with_its_managed_identity(synth, env):
    stack = f"{env}-prep"
    service = synth.one(stack, "azurerm_data_factory_linked_custom_service")
    assert service["type"] == "AzureDatabricks"
    assert json.loads(service["type_properties_json"])["authentication"] == "MSI"
    pipeline = synth.one(stack, "azurerm_data_factory_pipeline")
    ingest, prep = json.loads(pipeline["activities_json"])
    assert ingest["type"] == "ExecutePipeline" and ingest["typeProperties"]["waitOnCompletion"] is True
    assert prep["type"] == "DatabricksJob" and prep["dependsOn"][0]["activity"] == ingest["name"]
    assert "databricks_job" in prep["typeProperties"]["jobId"]
    grant = next(g for g in synth.resources(stack, "azurerm_role_assignment")
                 if g["role_definition_name"] == "Contributor")
    assert "azurerm_databricks_workspace" in grant["scope"]  # the databricks stack's workspace, by reference
    workspace = synth.one(f"{env}-databricks", "azurerm_databricks_workspace")
    endpoint = synth.one(stack, "azurerm_data_factory_managed_private_endpoint")
    assert endpoint["subresource_name"] == "databricks_ui_api"
    # The workspace's ARM id as a literal, so the approval step can read which workspace the endpoint targets.
    assert endpoint["target_resource_id"].endswith(f"/resourceGroups/{workspace['resource_group_name']}"
                                                   f"/providers/Microsoft.Databricks/workspaces/{workspace['name']}")


def test_a_subnet_smaller_than_26_is_refused_with_its_key(tmp_path):
    path = _write_env(tmp_path, "public", lambda d: d["databricks"].update(host_subnet="10.20.8.0/27"))
    with pytest.raises(ConfigError, match=r"databricks.host_subnet.*smaller than /26"):
        load_environment(path)


def test_a_subnet_outside_the_network_is_refused(tmp_path):
    path = _write_env(tmp_path, "public", lambda d: d["databricks"].update(container_subnet="10.99.9.0/24"))
    with pytest.raises(ConfigError, match="container_subnet 10.99.9.0/24 is outside address_space"):
        load_environment(path)
