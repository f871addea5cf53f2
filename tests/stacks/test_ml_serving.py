"""Real-time scoring on the attached AKS: the inference router's fixed private address, the name that resolves
to it in every calling network, the endpoint spec Azure ML accepts for a Kubernetes endpoint, and the app and
function settings that point at it (docs/deploy-readiness.md, "Real-time scoring")."""

from __future__ import annotations

import ipaddress

import pytest
import yaml

import contract as c
from stacks.config import ENVIRONMENTS_DIR, load_environment
from tests.environments import write_environment
from tools.checks.reachability.references import EnvironmentSynth
from tools.deploy.ml.fake_azureml import KUBERNETES_AUTH_MODES
from tools.deploy.ml.jobs import ENDPOINTS_DIR
from tools.synth_output import environment_stacks, load_stacks

pytestmark = pytest.mark.xdist_group("stacks")
ENVS = ["dev", "prod"]


def _config(env):
    return load_environment(ENVIRONMENTS_DIR / f"{env}.yaml")


@pytest.mark.parametrize("env", ENVS)
def test_the_scoring_name_resolves_to_the_routers_fixed_address(synth, env):
    config = _config(env)
    zone = synth.one(f"{env}-ml", "azurerm_private_dns_zone")
    record = synth.one(f"{env}-ml", "azurerm_private_dns_a_record")
    # The zone is the host itself, answering at its apex: a parent-domain zone would hide its public siblings.
    assert zone["name"] == config.scoring_host and record["name"] == "@"
    assert record["records"] == [config.inference_router_ip]
    assert ipaddress.ip_address(config.inference_router_ip) in ipaddress.ip_network(config.network.aks_subnet)


@pytest.mark.parametrize("env", ENVS)
def test_the_scoring_name_is_linked_to_every_network_that_calls_it(synth, env):
    # A private zone answers only in linked networks: each app region (web apps; the function app integrates
    # with the primary network) and the deploy agents (the rollout's smoke tests and probes).
    config = _config(env)
    found = synth.resources(f"{env}-ml", "azurerm_private_dns_zone_virtual_network_link")
    links = {link["name"]: link for link in found}
    expected = {"link-primary", *(f"link-{region}" for region in config.network.regions)}
    if config.agents:
        expected.add("link-agents")
        agents_vnet = next(p["remote_virtual_network_id"]
                           for p in synth.resources(f"{env}-foundation", "azurerm_virtual_network_peering")
                           if p["name"] == "peer-agents")
        assert links["link-agents"]["virtual_network_id"] == agents_vnet
    assert set(links) == expected
    assert len({link["virtual_network_id"] for link in links.values()}) == len(links)


@pytest.mark.parametrize("env", ENVS)
def test_the_router_listens_on_an_internal_load_balancer_under_the_scoring_name(synth, env):
    config = _config(env)
    settings = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster_extension")["configuration_settings"]
    assert settings["inferenceRouterServiceType"] == "LoadBalancer"
    assert settings["internalLoadBalancerProvider"] == "azure"
    if config.aks.inference_tls:
        assert settings["sslCname"] == config.scoring_host  # the certificate's name is the name that resolves


@pytest.mark.parametrize("env", ENVS)
def test_app_and_functions_call_the_kubernetes_endpoint_by_its_private_name(synth, env):
    config = _config(env)
    url = c.online_scoring_url(env, config.scoring_host, https=config.aks.inference_tls is not None)
    site = next(r for r in synth.resources(f"{env}-functions", "azapi_resource")
                if r["type"].startswith("Microsoft.Web/sites@"))
    function_settings = {s["name"]: s["value"] for s in site["body"]["properties"]["siteConfig"]["appSettings"]}
    for region in config.app_regions:
        app = synth.one(f"{env}-app-{region}", "azurerm_linux_web_app")["app_settings"]
        for settings in (app, function_settings):
            assert settings[c.SETTING_ENDPOINT_URL] == url
            assert settings[c.SETTING_ENDPOINT_SCOPE] == c.AML_ENDPOINT_TOKEN_SCOPE
            token_url = settings[c.SETTING_ENDPOINT_TOKEN_URL]
            # The workspace's id, handed over from the ML stack's state (never typed).
            assert token_url.startswith("https://management.azure.com${") and "-ml." in token_url
            assert f"/onlineEndpoints/{c.ml_endpoint_name(c.ML_ONLINE_ENDPOINT, env)}/token?" in token_url


def test_the_online_endpoint_is_a_kubernetes_endpoint_with_an_auth_mode_kubernetes_accepts():
    endpoint = yaml.safe_load((ENDPOINTS_DIR / "online-endpoint.yml").read_text())
    deployment = yaml.safe_load((ENDPOINTS_DIR / "online-deployment.yml").read_text())
    assert endpoint["$schema"].endswith("/kubernetesOnlineEndpoint.schema.json")
    assert endpoint["compute"] == f"azureml:{c.ML_INFERENCE_COMPUTE}"
    assert endpoint["auth_mode"] in KUBERNETES_AUTH_MODES  # aad_token is for managed endpoints only
    assert deployment["type"] == "kubernetes" and deployment["endpoint_name"] == c.ML_ONLINE_ENDPOINT
    assert deployment["liveness_probe"] and deployment["readiness_probe"] and deployment["instance_count"] >= 2


@pytest.mark.parametrize("env", ENVS)
def test_callers_of_the_endpoint_hold_its_token_action_and_nothing_else(synth, env):
    # Learn concept-endpoints-online-auth: fetching an aml_token needs onlineEndpoints/token/action; no built-in
    # role is that narrow, so a custom role holds exactly it, assignable in the environment's group only.
    config = _config(env)
    definitions = synth.stacks[f"{env}-ml"].resources()["azurerm_role_definition"]
    [(key, definition)] = definitions.items()
    group = f"/subscriptions/{config.subscription_id}/resourceGroups/rg-{config.workload}-{env}"
    assert definition["permissions"] == [{"actions": [c.ML_ENDPOINT_TOKEN_ACTION]}]
    assert definition["scope"] == group and definition["assignable_scopes"] == [group]
    # The web app's identity gets it on the workspace (the endpoint is created later, by the ML pipeline).
    workspace = next(iter(synth.stacks[f"{env}-ml"].resources()["azurerm_machine_learning_workspace"]))
    callers = [g for g in synth.resources(f"{env}-ml", "azurerm_role_assignment")
               if g.get("role_definition_id") == f"${{azurerm_role_definition.{key}.role_definition_resource_id}}"]
    assert [g["scope"] for g in callers] == [f"${{azurerm_machine_learning_workspace.{workspace}.id}}"]
    environment = EnvironmentSynth(environment_stacks(synth.stacks, env))
    caller = environment.node(f"{env}-ml", callers[0]["principal_id"])
    assert caller is not None and environment.name(caller) == f"id-{config.workload}-{env}-app"
    every_role = {g.get("role_definition_name") for stack in synth.stack_names() if stack.startswith(f"{env}-")
                  for g in synth.resources(stack, "azurerm_role_assignment")}
    assert "AzureML Data Scientist" not in every_role


def test_a_remote_scoring_function_app_gets_the_same_narrow_role_on_the_workspace(tmp_path):
    from stacks.main import synthesize

    remote = write_environment(tmp_path, "public", lambda d: d["functions"].update(scoring_mode="remote"))
    config = load_environment(remote)
    synthesize([config], tmp_path / "cdktf.out", progress=False)
    environment = EnvironmentSynth(load_stacks(tmp_path / "cdktf.out"))
    stack = f"{config.name}-functions"
    grants = [environment.attributes(n) for n in environment.nodes("azurerm_role_assignment") if n.stack == stack]
    callers = [g for g in grants if g.get("role_definition_id")]
    assert len(callers) == 1 and "AzureML Data Scientist" not in {g.get("role_definition_name") for g in grants}
    role = environment.node(stack, callers[0]["role_definition_id"])
    workspace = environment.node(stack, callers[0]["scope"])
    principal = environment.node(stack, callers[0]["principal_id"])
    assert role is not None and role.tf_type == "azurerm_role_definition" and role.stack == f"{config.name}-ml"
    assert workspace is not None and workspace.tf_type == "azurerm_machine_learning_workspace"
    assert principal is not None and environment.name(principal) == f"id-{config.workload}-{config.name}-func"
