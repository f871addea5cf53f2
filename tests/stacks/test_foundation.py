import pytest

pytestmark = pytest.mark.xdist_group("stacks")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_key_vault_uses_rbac_purge_protection_and_a_closed_firewall(synth, env):
    vault = synth.one(f"{env}-foundation", "azurerm_key_vault")
    assert vault["rbac_authorization_enabled"] is True
    assert vault["purge_protection_enabled"] is True
    assert vault["soft_delete_retention_days"] == 90
    assert vault["network_acls"]["default_action"] == "Deny"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_key_vault_has_a_private_endpoint_in_every_environment(synth, env):
    endpoints = synth.resources(f"{env}-foundation", "azurerm_private_endpoint")
    regions = {"dev": 1, "prod": 2}[env]  # one per app region
    assert [e["private_service_connection"]["subresource_names"] for e in endpoints] == [["vault"]] * regions
    for endpoint in endpoints:
        zone_group = endpoint["private_dns_zone_group"]["private_dns_zone_ids"]
        assert len(zone_group) == 1 and "ZoneVaultcore" in zone_group[0]


def test_key_vault_is_public_only_to_dev_ip_ranges(synth):
    assert synth.one("prod-foundation", "azurerm_key_vault")["public_network_access_enabled"] is False
    dev_vault = synth.one("dev-foundation", "azurerm_key_vault")
    assert dev_vault["public_network_access_enabled"] is True
    assert dev_vault["network_acls"]["ip_rules"] == ["203.0.113.0/24"]


def test_app_reads_secrets_and_deployer_writes_them_by_rbac(synth):
    roles = {r["role_definition_name"] for r in synth.resources("prod-foundation", "azurerm_role_assignment")}
    assert {"Key Vault Secrets User", "Key Vault Secrets Officer"} <= roles
    secret = synth.one("prod-foundation", "azurerm_key_vault_secret")
    assert secret["expiration_date"] == "2027-12-01T00:00:00Z"
    assert secret["depends_on"], "the secret must wait for the deployer's role assignment"


def test_every_subnet_has_its_own_network_security_group(synth):
    for env in ("dev", "prod"):
        subnets = synth.resources(f"{env}-foundation", "azurerm_subnet")
        associations = synth.resources(f"{env}-foundation", "azurerm_subnet_network_security_group_association")
        assert len(associations) == len(subnets) >= 4
        # Only the Application Gateway subnets keep default outbound access (the gateway's management traffic).
        assert all(s["default_outbound_access_enabled"] is ("-gateway-" in s["name"]) for s in subnets)


def test_private_dns_zones_cover_every_private_endpoint_and_link_every_network(synth):
    zones = {z["name"] for z in synth.resources("prod-foundation", "azurerm_private_dns_zone")}
    assert {"privatelink.blob.core.windows.net", "privatelink.dfs.core.windows.net",
            "privatelink.vaultcore.azure.net", "privatelink.documents.azure.com",
            "privatelink.api.azureml.ms", "privatelink.azurecr.io"} <= zones
    def environment_links(env: str) -> list[dict]:  # the agents' network has its own test (tests/pipelines)
        links = synth.stack(f"{env}-foundation")["resource"]["azurerm_private_dns_zone_virtual_network_link"]
        return [link for key, link in links.items() if not key.startswith("AgentNetwork_")]

    assert len(environment_links("prod")) == 2 * len(zones)  # the primary network and the northeurope app network
    assert len(environment_links("dev")) == len(zones)  # dev has one network


def test_second_app_region_gets_a_peered_network_with_an_app_subnet(synth):
    networks = synth.resources("prod-foundation", "azurerm_virtual_network")
    assert sorted(n["location"] for n in networks) == ["northeurope", "westeurope"]
    peerings = synth.stack("prod-foundation")["resource"]["azurerm_virtual_network_peering"]
    assert len([key for key in peerings if key.startswith("Network_")]) == 2
    app_subnets = [s for s in synth.resources("prod-foundation", "azurerm_subnet") if "-app-" in s["name"]]
    assert all(s["delegation"][0]["service_delegation"]["name"] == "Microsoft.Web/serverFarms" for s in app_subnets)
    assert len(app_subnets) == 2


def test_budget_alerts_at_each_configured_threshold(synth):
    budget = synth.one("prod-foundation", "azurerm_consumption_budget_resource_group")
    assert budget["amount"] == 4000
    thresholds = sorted(n["threshold"] for n in budget["notification"])
    assert thresholds == [50, 80, 100, 120]
    assert budget["resource_group_id"].startswith("${azurerm_resource_group.")


def test_monitoring_keys_are_off(synth):
    workspace = synth.one("dev-foundation", "azurerm_log_analytics_workspace")
    assert workspace["local_authentication_enabled"] is False
    assert workspace["retention_in_days"] == 30
    assert synth.one("prod-foundation", "azurerm_log_analytics_workspace")["retention_in_days"] == 90
    assert synth.one("dev-foundation", "azurerm_application_insights")["local_authentication_enabled"] is False


def test_managed_identities_for_app_ml_aks_and_encryption(synth):
    names = sorted(i["name"] for i in synth.resources("dev-foundation", "azurerm_user_assigned_identity"))
    assert names == ["id-carprice-dev-aks", "id-carprice-dev-app", "id-carprice-dev-encryption", "id-carprice-dev-ml"]
