"""Finding: hosted agents cannot reach private data planes. prod's jobs run on a Managed DevOps Pool in
the network, created before the foundation by `make bootstrap`, peered and DNS-linked to the environment."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from stacks.config import ConfigError, load_environment
from tests.conftest import SynthOutput
from tests.environments import write_environment
from tools.checks.pipelines import check, expand
from tools.deploy.infra.plan import select_stacks

pytestmark = pytest.mark.xdist_group("stacks")
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("env", ["dev", "prod"])  # dev's data planes admit only allowed_ip_ranges: no hosted agent
def test_pool_is_injected_into_a_delegated_subnet_with_egress_and_the_pool_services_roles(synth: SynthOutput, env):
    pool = synth.one(f"{env}-agents", "azurerm_managed_devops_pool")
    assert pool["name"] == check.template_variables()[env]["agentPool"]
    assert pool["stateless_agent"] == {} and pool["virtual_machine_scale_set_fabric"]["subnet_id"].startswith(
        "${azurerm_subnet.")
    subnet = synth.one(f"{env}-agents", "azurerm_subnet")
    assert subnet["delegation"][0]["service_delegation"]["name"] == "Microsoft.DevOpsInfrastructure/pools"
    assert synth.one(f"{env}-agents", "azurerm_subnet_nat_gateway_association")
    roles = {r["role_definition_name"] for r in synth.resources(f"{env}-agents", "azurerm_role_assignment")}
    assert roles == {"Reader", "Network Contributor"}
    assert all(dep.startswith("azurerm_role_assignment.") for dep in pool["depends_on"])


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_foundation_peers_the_agents_network_and_links_every_private_dns_zone(synth: SynthOutput, env) -> None:
    foundation = f"{env}-foundation"
    peerings = [p for key, p in synth.stack(foundation)["resource"]["azurerm_virtual_network_peering"].items()
                if key.startswith("AgentNetwork_")]
    # Both ways with every network of the environment: peering is not transitive.
    networks = synth.resources(foundation, "azurerm_virtual_network")
    assert len(peerings) == 2 * len(networks)
    vnet = synth.one(f"{env}-agents", "azurerm_virtual_network")
    assert {p["virtual_network_name"] for p in peerings} >= {vnet["name"]}
    links = {key: link for key, link in
             synth.stack(foundation)["resource"]["azurerm_private_dns_zone_virtual_network_link"].items()
             if key.startswith("AgentNetwork_")}
    zones = synth.stack(foundation)["resource"]["azurerm_private_dns_zone"]
    primary = {key for key in zones if key.startswith("PrivateDns_")}  # not the regional copies
    assert {link["private_dns_zone_name"].removeprefix("${azurerm_private_dns_zone.").removesuffix(".name}")
            for link in links.values()} == primary
    assert all(link["virtual_network_id"].endswith(f"/virtualNetworks/{vnet['name']}") for link in links.values())


def test_bootstrap_creates_the_pool_and_the_pipeline_never_plans_it(synth: SynthOutput) -> None:
    makefile = (ROOT / "make" / "pipelines.mk").read_text()
    assert "-m tools.deploy.infra.bootstrap --env $(ENV)" in makefile
    assert 'only=("agents",)' in (ROOT / "tools" / "deploy" / "infra" / "bootstrap.py").read_text()
    prod = {n: s for n, s in synth.stacks.items() if n.startswith("prod-")}
    assert "prod-agents" not in select_stacks(prod, "prod") and "prod-foundation" in select_stacks(prod, "prod")
    assert select_stacks(prod, "prod", ("agents",)) == {"prod-agents"}


def test_each_environments_jobs_run_on_its_pool() -> None:
    for path in expand.pipeline_paths():
        if path.stem == "pr-validation":
            continue
        for stage in expand.expand(path).stages:
            for job in stage.jobs:
                env = "prod" if "prod" in stage.name else "dev" if "dev" in stage.name else None
                expected = {"name": f"mdp-carprice-{env}"} if env else {"vmImage": "ubuntu-24.04"}
                assert job.definition["pool"] == expected, (path.stem, stage.name, job.name)


def test_agent_network_that_overlaps_the_environment_is_refused(tmp_path: Path) -> None:
    def overlap(data: dict) -> None:
        network = ipaddress.ip_network(data["network"]["address_space"])
        inside = list(network.subnets(new_prefix=26))[-1]  # a block of the environment's own address space
        data["agents"].update(address_space=str(network), subnet=str(inside))

    with pytest.raises(ConfigError, match="agents.address_space overlaps network.address_space"):
        load_environment(write_environment(tmp_path, "private", overlap))


def test_the_pool_services_principal_is_a_terraform_variable_not_a_config_value(synth: SynthOutput) -> None:
    for env in ("dev", "prod"):
        stack = synth.stack(f"{env}-agents")
        variable = stack["variable"]["devops_infrastructure_principal_id"]
        assert "00000000-0000-0000-0000-000000000000" in variable["validation"][0]["condition"]  # refused
        grants = stack["resource"]["azurerm_role_assignment"].values()
        assert {g["principal_id"] for g in grants} == {"${var.devops_infrastructure_principal_id}"}


def test_an_all_zero_guid_anywhere_in_an_environment_file_is_refused_with_its_key(tmp_path: Path) -> None:
    def zero_guids(data: dict) -> None:
        data["agents"]["devops_infrastructure_principal_id"] = "00000000-0000-0000-0000-000000000000"
        data["functions"]["api_client_id"] = "00000000-0000-0000-0000-000000000000"

    path = write_environment(tmp_path, "private", zero_guids)
    with pytest.raises(ConfigError) as refused:
        load_environment(path)
    message = str(refused.value)
    assert str(path) in message
    assert "key 'agents.devops_infrastructure_principal_id'" in message and "key 'functions.api_client_id'" in message
