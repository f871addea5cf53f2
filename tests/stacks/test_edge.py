import pytest

from contract import HEALTH_PATH

pytestmark = pytest.mark.xdist_group("stacks")


def test_prod_has_two_app_regions_each_behind_traffic_manager(synth):
    assert [n for n in synth.stack_names() if n.startswith("prod-app-")] == [
        "prod-app-northeurope", "prod-app-westeurope"]
    endpoints = synth.resources("prod-edge", "azurerm_traffic_manager_azure_endpoint")
    assert sorted(e["name"] for e in endpoints) == ["app-northeurope", "app-westeurope"]
    targets = " ".join(e["target_resource_id"] for e in endpoints)
    assert "prod-app-westeurope" in targets and "prod-app-northeurope" in targets


def test_dev_has_one_app_region_and_one_endpoint(synth):
    assert [n for n in synth.stack_names() if n.startswith("dev-app-")] == ["dev-app-westeurope"]
    assert len(synth.resources("dev-edge", "azurerm_traffic_manager_azure_endpoint")) == 1


def test_traffic_manager_probes_the_health_path_over_https(synth):
    profile = synth.one("prod-edge", "azurerm_traffic_manager_profile")
    assert profile["traffic_routing_method"] == "Performance"
    monitor = profile["monitor_config"]
    assert (monitor["protocol"], monitor["port"], monitor["path"]) == ("HTTPS", 443, HEALTH_PATH)
