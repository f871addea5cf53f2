"""The Flex Consumption function app: what azurerm v4.81.0 and the Functions platform require of it, read from
the synthesized azapi site, its plan, storage, subnet and grants."""

from __future__ import annotations

import re

import pytest

import contract as c
from stacks.compute_config import Functions
from stacks.foundation import APPINSIGHTS_SECRET

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]


def _site(synth, env):
    return next(r for r in synth.resources(f"{env}-functions", "azapi_resource")
                if r["type"].startswith("Microsoft.Web/sites@"))


def _settings(synth, env):
    return {s["name"]: s["value"] for s in _site(synth, env)["body"]["properties"]["siteConfig"]["appSettings"]}


@pytest.mark.parametrize("env", ENVS)
def test_host_storage_is_reached_by_identity_with_no_connection_string(synth, env):
    """azurerm_function_app_flex_consumption writes AzureWebJobsStorage = "...AccountKey=;..." even for identity
    auth (function_app_flex_consumption_resource.go: storageString is always built; helpers.
    ExpandSiteConfigFunctionFlexConsumptionApp appends it), which the host would use. The azapi site has none."""
    settings = _settings(synth, env)
    assert "AzureWebJobsStorage" not in settings
    assert settings["AzureWebJobsStorage__credential"] == "managedidentity"
    assert settings["AzureWebJobsStorage__accountName"].endswith(".name}")
    assert not any("AccountKey" in value or "SharedAccessKey" in value for value in settings.values())


@pytest.mark.parametrize("env", ENVS)
def test_event_hubs_and_cosmos_connections_are_identity_based(synth, env):
    settings = _settings(synth, env)
    client_id = settings[c.SETTING_MANAGED_IDENTITY_CLIENT_ID]
    prefix = c.FUNCTION_EVENTHUB_CONNECTION  # the trigger's `connection=` in functions/function_app.py
    assert settings[f"{prefix}__fullyQualifiedNamespace"].endswith(".servicebus.windows.net")
    assert settings[f"{prefix}__credential"] == "managedidentity"
    assert settings[f"{prefix}__clientId"] == client_id
    # Cosmos DB through the SDK with the same user-assigned identity: endpoint and client id, no key.
    assert settings[c.SETTING_COSMOS_ENDPOINT].endswith("endpoint}")
    assert not any("COSMOS" in name and "KEY" in name.upper() for name in settings)
    assert settings[c.SETTING_MARKET_CONTAINER] == c.MARKET_CONTAINER
    assert settings[c.SETTING_DEAD_LETTER_CONTAINER] == c.DEAD_LETTER_CONTAINER


@pytest.mark.parametrize("env", ENVS)
def test_flex_configuration_is_in_the_platforms_ranges(synth, env):
    config = _site(synth, env)["body"]["properties"]["functionAppConfig"]
    assert config["runtime"] == {"name": "python", "version": c.FUNCTION_PYTHON_VERSION}
    assert c.FUNCTION_PYTHON_VERSION in {"3.10", "3.11", "3.12"}  # Flex Consumption's Python versions
    scale = config["scaleAndConcurrency"]
    assert 1 <= scale["maximumInstanceCount"] <= 1000  # maximum_instance_count IntBetween(1, 1000)
    assert scale["instanceMemoryMB"] in {512, 2048, 4096}
    storage = config["deployment"]["storage"]
    assert storage["type"] == "blobContainer"  # the only FunctionsDeploymentStorageType
    # https://<account>.blob.core.windows.net/<container>, the format the service (and provider) expects
    assert re.match(r"^\$\{azurerm_storage_account\.[^}]+\.primary_blob_endpoint\}app-package$", storage["value"])
    # UserAssignedIdentity requires the identity's resource id (provider Create: "must be specified").
    assert storage["authentication"]["type"] == "UserAssignedIdentity"
    assert storage["authentication"]["userAssignedIdentityResourceId"]


def test_instance_memory_config_refuses_sizes_flex_does_not_offer():
    with pytest.raises(ValueError):
        Functions(instance_memory_mb=1024)


@pytest.mark.parametrize("env", ENVS)
def test_plan_is_flex_consumption_and_zone_balanced(synth, env):
    plan = synth.one(f"{env}-functions", "azurerm_service_plan")
    assert plan["sku_name"] == "FC1" and plan["os_type"] == "Linux"
    assert plan["zone_balancing_enabled"] is True  # helpers.PlanSupportsZoneBalancing includes FlexConsumption
    assert "worker_count" not in plan


@pytest.mark.parametrize("env", ENVS)
def test_site_is_https_only_tls12_without_basic_publishing(synth, env):
    site = _site(synth, env)
    assert len(site["name"]) <= 32 or site["name"].startswith("${")  # longer names risk host ID collisions
    props = site["body"]["properties"]
    assert site["body"]["kind"] == "functionapp,linux"
    assert props["httpsOnly"] is True
    assert props["siteConfig"]["minTlsVersion"] == "1.2" and props["siteConfig"]["ftpsState"] == "Disabled"
    assert props["publicNetworkAccess"] == ("Disabled" if env == "prod" else "Enabled")
    policies = {r["name"]: r["body"] for r in synth.resources(f"{env}-functions", "azapi_resource")
                if "basicPublishingCredentialsPolicies" in r["type"]}
    assert policies == {"ftp": {"properties": {"allow": False}}, "scm": {"properties": {"allow": False}}}


@pytest.mark.parametrize("env", ENVS)
def test_outbound_goes_through_a_subnet_delegated_to_container_app_environments(synth, env):
    site = _site(synth, env)
    subnet = synth.referenced(f"{env}-functions", site["body"]["properties"]["virtualNetworkSubnetId"])
    assert subnet.name.startswith(f"snet-carprice-{env}-functions-")
    subnets = {s["name"]: s for s in synth.resources(f"{env}-foundation", "azurerm_subnet")}
    functions = next(s for name, s in subnets.items() if "-functions-" in name)
    delegation = functions["delegation"][0]["service_delegation"]
    assert delegation["name"] == "Microsoft.App/environments"


@pytest.mark.parametrize("env", ENVS)
def test_telemetry_uses_entra_id_and_the_identity_holds_each_role_it_needs(synth, env):
    settings = _settings(synth, env)
    client_id = settings[c.SETTING_MANAGED_IDENTITY_CLIENT_ID]
    assert settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] == f"Authorization=AAD;ClientId={client_id}"
    assert settings[c.SETTING_APPINSIGHTS].startswith("@Microsoft.KeyVault(SecretUri=")
    grants = synth.resources(f"{env}-functions", "azurerm_role_assignment")
    stack = f"{env}-functions"
    roles = {r["role_definition_name"]: synth.referenced(stack, r["scope"]) for r in grants}
    assert roles["Monitoring Metrics Publisher"].tf_type == "azurerm_application_insights"
    assert roles["Azure Event Hubs Data Receiver"].tf_type == "azurerm_eventhub"
    assert (roles["Key Vault Secrets User"].tf_type, roles["Key Vault Secrets User"].name) == (
        "azurerm_key_vault_secret", APPINSIGHTS_SECRET)
    host_storage = synth.one(stack, "azurerm_storage_account")["name"]
    assert (roles["Storage Blob Data Owner"].stack, roles["Storage Blob Data Owner"].name) == (stack, host_storage)
    cosmos = synth.one(f"{env}-functions", "azurerm_cosmosdb_sql_role_assignment")
    assert cosmos["scope"].endswith(f"/dbs/{c.COSMOS_DATABASE}")
    assert cosmos["role_definition_id"].endswith("/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002")


@pytest.mark.parametrize("env", ENVS)
def test_function_app_name_is_a_stack_output_for_the_deploy_pipeline(synth, env):
    outputs = synth.stack(f"{env}-functions")["output"]
    site = synth.referenced(f"{env}-functions", outputs["function_app_name"]["value"])
    assert site.tf_type == "azapi_resource" and site.attributes["type"].startswith("Microsoft.Web/sites@")
    assert outputs["function_app_resource_group"]["value"] == f"rg-carprice-{env}"


def test_one_function_app_per_environment_in_the_primary_region(synth):
    for env, region in (("dev", "westeurope"), ("prod", "westeurope")):
        site = _site(synth, env)
        assert site["location"] == region
        assert sum(r["type"].startswith("Microsoft.Web/sites@") for r in synth.resources(f"{env}-functions",
                                                                                          "azapi_resource")) == 1
    assert not any(name.startswith("prod-functions-") for name in synth.stack_names())


@pytest.mark.parametrize("env", ENVS)
def test_http_functions_sit_behind_entra_id_authentication(synth, env):
    """functions/function_app.py declares `price` anonymous and relies on App Service Authentication: the stack
    turns it on (authsettingsV2) with 401 for callers without a token for the API's app registration."""
    auth = next(r for r in synth.resources(f"{env}-functions", "azapi_resource") if r["name"] == "authsettingsV2")
    props = auth["body"]["properties"]
    assert props["platform"]["enabled"] is True
    assert props["globalValidation"] == {"requireAuthentication": True, "unauthenticatedClientAction": "Return401"}
    entra = props["identityProviders"]["azureActiveDirectory"]
    client_id = entra["registration"]["clientId"]
    assert re.match(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", client_id)
    assert entra["validation"]["allowedAudiences"] == [f"api://{client_id}"]
    assert entra["registration"]["openIdIssuer"].startswith("https://sts.windows.net/")
