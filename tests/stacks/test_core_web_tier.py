"""Deploy readiness of the web tier and the per-region endpoints: prod's web apps are private behind one
Application Gateway WAF_v2 per app region (App Service baseline architecture, Microsoft Learn), Traffic Manager
targets the gateways, and each app region reaches Cosmos DB, Key Vault and its app through endpoints of its own.
"""

from __future__ import annotations

import json

import pytest
import yaml

import contract as c
from stacks.config import ENVIRONMENTS_DIR, ConfigError, load_environment, load_environments
from stacks.main import synthesize
from stacks.modules.app_gateway import OWASP_RULE_SET_VERSION
from stacks.naming import region_code

pytestmark = pytest.mark.xdist_group("stacks")

PROD_REGIONS = ("westeurope", "northeurope")


def _keyed(synth, stack: str, tf_type: str) -> dict[str, dict]:
    return synth.stack(stack).get("resource", {}).get(tf_type, {})


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_prod_web_app_is_reachable_only_through_its_private_endpoints(synth, region):
    stack = f"prod-app-{region}"
    app = synth.one(stack, "azurerm_linux_web_app")
    slot = synth.one(stack, "azurerm_linux_web_app_slot")
    assert app["public_network_access_enabled"] is False and slot["public_network_access_enabled"] is False
    endpoints = synth.resources(stack, "azurerm_private_endpoint")
    assert sorted(e["private_service_connection"]["subresource_names"][0] for e in endpoints) == [
        "sites", "sites-staging"
    ]
    for endpoint in endpoints:
        assert endpoint["location"] == region
        assert endpoint["private_service_connection"]["private_connection_resource_id"].startswith(
            "${azurerm_linux_web_app."
        )
        # Every region's app registers in the primary zone: the one the agents' network resolves to deploy.
        (zone_id,) = endpoint["private_dns_zone_group"]["private_dns_zone_ids"]
        zone = synth.referenced(stack, zone_id)
        assert (zone.name, synth.literal(zone.stack, zone.attributes["resource_group_name"])) == (
            "privatelink.azurewebsites.net", "rg-carprice-prod")


def test_dev_web_app_is_public_only_to_the_team_and_traffic_manager(synth):
    site = synth.one("dev-app-westeurope", "azurerm_linux_web_app")["site_config"]
    assert site["ip_restriction_default_action"] == "Deny"
    app = synth.one("dev-app-westeurope", "azurerm_linux_web_app")
    assert app["webdeploy_publish_basic_authentication_enabled"] is False  # the deployment site: Entra ID only
    allowed = {r.get("ip_address") or r.get("service_tag") for r in site["ip_restriction"]}
    dev_ranges = set(yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text())["network"]["allowed_ip_ranges"])
    assert allowed == dev_ranges | {"AzureTrafficManager"}
    assert synth.resources("dev-app-westeurope", "azurerm_application_gateway") == []


def test_dev_web_app_has_the_private_endpoint_the_deploy_agents_warm_it_up_through(synth):
    """The agents leave through their NAT gateway, whose address the site's restrictions do not admit (a 403 on
    warm-up); through the `sites` endpoint (peered network, linked privatelink.azurewebsites.net) the restrictions,
    which govern public traffic, do not apply (Learn: overview-private-endpoint, app-service-ip-restrictions)."""
    [endpoint] = synth.resources("dev-app-westeurope", "azurerm_private_endpoint")
    assert endpoint["private_service_connection"]["subresource_names"] == ["sites"]
    (zone_id,) = endpoint["private_dns_zone_group"]["private_dns_zone_ids"]
    assert synth.referenced("dev-app-westeurope", zone_id).name == "privatelink.azurewebsites.net"


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_each_prod_region_has_a_waf_gateway_in_front_of_its_app(synth, region):
    stack = f"prod-app-{region}"
    gateway = synth.one(stack, "azurerm_application_gateway")
    assert gateway["sku"] == {"name": "WAF_v2", "tier": "WAF_v2"} and gateway["location"] == region
    assert gateway["zones"] == ["1", "2", "3"]
    (policy_key, policy), = _keyed(synth, stack, "azurerm_web_application_firewall_policy").items()
    assert gateway["firewall_policy_id"] == f"${{azurerm_web_application_firewall_policy.{policy_key}.id}}"
    assert policy["policy_settings"]["mode"] == "Prevention" and policy["policy_settings"]["enabled"] is True
    assert policy["managed_rules"]["managed_rule_set"] == [{"type": "OWASP", "version": OWASP_RULE_SET_VERSION}]
    # Requests are served over HTTPS only (port 80 only redirects), with a Key Vault certificate read through
    # the gateway's user-assigned identity.
    assert sorted(p["port"] for p in gateway["frontend_port"]) == [80, 443]
    (listener,) = [listener for listener in gateway["http_listener"] if listener["protocol"] == "Https"]
    (certificate,) = gateway["ssl_certificate"]
    assert listener["ssl_certificate_name"] == certificate["name"]
    assert "key_vault_certificate" in certificate["key_vault_secret_id"]
    assert "versionless_secret_id" in certificate["key_vault_secret_id"]
    assert gateway["identity"]["type"] == "UserAssigned"
    assert synth.referenced(stack, gateway["identity"]["identity_ids"][0]).name == "id-carprice-prod-gateway"
    # Forwarding to the app's private endpoint (its host name resolves there) with a health probe.
    (pool,) = gateway["backend_address_pool"]
    [backend] = [synth.referenced(stack, fqdn) for fqdn in pool["fqdns"]]
    app = synth.one(stack, "azurerm_linux_web_app")
    assert (backend.tf_type, backend.name, backend.attribute) == (
        "azurerm_linux_web_app", app["name"], "default_hostname")
    (settings,) = gateway["backend_http_settings"]
    assert settings["protocol"] == "Https" and settings["port"] == 443
    (probe,) = gateway["probe"]
    assert settings["probe_name"] == probe["name"]
    assert probe["path"] == c.HEALTH_PATH and probe["protocol"] == "Https"
    endpoints = [d.attributes["private_service_connection"]["subresource_names"][0]
                 for d in synth.dependencies(stack, gateway) if d.tf_type == "azurerm_private_endpoint"]
    assert "sites" in endpoints  # the app's endpoint exists before traffic is sent to it
    # Its own subnet of its own region, and a public IP with a DNS label.
    (ip_config,) = gateway["gateway_ip_configuration"]
    subnet = synth.referenced(stack, ip_config["subnet_id"])
    assert subnet.tf_type == "azurerm_subnet" and subnet.name == f"snet-carprice-prod-gateway-{region_code(region)}"
    public_ip = synth.one(stack, "azurerm_public_ip")
    assert public_ip["sku"] == "Standard" and public_ip["allocation_method"] == "Static"
    assert public_ip["domain_name_label"].startswith("agw-carprice-prod-")


def test_gateway_subnets_admit_the_gateway_manager_https_and_the_http_redirect(synth):
    groups = [
        g for g in synth.resources("prod-foundation", "azurerm_network_security_group") if "-gateway-" in g["name"]
    ]
    assert len(groups) == len(PROD_REGIONS)
    for group in groups:
        rules = {(r["source_address_prefix"], r["destination_port_range"]) for r in group["security_rule"]}
        assert rules == {("GatewayManager", "65200-65535"), ("Internet", "443"), ("Internet", "80")}


def test_gateways_read_the_certificate_the_deployer_issued(synth):
    grants = synth.resources("prod-foundation", "azurerm_role_assignment")
    assert any(
        g["role_definition_name"] == "Key Vault Secrets User"
        and synth.referenced("prod-foundation", g["principal_id"]).name == "id-carprice-prod-gateway"
        for g in grants
    )
    certificate = synth.one("prod-foundation", "azurerm_key_vault_certificate")
    policy = certificate["certificate_policy"]
    assert policy["issuer_parameters"]["name"] == "Self"
    assert policy["secret_properties"]["content_type"] == "application/x-pkcs12"
    assert policy["x509_certificate_properties"]["subject"].endswith(".trafficmanager.net")
    assert any(d.startswith("time_sleep.") for d in certificate["depends_on"])
    assert synth.resources("dev-foundation", "azurerm_key_vault_certificate") == []


def test_traffic_manager_targets_the_gateways_in_prod_and_the_apps_in_dev(synth):
    prod = synth.resources("prod-edge", "azurerm_traffic_manager_azure_endpoint")
    assert len(prod) == len(PROD_REGIONS)
    targets = [synth.referenced("prod-edge", e["target_resource_id"]) for e in prod]
    assert sorted((t.tf_type, t.stack) for t in targets) == [
        ("azurerm_public_ip", f"prod-app-{region}") for region in sorted(PROD_REGIONS)]  # each region's gateway
    (dev,) = synth.resources("dev-edge", "azurerm_traffic_manager_azure_endpoint")
    assert synth.referenced("dev-edge", dev["target_resource_id"]).tf_type == "azurerm_linux_web_app"


@pytest.mark.parametrize(("stack", "subresource"), [("prod-global-data", "Sql"), ("prod-foundation", "vault")])
def test_every_app_region_has_its_own_endpoint_and_zone_for_what_it_uses(synth, stack, subresource):
    endpoints = [
        e for e in synth.resources(stack, "azurerm_private_endpoint")
        if e["private_service_connection"]["subresource_names"] == [subresource]
    ]
    assert sorted(e["location"] for e in endpoints) == sorted(PROD_REGIONS)
    for endpoint in endpoints:
        zones = [synth.referenced(stack, z) for z in endpoint["private_dns_zone_group"]["private_dns_zone_ids"]]
        groups = {synth.literal(z.stack, z.attributes["resource_group_name"]) for z in zones}
        code = region_code(endpoint["location"])
        # The primary region registers in the primary zones, each other region in its own copies.
        primary = endpoint["location"] == "westeurope"
        assert groups == ({"rg-carprice-prod"} if primary else {f"rg-carprice-prod-dns-{code}"})
        assert synth.referenced(stack, endpoint["subnet_id"]).name == f"snet-carprice-prod-private-endpoints-{code}"


def test_each_network_links_one_zone_of_each_name(synth):
    """A virtual network can be linked to only one private DNS zone of a given name."""
    stack = synth.stack("prod-foundation")["resource"]
    zones = stack["azurerm_private_dns_zone"]
    seen: dict[str, list[str]] = {}
    for link in stack["azurerm_private_dns_zone_virtual_network_link"].values():
        zone_key = link["private_dns_zone_name"].removeprefix("${azurerm_private_dns_zone.").removesuffix(".name}")
        seen.setdefault(link["virtual_network_id"], []).append(zones[zone_key]["name"])
    assert len(seen) == len(PROD_REGIONS) + 1  # and the agents' network
    for names in seen.values():
        assert len(names) == len(set(names)) == len({z["name"] for z in zones.values()})
    regional_groups = [g for g in synth.resources("prod-foundation", "azurerm_resource_group") if "-dns-" in g["name"]]
    assert [g["location"] for g in regional_groups] == ["northeurope"]


def test_a_private_environment_without_gateway_subnets_is_refused_by_name(tmp_path):
    data = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    del data["network"]["regions"]["northeurope"]["gateway_subnet"]
    path = tmp_path / "prod.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"network\.regions\.northeurope\.gateway_subnet"):
        load_environment(path)


def test_a_brought_certificate_replaces_the_self_signed_one(tmp_path):
    """With `edge.custom_domain` and `edge.certificate_secret_id`, the gateways read that secret and Key Vault
    issues no certificate of its own."""
    data = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    secret = "https://kv-example.vault.azure.net/secrets/carprice-example-com"
    data["edge"].update(custom_domain="carprice.example.com", certificate_secret_id=secret)
    (tmp_path / "prod.yaml").write_text(yaml.safe_dump(data))
    outdir = tmp_path / "cdktf.out"
    synthesize(load_environments(["prod"], tmp_path), outdir, progress=False)

    def resources(stack: str, tf_type: str) -> list[dict]:
        document = json.loads((outdir / "stacks" / stack / "cdk.tf.json").read_text())
        return list(document["resource"].get(tf_type, {}).values())

    assert resources("prod-foundation", "azurerm_key_vault_certificate") == []
    for region in PROD_REGIONS:
        (gateway,) = resources(f"prod-app-{region}", "azurerm_application_gateway")
        assert gateway["ssl_certificate"][0]["key_vault_secret_id"] == secret
        # The listeners answer for the custom domain, so Traffic Manager probes with that Host header.
        assert {listener["host_name"] for listener in gateway["http_listener"]} == {"carprice.example.com"}
    (profile,) = resources("prod-edge", "azurerm_traffic_manager_profile")
    assert profile["monitor_config"]["custom_header"] == [{"name": "host", "value": "carprice.example.com"}]


def test_a_private_web_tier_needs_a_custom_domain_or_the_explicit_self_signed_opt_out(tmp_path):
    """A self-signed certificate makes every browser warn: prod must name its domain and certificate, or say
    `edge.self_signed_certificate: true` on purpose."""
    data = yaml.safe_load((ENVIRONMENTS_DIR / "prod.yaml").read_text())
    del data["edge"]["self_signed_certificate"]
    (tmp_path / "prod.yaml").write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError, match=r"(?s)prod\.yaml.*edge\.custom_domain.*edge\.self_signed_certificate: true"):
        load_environment(tmp_path / "prod.yaml")


@pytest.mark.parametrize("region", PROD_REGIONS)
def test_each_gateway_redirects_plain_http_to_https_and_serves_nothing_else_on_it(synth, region):
    gateway = synth.one(f"prod-app-{region}", "azurerm_application_gateway")
    ports = {port["name"]: port["port"] for port in gateway["frontend_port"]}
    listeners = {listener["name"]: listener for listener in gateway["http_listener"]}
    plain = [name for name, listener in listeners.items() if listener["protocol"] == "Http"]
    assert len(plain) == 1 and ports[listeners[plain[0]]["frontend_port_name"]] == 80
    (redirect_rule,) = [r for r in gateway["request_routing_rule"] if r["http_listener_name"] == plain[0]]
    assert "backend_address_pool_name" not in redirect_rule
    redirects = {r["name"]: r for r in gateway["redirect_configuration"]}
    redirect = redirects[redirect_rule["redirect_configuration_name"]]
    https = listeners[redirect["target_listener_name"]]
    assert https["protocol"] == "Https" and ports[https["frontend_port_name"]] == 443
    assert redirect["redirect_type"] == "Permanent" and redirect["include_path"] and redirect["include_query_string"]
