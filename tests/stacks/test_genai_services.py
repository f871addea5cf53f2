"""Constraints of Azure OpenAI and Azure AI Search the genai stack relies on, read at their sources
(docs/deploy-readiness.md, "Generative AI: Azure OpenAI and AI Search") and pinned on the synthesized output."""

import inspect

import pytest
from cdktn_provider_azurerm.cognitive_account import CognitiveAccount
from cdktn_provider_azurerm.search_service import SearchService

from stacks.modules.interfaces import PRIVATE_DNS_ZONES

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]


@pytest.mark.parametrize("env", ENVS)
def test_entra_id_only_needs_the_custom_subdomain_and_keys_off_explicitly(synth, env):
    account = synth.one(f"{env}-genai", "azurerm_cognitive_account")
    # network_acls is RequiredWith custom_subdomain_name; tokens are accepted only on the custom subdomain.
    assert account["custom_subdomain_name"] == account["name"]
    # Both providers default local auth to true: leaving the argument out keeps keys working.
    assert account["local_auth_enabled"] is False
    assert synth.one(f"{env}-genai", "azurerm_search_service")["local_authentication_enabled"] is False


@pytest.mark.parametrize("env", ENVS)
def test_the_account_makes_no_outbound_calls(synth, env):
    account = synth.one(f"{env}-genai", "azurerm_cognitive_account")
    assert account["outbound_network_access_restricted"] is True
    assert account["fqdns"] == []
    # dynamic throttling is refused for kind OpenAI (CustomizeDiff): never set.
    assert "dynamic_throttling_enabled" not in account


@pytest.mark.parametrize("env", ENVS)
def test_deployments_never_upgrade_their_model_by_themselves(synth, env):
    for deployment in synth.resources(f"{env}-genai", "azurerm_cognitive_deployment"):
        # The provider's default is OnceNewDefaultVersionAvailable.
        assert deployment["version_upgrade_option"] == "NoAutoUpgrade"
        assert deployment["model"]["version"]


@pytest.mark.parametrize("env", ENVS)
def test_every_deployment_runs_under_the_filter_that_blocks_prompt_attacks(synth, env):
    [policy] = synth.resources(f"{env}-genai", "azurerm_cognitive_account_rai_policy")
    blocking = {
        (f["name"], f["source"]) for f in policy["content_filter"] if f["filter_enabled"] and f["block_enabled"]
    }
    assert {("Jailbreak", "Prompt"), ("Indirect Attack", "Prompt")} <= blocking
    for category in ("Hate", "Sexual", "Violence", "Selfharm"):
        assert {(category, "Prompt"), (category, "Completion")} <= blocking
    # severity_threshold is required on every filter, the prompt shields included (provider issue #28653).
    assert all(f["severity_threshold"] in ("Low", "Medium", "High") for f in policy["content_filter"])
    assert policy["mode"] == "Default"  # not Asynchronous_filter: streamed text is checked before it is sent
    for deployment in synth.resources(f"{env}-genai", "azurerm_cognitive_deployment"):
        assert deployment["rai_policy_name"].startswith("${azurerm_cognitive_account_rai_policy.")


def test_openai_has_no_customer_managed_key_because_the_platform_vault_cannot_serve_one(synth):
    """Azure OpenAI CMK needs a system-assigned identity, a vault with legacy access policies and an RSA 2048 key.
    Should the platform's vault or keys change to meet that, this test fails and the decision is revisited."""
    account = synth.one("prod-genai", "azurerm_cognitive_account")
    assert "customer_managed_key" not in account
    assert account["identity"]["type"] == "UserAssigned"
    vault = synth.one("prod-foundation", "azurerm_key_vault")
    assert vault["rbac_authorization_enabled"] is True
    keys = synth.resources("prod-foundation", "azurerm_key_vault_key")
    assert keys and all(key["key_size"] != 2048 for key in keys)


def test_search_can_only_enforce_customer_managed_keys_so_enforcement_stays_off(synth):
    """azurerm 4.81.0 sets enforcement only; the key itself is part of each index definition (data plane)."""
    arguments = inspect.signature(SearchService.__init__).parameters
    assert "customer_managed_key_enforcement_enabled" in arguments
    assert not [a for a in arguments if a.startswith("customer_managed_key") and a.endswith("key_id")]
    for env in ENVS:
        assert synth.one(f"{env}-genai", "azurerm_search_service")["customer_managed_key_enforcement_enabled"] is False
    # The cognitive account, by contrast, would take a key inline.
    assert "customer_managed_key" in inspect.signature(CognitiveAccount.__init__).parameters


def test_model_upgrades_are_not_blocked_by_a_delete_lock_while_the_index_is_locked(synth):
    locks = [lock["scope"] for lock in synth.resources("prod-genai", "azurerm_management_lock")]
    assert len(locks) == 1 and "azurerm_search_service" in locks[0]  # a lock on the account covers deployments
    assert not synth.resources("dev-genai", "azurerm_management_lock")


def test_every_app_region_reaches_both_services_through_its_own_endpoints_and_zones(synth):
    endpoints = synth.resources("prod-genai", "azurerm_private_endpoint")
    by = {(e["private_service_connection"]["subresource_names"][0], e["location"]): e for e in endpoints}
    regions = ("westeurope", "northeurope")
    assert set(by) == {(sub, region) for sub in ("account", "searchService") for region in regions}
    for (_, region), endpoint in by.items():
        [zone] = endpoint["private_dns_zone_group"]["private_dns_zone_ids"]
        # Extra regions register in their own copy of the zone (PrivateDnsNortheurope), the primary in the primary.
        assert ("PrivateDnsNortheurope" in zone) == (region == "northeurope")
    assert PRIVATE_DNS_ZONES["account"] == ("privatelink.openai.azure.com",)
    assert PRIVATE_DNS_ZONES["searchService"] == ("privatelink.search.windows.net",)


@pytest.mark.parametrize("env", ENVS)
def test_request_and_usage_logs_go_to_log_analytics(synth, env):
    settings = synth.resources(f"{env}-genai", "azurerm_monitor_diagnostic_setting")
    targets = {s["target_resource_id"].split(".")[0].removeprefix("${") for s in settings}
    assert targets == {"azurerm_cognitive_account", "azurerm_search_service"}
    assert all(s["enabled_log"] == [{"category_group": "allLogs"}] for s in settings)
