import pytest

from contract import LAKE_LAYERS

pytestmark = pytest.mark.xdist_group("stacks")


def _lake(synth, env):
    return next(a for a in synth.resources(f"{env}-data", "azurerm_storage_account") if a["is_hns_enabled"])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_lake_is_adls_gen2_with_entra_only_access(synth, env):
    lake = _lake(synth, env)
    assert lake["shared_access_key_enabled"] is False
    assert lake["min_tls_version"] == "TLS1_2"
    assert lake["allow_nested_items_to_be_public"] is False
    assert lake["https_traffic_only_enabled"] is True
    assert lake["network_rules"]["default_action"] == "Deny"
    assert lake["blob_properties"]["delete_retention_policy"]["days"] >= 7


def test_lake_has_one_filesystem_per_medallion_layer(synth):
    names = sorted(c["name"] for c in synth.resources("dev-data", "azurerm_storage_container"))
    assert names == sorted(LAKE_LAYERS)


def test_raw_layer_ages_to_cooler_tiers(synth):
    policy = synth.one("dev-data", "azurerm_storage_management_policy")
    rule = policy["rule"][0]
    assert rule["filters"]["prefix_match"] == ["bronze/"]
    assert rule["actions"]["base_blob"]["tier_to_cool_after_days_since_modification_greater_than"] == 30


def test_private_lake_has_blob_and_dfs_endpoints(synth):
    assert _lake(synth, "prod")["public_network_access_enabled"] is False
    subresources = sorted(
        e["private_service_connection"]["subresource_names"][0]
        for e in synth.resources("prod-data", "azurerm_private_endpoint")
    )
    assert subresources == ["blob", "dfs", "namespace"]


def test_event_hub_streams_with_entra_auth_and_a_lake_consumer_group(synth):
    namespace = synth.one("dev-data", "azurerm_eventhub_namespace")
    assert namespace["local_authentication_enabled"] is False
    assert namespace["minimum_tls_version"] == "1.2"
    assert synth.one("dev-data", "azurerm_eventhub_consumer_group")["name"] == "lake-ingest"


def test_stateful_lake_is_locked_in_prod_only(synth):
    assert len(synth.resources("prod-data", "azurerm_management_lock")) == 1
    assert synth.resources("dev-data", "azurerm_management_lock") == []
