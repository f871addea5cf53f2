"""Deploy readiness of storage accounts, the lake and Key Vault: what a first `cdktn deploy` relies on.

Each test pins one constraint read from the azurerm provider at v4.81.0 or Microsoft Learn; the source is
listed in docs/deploy-readiness.md ("Foundation, storage, Key Vault, web tier and edge").
"""

from __future__ import annotations

import pytest

from contract import LAKE_LAYERS

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ("dev", "prod")
STORAGE_STACKS = [f"{env}-{unit}" for env in ENVS for unit in ("data", "ml")]


def _ref(tf_type: str, key: str) -> str:
    return f"{tf_type}.{key}"


def _keyed(synth, stack: str, tf_type: str) -> dict[str, dict]:
    return synth.stack(stack).get("resource", {}).get(tf_type, {})


@pytest.mark.parametrize("stack", STORAGE_STACKS)
def test_storage_data_plane_is_never_called_while_deploying(synth, stack):
    """storage_account_resource.go polls blob/queue after create and reads queue properties on refresh unless
    `features.storage.data_plane_available` is false; with it false, inline queue_properties are refused."""
    provider = synth.stack(stack)["provider"]["azurerm"][0]
    assert provider["features"][0]["storage"][0]["data_plane_available"] is False
    for account in synth.resources(stack, "azurerm_storage_account"):
        assert "queue_properties" not in account and "static_website" not in account
    for container in synth.resources(stack, "azurerm_storage_container"):
        assert "storage_account_id" in container and "storage_account_name" not in container  # ARM, not data plane


@pytest.mark.parametrize("stack", STORAGE_STACKS)
def test_queue_requests_are_logged_through_resource_manager(synth, stack):
    """Queue read/write/delete logging moved from Storage Analytics (data plane) to a diagnostic setting."""
    targets = {d["target_resource_id"] for d in synth.resources(stack, "azurerm_monitor_diagnostic_setting")}
    for key in _keyed(synth, stack, "azurerm_storage_account"):
        assert f"${{{_ref('azurerm_storage_account', key)}.id}}/queueServices/default" in targets


@pytest.mark.parametrize("env", ENVS)
def test_vault_keys_and_secrets_wait_for_endpoint_and_role_propagation(synth, env):
    """AVM key vault main.keys.tf: keys depend on the private endpoints and a time_sleep after the grants."""
    stack = f"{env}-foundation"
    sleeps = _keyed(synth, stack, "time_sleep")
    assert len(sleeps) == 1
    (sleep_key, sleep), = sleeps.items()
    grants = {
        _ref("azurerm_role_assignment", key)
        for key, grant in _keyed(synth, stack, "azurerm_role_assignment").items()
        if "azurerm_key_vault.KeyVault" in grant["scope"]
    }
    assert grants and set(sleep["depends_on"]) == grants
    assert int(sleep["create_duration"].removesuffix("s")) >= 120
    vault_endpoints = {
        _ref("azurerm_private_endpoint", key)
        for key, endpoint in _keyed(synth, stack, "azurerm_private_endpoint").items()
        if endpoint["private_service_connection"]["subresource_names"] == ["vault"]
    }
    assert vault_endpoints
    writes = [*synth.resources(stack, "azurerm_key_vault_key"), *synth.resources(stack, "azurerm_key_vault_secret")]
    assert len(writes) >= 4
    for write in writes:
        assert _ref("time_sleep", sleep_key) in write["depends_on"]
        assert vault_endpoints <= set(write["depends_on"])
    assert "time" in synth.stack(stack)["terraform"]["required_providers"]


@pytest.mark.parametrize("env", ENVS)
def test_lake_never_tiers_to_archive_because_it_is_gzrs(synth, env):
    """Archive supports only LRS, GRS and RA-GRS ("Access tiers for blob data", Microsoft Learn)."""
    lake = next(a for a in synth.resources(f"{env}-data", "azurerm_storage_account") if a["is_hns_enabled"])
    assert lake["account_replication_type"] == "GZRS"
    base_blob = synth.one(f"{env}-data", "azurerm_storage_management_policy")["rule"][0]["actions"]["base_blob"]
    assert not any("archive" in key for key in base_blob)
    assert base_blob["tier_to_cold_after_days_since_modification_greater_than"] > base_blob[
        "tier_to_cool_after_days_since_modification_greater_than"
    ]


@pytest.mark.parametrize("env", ENVS)
def test_lake_grants_are_scoped_to_the_container_resources(synth, env):
    """One Contributor grant per layer for the ML identity (prep writes bronze, silver and gold), each scoped
    to the container's Resource Manager id so it depends on the container; no duplicate Reader grants."""
    stack = f"{env}-data"
    grants = [
        g for g in synth.resources(stack, "azurerm_role_assignment")
        if synth.referenced(stack, g["scope"]).tf_type == "azurerm_storage_container"
        and synth.name_of(stack, g["principal_id"]) == f"id-carprice-{env}-ml"
    ]
    by_layer = {synth.referenced(stack, g["scope"]).name: g for g in grants}
    assert sorted(by_layer) == sorted(LAKE_LAYERS) and len(grants) == len(LAKE_LAYERS)
    assert {g["role_definition_name"] for g in grants} == {"Storage Blob Data Contributor"}
    assert len({g["principal_id"] for g in grants}) == 1


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_foundation_vault_writes_wait_for_the_agents_route_in_the_same_apply(synth, env):
    """The pipeline's agents reach the vault through peering and DNS links the foundation itself creates, so
    every key, secret and certificate the foundation writes waits for them as well as for the endpoint."""
    stack = synth.stack(f"{env}-foundation")["resource"]
    route_kinds = ("azurerm_virtual_network_peering", "azurerm_private_dns_zone_virtual_network_link")
    route = {f"{kind}.{key}" for kind in route_kinds for key in stack[kind] if key.startswith("AgentNetwork_")}
    vault_link = next(r for r in route if "DnsLinkVaultcoreAzure" in r)
    writes = [w for kind in ("azurerm_key_vault_key", "azurerm_key_vault_secret", "azurerm_key_vault_certificate")
              for w in stack.get(kind, {}).values()]
    assert writes and vault_link
    for write in writes:
        assert route <= set(write["depends_on"])
