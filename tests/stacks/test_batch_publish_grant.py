"""`make ml-batch-score` writes the batch endpoint's results into Cosmos DB as the deploying principal, so that
principal holds the built-in Data Contributor role on the database: control-plane roles grant no data access
(Learn how-to-setup-rbac), and a container-scoped grant cannot read the metadata the SDK reads first."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("stacks")

DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002"


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_deployer_may_publish_batch_results_into_the_database(synth, env: str) -> None:
    grants = synth.resources(f"{env}-global-data", "azurerm_cosmosdb_sql_role_assignment")
    # The principal applying this stack, read by the stack itself (not through the foundation's outputs).
    deployer = [g for g in grants if g["principal_id"] == "${data.azurerm_client_config.Client.object_id}"]
    assert len(deployer) == 1, [g["principal_id"] for g in grants]
    grant = deployer[0]
    assert grant["role_definition_id"].endswith(f"/sqlRoleDefinitions/{DATA_CONTRIBUTOR}")
    account, _, database = grant["scope"].partition("/dbs/")
    assert account.startswith("${azurerm_cosmosdb_account.") and database.startswith("${azurerm_cosmosdb_sql_database.")
    assert "/colls/" not in database
