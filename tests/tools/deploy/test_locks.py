"""A delete lock covers its children: `make plan` names each planned replacement or deletion under a locked
resource before `terraform apply` fails with ScopeLocked."""

from __future__ import annotations

import pytest

from tools.deploy.infra.locks import locked_children, refused_changes

pytestmark = pytest.mark.xdist_group("stacks")


def _children(synth, stack: str) -> dict[str, str]:
    return {child.address.split(".")[0]: child.parent.split(".")[0] for child in locked_children(synth.stack(stack))}


def test_prod_locks_cover_the_containers_databases_and_ml_compute_under_them(synth):
    assert _children(synth, "prod-global-data") == {
        "azurerm_cosmosdb_sql_database": "azurerm_cosmosdb_account",
        "azurerm_cosmosdb_sql_container": "azurerm_cosmosdb_account",
        "azurerm_cosmosdb_sql_role_assignment": "azurerm_cosmosdb_account",
    }
    data = _children(synth, "prod-data")
    assert data["azurerm_storage_container"] == "azurerm_storage_account"
    assert "azurerm_eventhub" not in data  # it names the lake only inside its capture block: not a child
    ml = _children(synth, "prod-ml")
    assert ml["azurerm_machine_learning_compute_cluster"] == "azurerm_machine_learning_workspace"


def test_dev_has_no_locks_so_nothing_is_refused(synth):
    for stack in synth.stack_names():
        if stack.startswith("dev-"):
            assert locked_children(synth.stack(stack)) == []


def test_a_replaced_cosmos_container_is_named_with_the_lock_to_lift(synth):
    document = synth.stack("prod-global-data")
    container = next(c for c in locked_children(document) if c.address.startswith("azurerm_cosmosdb_sql_container."))
    account = next(iter(document["resource"]["azurerm_cosmosdb_account"]))
    changes = [
        {"address": container.address, "change": {"actions": ["delete", "create"]}},  # partition key changed
        {"address": f"azurerm_cosmosdb_account.{account}", "change": {"actions": ["update"]}},
        {"address": "azurerm_private_endpoint.Anything", "change": {"actions": ["delete", "create"]}},
    ]
    (refused,) = refused_changes(document, changes)
    assert refused.address == container.address
    message = refused.describe()
    assert "replaces" in message and "lock-cosmos-" in message and container.address in message


def test_updates_in_place_under_a_lock_pass(synth):
    document = synth.stack("prod-ml")
    changes = [{"address": c.address, "change": {"actions": ["update"]}} for c in locked_children(document)]
    assert changes and refused_changes(document, changes) == []


def test_the_plan_summary_shows_the_approver_what_a_lock_will_refuse():
    from tools.deploy.infra.plan import PlanSummary, StackPlan

    refused = ("azurerm_cosmosdb_sql_container.Cosmos_Container: the plan replaces it, but it is a child of "
               "azurerm_cosmosdb_account.Cosmos_Account, locked by 'lock-cosmos'")
    summary = PlanSummary("prod", ["prod-global-data"], {
        "prod-global-data": StackPlan("prod-global-data", "planned", {"replace": 1}, refused_by_locks=[refused]),
    })
    assert refused in summary.markdown()
