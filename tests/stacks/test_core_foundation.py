"""Deploy readiness of the foundation: budget, deprecated arguments, network peering, telemetry grants."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ("dev", "prod")


@pytest.mark.parametrize("env", ENVS)
def test_budget_starts_in_the_month_of_the_first_deploy(synth, env):
    """A fixed past start date is refused after its month (consumption_budget_resource_group docs, v4.81.0);
    the start is derived at apply time and then ignored, since changing it replaces the budget."""
    budget = synth.one(f"{env}-foundation", "azurerm_consumption_budget_resource_group")
    start = budget["time_period"]["start_date"]
    assert start.startswith("${formatdate(") and "timestamp()" in start and "YYYY-MM-01" in start
    assert budget["lifecycle"]["ignore_changes"] == ["time_period"]


@pytest.mark.parametrize(
    ("stack", "tf_type"),
    [(f"{env}-global-data", "azurerm_cosmosdb_account") for env in ENVS]
    + [(f"{env}-foundation", "azurerm_application_insights") for env in ENVS],
)
def test_local_authentication_uses_the_current_argument(synth, stack, tf_type):
    """`local_authentication_disabled` is deprecated (cosmosdb_account_resource.go and
    application_insights_resource.go at v4.81.0) and conflicts with `local_authentication_enabled`."""
    resource = synth.one(stack, tf_type)
    assert "local_authentication_disabled" not in resource
    assert resource["local_authentication_enabled"] is False


def test_peering_names_are_resolved_and_within_80_characters(synth):
    """A reference sliced to 80 characters (`${...name}`[:80]) is no longer a reference."""
    peerings = synth.resources("prod-foundation", "azurerm_virtual_network_peering")
    # the two app regions' networks with each other, and the agents' network with each of them (both ways each)
    assert len(peerings) == 6
    for peering in peerings:
        assert "${" not in peering["name"] and len(peering["name"]) <= 80
    assert len({(p["name"], p["virtual_network_name"]) for p in peerings}) == 6


@pytest.mark.parametrize("env", ENVS)
def test_web_app_identity_may_publish_telemetry(synth, env):
    """App Insights with local authentication off accepts only Entra tokens of identities holding Monitoring
    Metrics Publisher on the component ("Microsoft Entra authentication for Application Insights")."""
    grants = [
        g for g in synth.resources(f"{env}-foundation", "azurerm_role_assignment")
        if g["role_definition_name"] == "Monitoring Metrics Publisher"
    ]
    stack = f"{env}-foundation"
    assert any(
        synth.referenced(stack, g["scope"]).tf_type == "azurerm_application_insights"
        and synth.referenced(stack, g["principal_id"]).name == f"id-carprice-{env}-app"
        for g in grants
    )
