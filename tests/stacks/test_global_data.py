import pytest

import contract as c
from contract import genai as g

pytestmark = pytest.mark.xdist_group("stacks")


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_cosmos_accepts_only_entra_id_over_tls12_with_continuous_backup(synth, env):
    account = synth.one(f"{env}-global-data", "azurerm_cosmosdb_account")
    assert account["local_authentication_enabled"] is False
    assert account["minimal_tls_version"] == "Tls12"
    assert account["backup"]["type"] == "Continuous"


def test_dev_is_serverless_and_prod_is_provisioned_in_every_app_region(synth):
    dev = synth.one("dev-global-data", "azurerm_cosmosdb_account")
    assert dev["capabilities"] == [{"name": "EnableServerless"}]
    prod = synth.one("prod-global-data", "azurerm_cosmosdb_account")
    assert "capabilities" not in prod
    assert [g["location"] for g in prod["geo_location"]] == ["westeurope", "northeurope"]
    assert prod["automatic_failover_enabled"] is True
    containers = synth.resources("prod-global-data", "azurerm_cosmosdb_sql_container")
    assert all(c["autoscale_settings"]["max_throughput"] == 4000 for c in containers)


def test_containers_are_partitioned_for_the_apps_queries(synth):
    containers = {c["name"]: c["partition_key_paths"] for c in synth.resources("dev-global-data",
                                                                                 "azurerm_cosmosdb_sql_container")}
    assert containers == {
        c.HISTORY_CONTAINER: [c.HISTORY_PARTITION_KEY],
        c.BATCH_CONTAINER: [c.BATCH_PARTITION_KEY],
        c.MARKET_CONTAINER: [c.MARKET_PARTITION_KEY],
        c.DEAD_LETTER_CONTAINER: [c.DEAD_LETTER_PARTITION_KEY],
        g.CHAT_CONTAINER: [g.CHAT_PARTITION_KEY],
    }
    assert not any("lease" in name for name in containers)  # the Event Hubs trigger checkpoints in blob storage


def test_app_identity_gets_the_data_contributor_role_on_the_data_plane(synth):
    grants = synth.resources("dev-global-data", "azurerm_cosmosdb_sql_role_assignment")
    app = "id-carprice-dev-app"
    [grant] = [g for g in grants if synth.referenced("dev-global-data", g["principal_id"]).name == app]
    assert grant["role_definition_id"].endswith("/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002")
    account = synth.one("dev-global-data", "azurerm_cosmosdb_account")["name"]
    assert synth.referenced("dev-global-data", grant["scope"]).name == account  # the account: every container
