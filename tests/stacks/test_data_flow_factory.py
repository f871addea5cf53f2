"""Data Factory: the synthesized factory, runtime, endpoint, datasets, pipeline and trigger satisfy the checks
azurerm v4.81.0 runs at plan time (internal/services/datafactory/*) and the service rules they rely on."""

from __future__ import annotations

import json
import re

import pytest

import contract as c
from stacks.modules.data_factory import ingest_date_folder_expression

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]
# validate/datafactory.go (DataFactoryName, DataFactoryPipelineAndTriggerName, ManagedPrivateEndpointName)
FACTORY_NAME = r"^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$"
PIPELINE_OR_TRIGGER_NAME = r"^[A-Za-z0-9_][^<>*#.%&:\\+?/]*$"
MANAGED_ENDPOINT_NAME = r"^([a-zA-Z0-9][-._a-zA-Z0-9]{0,78}[_a-zA-Z0-9])$"
# data_factory_integration_runtime_azure_resource.go
RUNTIME_NAME = r"^([a-zA-Z0-9](-|-?[a-zA-Z0-9]+)+[a-zA-Z0-9])$"
# validate/linked_service_dataset_name.go refuses names made only of these characters
ONLY_FORBIDDEN = r"^[-.+?/<>*%&:\\]+$"


def _data(synth, env, tf_type):
    return synth.resources(f"{env}-data", tf_type)


@pytest.mark.parametrize("env", ENVS)
def test_names_pass_the_providers_validators(synth, env):
    assert re.match(FACTORY_NAME, synth.one(f"{env}-data", "azurerm_data_factory")["name"])
    for tf_type in ("azurerm_data_factory_pipeline", "azurerm_data_factory_trigger_schedule"):
        for resource in _data(synth, env, tf_type) + synth.resources(f"{env}-prep", tf_type):
            assert re.match(PIPELINE_OR_TRIGGER_NAME, resource["name"]), resource["name"]
    endpoint = synth.one(f"{env}-data", "azurerm_data_factory_managed_private_endpoint")
    assert re.match(MANAGED_ENDPOINT_NAME, endpoint["name"])
    assert re.match(RUNTIME_NAME, synth.one(f"{env}-data", "azurerm_data_factory_integration_runtime_azure")["name"])
    for tf_type in ("azurerm_data_factory_custom_dataset",
                    "azurerm_data_factory_linked_service_data_lake_storage_gen2"):
        for resource in _data(synth, env, tf_type):
            assert not re.match(ONLY_FORBIDDEN, resource["name"])


def test_customer_managed_key_comes_with_its_identity_attached_at_creation(synth):
    """validate.CMKIdentityIdRequiredAtCreation: a key without customer_managed_key_identity_id fails the plan;
    Data Factory can only use an identity that is also assigned to the factory."""
    prod = synth.one("prod-data", "azurerm_data_factory")
    assert prod["customer_managed_key_id"] and prod["customer_managed_key_identity_id"]
    assert prod["identity"]["type"] == "SystemAssigned, UserAssigned"
    assert prod["identity"]["identity_ids"] == [prod["customer_managed_key_identity_id"]]
    # Versionless key URL: "If not provided, latest version will be used" (EncryptionConfiguration.keyVersion).
    assert "versionless_id" in prod["customer_managed_key_id"]
    dev = synth.one("dev-data", "azurerm_data_factory")
    assert "customer_managed_key_id" not in dev and dev["identity"]["type"] == "SystemAssigned"


@pytest.mark.parametrize("env", ENVS)
def test_copies_run_in_the_managed_network_and_reach_the_lake_privately_by_identity(synth, env):
    factory = synth.one(f"{env}-data", "azurerm_data_factory")
    # Turning the managed network off later forces a new factory (CustomizeDiff ForceNewIfChange): on from day one.
    assert factory["managed_virtual_network_enabled"] is True
    runtime = synth.one(f"{env}-data", "azurerm_data_factory_integration_runtime_azure")
    assert runtime["virtual_network_enabled"] is True
    endpoint = synth.one(f"{env}-data", "azurerm_data_factory_managed_private_endpoint")
    lake_account = next(a for a in synth.resources(f"{env}-data", "azurerm_storage_account") if a["is_hns_enabled"])
    assert endpoint["subresource_name"] == "dfs"
    assert synth.referenced(f"{env}-data", endpoint["target_resource_id"]).name == lake_account["name"]
    lake = synth.one(f"{env}-data", "azurerm_data_factory_linked_service_data_lake_storage_gen2")
    # use_managed_identity ConflictsWith every key, secret and tenant argument.
    assert lake["use_managed_identity"] is True
    assert not {"storage_account_key", "service_principal_key", "service_principal_id", "tenant"} & set(lake)
    assert lake["integration_runtime_name"].startswith("${azurerm_data_factory_integration_runtime_azure.")
    assert lake["url"].endswith("primary_dfs_endpoint}")


def test_public_access_is_off_in_a_private_environment_with_private_endpoints_for_studio(synth):
    assert synth.one("prod-data", "azurerm_data_factory")["public_network_enabled"] is False
    endpoints = {e["private_service_connection"]["subresource_names"][0]: e["private_dns_zone_group"]
                 for e in synth.resources("prod-data", "azurerm_private_endpoint")}
    assert {"dataFactory", "portal"} <= set(endpoints)


@pytest.mark.parametrize("env", ENVS)
def test_the_stacks_are_the_one_owner_of_the_factory_content(synth, env):
    """No Git mode: a Studio publish from a collaboration branch would overwrite the pipeline and trigger that
    Terraform manages (Learn "Source control in Azure Data Factory": publishing updates the live factory)."""
    factory = synth.one(f"{env}-data", "azurerm_data_factory")
    assert "vsts_configuration" not in factory and "github_configuration" not in factory
    assert synth.one(f"{env}-data", "azurerm_data_factory_pipeline")["name"] == "ingest_dealer_feeds"


@pytest.mark.parametrize("env", ENVS)
def test_factory_identity_may_touch_landing_and_bronze_only(synth, env):
    grants = [g for g in _data(synth, env, "azurerm_role_assignment") if "azurerm_data_factory." in g["principal_id"]]
    scoped = sorted(synth.container_of(f"{env}-data", g["scope"]) for g in grants)
    assert scoped == sorted([c.FEED_LANDING_CONTAINER, "bronze"])
    assert {g["role_definition_name"] for g in grants} == {"Storage Blob Data Contributor"}


@pytest.mark.parametrize("env", ENVS)
def test_datasets_are_binary_over_the_adls_gen2_linked_service(synth, env):
    """azurerm_data_factory_dataset_binary has no azure_blob_fs_location (only blob, HTTP, SFTP), so the datasets
    are custom Binary datasets with an AzureBlobFSLocation over the ADLS Gen2 linked service."""
    datasets = {d["name"]: d for d in _data(synth, env, "azurerm_data_factory_custom_dataset")}
    for dataset in datasets.values():
        assert dataset["type"] == "Binary"
        assert dataset["linked_service"]["name"].endswith(".name}")
        assert json.loads(dataset["type_properties_json"])["location"]["type"] == "AzureBlobFSLocation"
    landing = json.loads(datasets["landing_feeds"]["type_properties_json"])["location"]
    assert landing["fileSystem"] == c.FEED_LANDING_CONTAINER
    bronze = json.loads(datasets["bronze_feeds"]["type_properties_json"])["location"]
    assert bronze["fileSystem"] == "bronze" and bronze["folderPath"]["value"] == "@dataset().folder"


@pytest.mark.parametrize("env", ENVS)
def test_pipeline_moves_each_feed_format_into_its_ingest_date_partition(synth, env):
    pipeline = synth.one(f"{env}-data", "azurerm_data_factory_pipeline")
    assert 1 <= pipeline["concurrency"] <= 50  # IntBetween(1, 50); 1 keeps two runs off the same files
    activities = json.loads(pipeline["activities_json"])
    patterns = [a["typeProperties"]["source"]["storeSettings"]["wildcardFileName"] for a in activities]
    assert patterns == [f"*{suffix}" for suffix in c.FEED_FILE_SUFFIXES]
    for activity in activities:
        source = activity["typeProperties"]["source"]["storeSettings"]
        assert source["deleteFilesAfterCompletion"] is True  # a feed file is ingested once
        folder = activity["outputs"][0]["parameters"]["folder"]
        assert folder == {"value": ingest_date_folder_expression(), "type": "Expression"}
    assert f"'{c.LAKE_FEEDS_FOLDER}/{c.FEED_INGEST_DATE_KEY}='" in ingest_date_folder_expression()
    assert "formatDateTime(pipeline().TriggerTime, 'yyyy-MM-dd')" in ingest_date_folder_expression()


@pytest.mark.parametrize("env", ENVS)
def test_schedule_trigger_is_valid_and_waits_for_what_its_pipeline_reaches(synth, env):
    # Both environments have the Databricks tier: the one schedule runs ingest-then-prep from the prep stack
    # (tests/stacks/test_data_factory.py covers the data stack's schedule without it).
    trigger = synth.one(f"{env}-prep", "azurerm_data_factory_trigger_schedule")
    assert trigger["frequency"] in {"Minute", "Hour", "Day", "Week", "Month"}
    assert trigger["interval"] >= 1
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", trigger["start_time"])  # IsRFC3339Time
    assert "pipeline" not in trigger and trigger["pipeline_name"]  # ExactlyOneOf pipeline, pipeline_name
    # Created stopped, started by `make approve-private-endpoints` once the lake endpoint is approved.
    assert trigger["activated"] is False and trigger["lifecycle"]["ignore_changes"] == ["activated"]
    # The lake grants are the data stack's, applied before; the workspace grant and endpoint are this stack's.
    waited = sorted(d.tf_type for d in synth.dependencies(f"{env}-prep", trigger))
    assert waited == ["azurerm_data_factory_managed_private_endpoint", "azurerm_role_assignment"]
