"""The functions stack: deployed after everything it reads, wired to the contract's names."""

import json

import pytest

import contract as c
from stacks.config import ENVIRONMENTS_DIR, load_environment
from stacks.modules.propagation import ROLE_PROPAGATION_WAIT

pytestmark = pytest.mark.xdist_group("stacks")


def test_functions_stack_deploys_after_foundation_data_ml_and_global_data(synth):
    manifest = json.loads((synth.root / "manifest.json").read_text())["stacks"]
    deps = set(manifest["prod-functions"]["dependencies"])
    assert {"prod-foundation", "prod-data", "prod-ml", "prod-global-data"} <= deps
    assert not any("functions" in d for name, entry in manifest.items() for d in entry["dependencies"])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_settings_name_the_contract_containers_and_hub(synth, env):
    site = next(r for r in synth.resources(f"{env}-functions", "azapi_resource")
                if r["type"].startswith("Microsoft.Web/sites@"))
    settings = {s["name"]: s["value"] for s in site["body"]["properties"]["siteConfig"]["appSettings"]}
    assert settings[c.SETTING_COSMOS_DATABASE] == c.COSMOS_DATABASE
    assert settings[c.SETTING_HISTORY_CONTAINER] == c.HISTORY_CONTAINER
    assert settings[c.SETTING_SCORING_MODE] == "local"
    # The same online endpoint the web app calls in remote mode: the AKS inference router, by its private name.
    config = load_environment(ENVIRONMENTS_DIR / f"{env}.yaml")
    https = config.aks.inference_tls is not None
    assert settings[c.SETTING_ENDPOINT_URL] == c.online_scoring_url(env, config.scoring_host, https=https)


def test_host_storage_is_private_in_every_environment(synth):
    for env in ("dev", "prod"):
        account = synth.one(f"{env}-functions", "azurerm_storage_account")
        assert account["public_network_access_enabled"] is False
        assert account["shared_access_key_enabled"] is False
        endpoints = synth.resources(f"{env}-functions", "azurerm_private_endpoint")
        assert "blob" in {e["private_service_connection"]["subresource_names"][0] for e in endpoints}


def test_remote_scoring_is_off_so_no_workspace_role_is_granted(synth):
    roles = {r["role_definition_name"] for r in synth.resources("prod-functions", "azurerm_role_assignment")}
    assert "AzureML Data Scientist" not in roles


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_deployer_may_read_the_deployed_package_for_a_rollback(synth, env):
    """tools/deploy/app/functions_rollout.py downloads the running package before it deploys a new one."""
    account = synth.one(f"{env}-functions", "azurerm_storage_account")
    readers = [r for r in synth.resources(f"{env}-functions", "azurerm_role_assignment")
               if r["role_definition_name"] == "Storage Blob Data Reader"]
    assert len(readers) == 1
    scope = synth.referenced(f"{env}-functions", readers[0]["scope"])
    assert (scope.tf_type, scope.name, scope.attribute) == ("azurerm_storage_account", account["name"], "id")
    # The principal applying this stack, read by the stack itself (not the foundation's applier).
    assert readers[0]["principal_id"] == "${data.azurerm_client_config.Client.object_id}"
    assert account["name"].startswith(f"stcarprice{env}func")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_host_storage_serves_exactly_the_services_the_flex_host_uses(synth, env):
    """Blob (state, keys, checkpoints, the package) and table (the host's diagnostic events,
    azure-functions-host#10163), each through its endpoint and with the app identity's data role; no queue or
    file (Learn storage-considerations: Durable Functions, blob/queue triggers, Consumption/Premium content)."""
    endpoints = synth.resources(f"{env}-functions", "azurerm_private_endpoint")
    storage = {e["private_service_connection"]["subresource_names"][0] for e in endpoints
               if e["private_service_connection"]["private_connection_resource_id"].startswith("${azurerm_storage")}
    assert storage == {"blob", "table"}
    roles = {g["role_definition_name"] for g in synth.resources(f"{env}-functions", "azurerm_role_assignment")
             if g["scope"].startswith("${azurerm_storage_account.")}
    assert {"Storage Blob Data Owner", "Storage Table Data Contributor"} <= roles


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_app_starts_only_after_its_host_storage_grants_have_propagated(synth, env):
    """The Functions host reads its storage as soon as it starts; RBAC takes minutes to reach storage."""
    document = synth.stack(f"{env}-functions")
    sites = document["resource"]["azapi_resource"].values()
    (site,) = [r for r in sites if r["type"].startswith("Microsoft.Web/sites@")]
    waits = [ref.partition(".")[2] for ref in site["depends_on"] if ref.startswith("time_sleep.")]
    assert len(waits) == 1
    wait = document["resource"]["time_sleep"][waits[0]]
    assert wait["create_duration"] == ROLE_PROPAGATION_WAIT
    host_storage = synth.one(f"{env}-functions", "azurerm_storage_account")["name"]
    waited = [g.attributes for g in synth.dependencies(f"{env}-functions", wait)
              if g.tf_type == "azurerm_role_assignment"]
    assert "Storage Blob Data Owner" in [g["role_definition_name"] for g in waited
                                         if synth.referenced(f"{env}-functions", g["scope"]).name == host_storage]
