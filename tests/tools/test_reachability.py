"""The reachability model (tools/checks/reachability/) on the session's synth: every required flow is reachable in dev
and prod, and each known defect, re-created in a copy of the synthesized JSON, makes its flow unreachable for
the reason Azure would give."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stacks.config import load_environments
from tools.checks.reachability.__main__ import evaluate
from tools.checks.reachability.flows import Flow, FlowsError, Platform, Result, load_flows
from tools.checks.reachability.report import render
from tools.synth_output import SynthStack

pytestmark = pytest.mark.xdist_group("stacks")

REPO = Path(__file__).resolve().parents[2]
RANGES = {config.name: tuple(config.network.allowed_ip_ranges) for config in load_environments()}
Resources = dict[str, dict[str, dict[str, Any]]]


def platform(synth, env: str, mutate: Callable[[dict[str, Resources]], None] | None = None) -> Platform:
    """The environment's model, from a copy of the synthesized JSON that `mutate` may change first."""
    stacks = {name: SynthStack(name, copy.deepcopy(stack.config), stack.dependencies)
              for name, stack in synth.stacks.items() if name.startswith(f"{env}-")}
    if mutate:
        mutate({name: stack.config["resource"] for name, stack in stacks.items()})
    return Platform(env, stacks, RANGES[env])


def results(model: Platform, *flows: Flow) -> list[Result]:
    return model.evaluate_all(list(flows) or load_flows())


def only(found: list[Result], source: str, target: str, subresource: str) -> list[Result]:
    return [r for r in found if source in r.source and target in r.target and r.subresource == subresource]


def drop(resources: dict[str, Resources], tf_type: str, keep: Callable[[dict[str, Any]], bool]) -> int:
    """Remove the resources of `tf_type` that `keep` refuses; how many went."""
    dropped = 0
    for stack in resources.values():
        instances = stack.get(tf_type, {})
        for ident in [i for i, attributes in instances.items() if not keep(attributes)]:
            del instances[ident]
            dropped += 1
    return dropped


def _group(endpoint: dict[str, Any]) -> str:
    return endpoint["private_service_connection"]["subresource_names"][0]


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_required_flow_is_reachable(synth, env):
    failing = [f"{r.source} -> {r.target} [{r.subresource}]: {r.outcome.path}"
               for r in results(platform(synth, env)) if not r.outcome.reachable]
    assert not failing, "\n".join(failing)


def test_agents_peered_with_the_primary_network_only_cannot_reach_the_second_region(synth):
    """Finding 1: northeurope's `sites` endpoints sit in its own network; peering is not transitive."""
    def primary_only(resources: dict[str, Resources]) -> None:
        regional = ("prod-foundation/AgentNetwork/PeeringToEnvironmentNortheurope",
                    "prod-foundation/AgentNetwork/PeeringToAgentsNortheurope")
        assert drop(resources, "azurerm_virtual_network_peering",
                    lambda p: p["//"]["metadata"]["path"] not in regional) == 2

    found = results(platform(synth, "prod", primary_only))
    for face in ("scm", "sites", "scm-staging", "sites-staging"):
        [northeurope] = only(found, "mdp-carprice-prod", "app-carprice-prod-neu", face)
        assert not northeurope.outcome.reachable
        assert "vnet-carprice-prod-neu" in northeurope.outcome.path
        assert "peered with vnet-carprice-prod-weu only, and peering is not transitive" in northeurope.outcome.path
        [westeurope] = only(found, "mdp-carprice-prod", "app-carprice-prod-weu", face)
        assert westeurope.outcome.reachable


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_workspace_storage_without_queue_and_table_endpoints_fails_batch_scoring(synth, env):
    """Finding 3: batch deployments need blob, file, queue and table (Learn: how-to-secure-batch-endpoint)."""
    def blob_and_file_only(resources: dict[str, Resources]) -> None:
        assert drop(resources, "azurerm_private_endpoint",
                    lambda e: not ("ml" in e["name"] and _group(e) in ("queue", "table"))) == 2

    found = results(platform(synth, env, blob_and_file_only))
    for group in ("queue", "table"):
        [batch] = only(found, "cpu-cluster", f"stcarprice{env}ml", group)
        assert not batch.outcome.reachable
        assert f"no private endpoint for `{group}`" in batch.outcome.path
        closed = "public network access disabled" if env == "prod" else "does not admit"
        assert closed in batch.outcome.path


def test_dev_site_reached_over_its_public_side_refuses_the_agents_nat_address(synth):
    """Finding 4: without the private endpoint the agents leave through their NAT gateway, whose address the
    site's access restrictions (team ranges, Traffic Manager) do not admit: the warm-up gets 403."""
    def public_only(resources: dict[str, Resources]) -> None:
        dev_site = lambda e: _group(e) == "sites" and "app-" in e["name"]  # noqa: E731
        assert drop(resources, "azurerm_private_endpoint", lambda e: not dev_site(e)) == 1

    [warm_up] = only(results(platform(synth, "dev", public_only)), "mdp-carprice-dev", "app-carprice-dev", "sites")
    assert not warm_up.outcome.reachable
    assert "pip:pip-carprice-dev-agents" in warm_up.outcome.path
    assert "203.0.113.0/24, tag AzureTrafficManager" in warm_up.outcome.path


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_function_host_storage_without_a_table_endpoint_loses_the_hosts_diagnostic_events(synth, env):
    def blob_only(resources: dict[str, Resources]) -> None:
        host_table = lambda e: "func" in e["name"] and _group(e) == "table"  # noqa: E731
        assert drop(resources, "azurerm_private_endpoint", lambda e: not host_table(e)) == 1

    [table] = only(results(platform(synth, env, blob_only)), "func-carprice", "func", "table")
    assert not table.outcome.reachable
    assert "public network access disabled" in table.outcome.path  # the host storage is closed in every environment


def test_a_zone_not_linked_to_the_callers_network_resolves_to_the_closed_public_endpoint(synth):
    def unlink_vault(resources: dict[str, Resources]) -> None:
        agents_vault = lambda link: link["name"] == "link-agents" and "Vaultcore" in link["private_dns_zone_name"]  # noqa: E731
        links = "azurerm_private_dns_zone_virtual_network_link"
        assert drop(resources, links, lambda link: not agents_vault(link)) == 1

    found = results(platform(synth, "prod", unlink_vault))
    [vault] = only(found, "mdp-carprice-prod", "kv-carprice-prod-43fb0", "vault")
    assert not vault.outcome.reachable
    assert "no privatelink.vaultcore.azure.net zone is linked to vnet-carprice-prod-agents-weu" in vault.outcome.path
    assert "public network access disabled" in vault.outcome.path


def test_a_linked_zone_without_the_callers_record_does_not_resolve(synth):
    """northeurope links its own copy of the Cosmos DB zone: without its regional endpoint the name has no answer
    there, even though the primary zone holds one."""
    def no_regional_cosmos(resources: dict[str, Resources]) -> None:
        assert drop(resources, "azurerm_private_endpoint", lambda e: not e["name"].endswith("sql-northeurope")) == 1

    [cosmos] = only(results(platform(synth, "prod", no_regional_cosmos)), "app-carprice-prod-neu", "cosmos", "Sql")
    assert not cosmos.outcome.reachable
    assert "holds no record" in cosmos.outcome.path and "does not resolve" in cosmos.outcome.path


def test_a_private_a_record_routes_callers_to_an_internal_load_balancer(synth):
    """The scoring name is served by the AKS inference router's internal load balancer: an apex A record in a zone
    named after the host, linked to every caller's network, then routed like any private address (a peering for
    the other region). Without the record, the name does not resolve privately."""
    host = "scoring.carprice.example.com"
    found = results(platform(synth, "prod"))
    for region in ("weu", "neu"):
        [scoring] = only(found, f"app-carprice-prod-{region}", host, "https")
        assert scoring.outcome.reachable, scoring.outcome.path
        assert "10.40.31.254" in scoring.outcome.path and "snet-carprice-prod-aks-weu" in scoring.outcome.path
    [northeurope] = only(found, "app-carprice-prod-neu", host, "https")
    assert "-peering-> vnet-carprice-prod-weu" in northeurope.outcome.path

    def no_record(resources: dict[str, Resources]) -> None:
        resources["prod-ml"].pop("azurerm_private_dns_a_record")

    [unresolved] = only(results(platform(synth, "prod", no_record)), "app-carprice-prod-weu", host, "https")
    assert not unresolved.outcome.reachable and "holds no A record" in unresolved.outcome.path


def test_a_security_group_deny_rule_is_refused_rather_than_misread(synth):
    def deny(resources: dict[str, Resources]) -> None:
        nsg = next(iter(resources["prod-foundation"]["azurerm_network_security_group"].values()))
        nsg["security_rule"] = [{"name": "DenyAll", "direction": "Inbound", "access": "Deny", "priority": 100}]

    with pytest.raises(ValueError, match="deny rule DenyAll is not modelled"):
        platform(synth, "prod", deny)


def test_a_flow_row_missing_a_field_names_the_row(tmp_path):
    flows = tmp_path / "flows.yaml"
    flows.write_text("- {source: laptop, target: azurerm_cosmosdb_account, subresource: Sql}\n", encoding="utf-8")
    with pytest.raises(FlowsError, match="flows.yaml row 1: needs exactly source, target, subresource, why"):
        load_flows(flows)


def test_a_selector_matching_nothing_is_an_unreachable_flow_not_a_silent_skip(synth):
    [result] = results(platform(synth, "dev"), Flow("laptop", "azurerm_redis_cache", "redisCache", "a cache"))
    assert not result.outcome.reachable
    assert "matches 0 resources in dev" in result.outcome.path


def test_the_committed_matrix_is_the_models(synth):
    assert (REPO / "docs/reachability.md").read_text(encoding="utf-8") == render(evaluate(synth.root)), (
        "docs/reachability.md is stale: run `make reachability-doc`")


def test_the_genai_tier_is_reached_through_each_regions_own_zone_link(synth):
    """The Azure OpenAI account (genai stack) is evaluated by the same rules as every data plane: reachable
    through its private endpoint from each app region, and closed to a region whose zone copy is not linked."""
    row = Flow("azurerm_linux_web_app@app-<region>", "azurerm_cognitive_account", "account", "genai answers")
    found = {r.source.split("-")[-2]: r for r in results(platform(synth, "prod"), row)}
    assert found["weu"].outcome.reachable and "privatelink.openai.azure.com linked" in found["weu"].outcome.path
    assert found["neu"].outcome.reachable

    def unlink_northeurope(resources: dict[str, Resources]) -> None:
        northeurope_openai = lambda link: (link["name"] == "link-northeurope"  # noqa: E731
                                           and "ZoneOpenaiAzure" in link["private_dns_zone_name"])
        assert drop(resources, "azurerm_private_dns_zone_virtual_network_link",
                    lambda link: not northeurope_openai(link)) == 1

    unlinked = {r.source.split("-")[-2]: r for r in results(platform(synth, "prod", unlink_northeurope), row)}
    assert unlinked["weu"].outcome.reachable and not unlinked["neu"].outcome.reachable
    assert "no privatelink.openai.azure.com zone is linked to vnet-carprice-prod-neu" in unlinked["neu"].outcome.path


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_scoring_token_is_fetched_from_resource_manager_through_the_callers_egress(synth, env):
    """The Kubernetes endpoint's token comes from Resource Manager's public host (no private endpoint of ours), so
    a caller needs a way out; a function subnet without one cannot fetch it."""
    token_flows = [f for f in load_flows() if f.target == "setting:CARPRICE_ENDPOINT_TOKEN_URL"]
    found = results(platform(synth, env), *token_flows)
    assert found and all(r.outcome.reachable and r.target == "resource-manager:management.azure.com" for r in found)

    def no_way_out(resources: dict[str, Resources]) -> None:
        for stack in resources.values():
            for subnet in stack.get("azurerm_subnet", {}).values():
                if "-functions-" in subnet.get("name", ""):
                    subnet.update(delegation=[], default_outbound_access_enabled=False)

    [function] = only(results(platform(synth, env, no_way_out), *token_flows), "func-carprice", "resource-manager",
                      "https")
    assert not function.outcome.reachable and "no way to the internet" in function.outcome.path
