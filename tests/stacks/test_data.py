import pytest

from contract import FEED_LANDING_CONTAINER, LAKE_LAYERS, STREAM_SCORING_CONSUMER_GROUP

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


def test_lake_has_one_filesystem_per_medallion_layer_and_a_landing_one_for_feeds(synth):
    names = sorted(c["name"] for c in synth.resources("dev-data", "azurerm_storage_container"))
    assert names == sorted([*LAKE_LAYERS, FEED_LANDING_CONTAINER])


def test_raw_layer_ages_to_cooler_tiers(synth):
    policy = synth.one("dev-data", "azurerm_storage_management_policy")
    rule = policy["rule"][0]
    assert rule["filters"]["prefix_match"] == ["bronze/"]
    assert rule["actions"]["base_blob"]["tier_to_cool_after_days_since_modification_greater_than"] == 30


def test_private_lake_admits_no_public_network_only_the_capture_namespace(synth):
    rules = _lake(synth, "prod")["network_rules"]
    assert rules["default_action"] == "Deny"
    assert "ip_rules" not in rules and "virtual_network_subnet_ids" not in rules
    admitted = [a["endpoint_resource_id"] for a in rules["private_link_access"]]
    assert len(admitted) == 1 and admitted[0].startswith("${azurerm_eventhub_namespace.")


def test_private_lake_has_blob_and_dfs_endpoints(synth):
    subresources = sorted(
        e["private_service_connection"]["subresource_names"][0]
        for e in synth.resources("prod-data", "azurerm_private_endpoint")
    )
    # The lake (blob, dfs), the Event Hubs namespace, and Data Factory Studio and data plane.
    assert subresources == ["blob", "dataFactory", "dfs", "namespace", "portal"]


def test_event_hub_streams_with_entra_auth_and_a_scoring_consumer_group(synth):
    namespace = synth.one("dev-data", "azurerm_eventhub_namespace")
    assert namespace["local_authentication_enabled"] is False
    assert namespace["minimum_tls_version"] == "1.2"
    assert synth.one("dev-data", "azurerm_eventhub_consumer_group")["name"] == STREAM_SCORING_CONSUMER_GROUP


def test_stateful_lake_is_locked_in_prod_only(synth):
    assert len(synth.resources("prod-data", "azurerm_management_lock")) == 1
    assert synth.resources("dev-data", "azurerm_management_lock") == []
