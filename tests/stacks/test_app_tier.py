import re

import pytest

import contract as c

pytestmark = pytest.mark.xdist_group("stacks")


@pytest.mark.parametrize("stack", ["dev-app-westeurope", "prod-app-westeurope", "prod-app-northeurope"])
def test_web_app_is_https_only_tls12_without_ftp(synth, stack):
    app = synth.one(stack, "azurerm_linux_web_app")
    site = app["site_config"]
    assert app["https_only"] is True
    assert site["minimum_tls_version"] == "1.2"
    assert site["ftps_state"] == "Disabled"
    assert site["health_check_path"] == c.HEALTH_PATH
    assert site["app_command_line"] == c.APP_START_COMMAND
    assert site["application_stack"]["python_version"] == c.APP_PYTHON_VERSION
    assert app["identity"]["type"] == "UserAssigned"
    assert app["virtual_network_subnet_id"].startswith("${")


def test_app_settings_carry_names_and_references_never_secrets(synth):
    settings = synth.one("prod-app-westeurope", "azurerm_linux_web_app")["app_settings"]
    assert settings[c.SETTING_COSMOS_DATABASE] == c.COSMOS_DATABASE
    assert settings[c.SETTING_HISTORY_CONTAINER] == c.HISTORY_CONTAINER
    assert settings[c.SETTING_APPINSIGHTS].startswith("@Microsoft.KeyVault(SecretUri=${")
    assert "cosmosdb_account" in settings[c.SETTING_COSMOS_ENDPOINT]
    for value in settings.values():
        assert not re.search(r"(AccountKey|SharedAccessKey|InstrumentationKey)=", value)


def test_each_region_integrates_with_its_own_subnet(synth):
    west = synth.one("prod-app-westeurope", "azurerm_linux_web_app")
    north = synth.one("prod-app-northeurope", "azurerm_linux_web_app")
    assert west["location"] == "westeurope" and north["location"] == "northeurope"
    assert west["virtual_network_subnet_id"] != north["virtual_network_subnet_id"]
    assert west["app_settings"][c.SETTING_REGION] == "westeurope"


def test_staging_slot_only_in_prod(synth):
    assert synth.one("prod-app-westeurope", "azurerm_linux_web_app_slot")["name"] == "staging"
    assert synth.resources("dev-app-westeurope", "azurerm_linux_web_app_slot") == []
