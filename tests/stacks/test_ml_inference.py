"""Constraints AKS as Azure ML's inference compute relies on (docs/deploy-readiness.md, ML section)."""

import json
from pathlib import Path

import cdktn
import pytest
import yaml

from stacks.compute_config import Aks, local_disk_gib
from stacks.config import ENVIRONMENTS_DIR, ConfigError, load_environment
from stacks.modules.identity import ManagedIdentity
from stacks.modules.inference_cluster import InferenceCluster
from stacks.modules.interfaces import Interfaces, Placement
from stacks.modules.propagation import ROLE_PROPAGATION_WAIT

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]


def _extension(synth, env):
    return synth.one(f"{env}-ml", "azurerm_kubernetes_cluster_extension")


def _write_env(folder: Path, name: str, change) -> Path:
    data = yaml.safe_load((ENVIRONMENTS_DIR / f"{name}.yaml").read_text())
    change(data["aks"])
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("env", ENVS)
def test_node_pools_use_ephemeral_os_disks_only_on_sizes_with_a_local_disk(synth, env):
    aks = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")
    pools = [aks["default_node_pool"], synth.one(f"{env}-ml", "azurerm_kubernetes_cluster_node_pool")]
    for pool in pools:
        assert pool["os_disk_type"] == "Ephemeral"
        assert local_disk_gib(pool["vm_size"]) >= pool["os_disk_size_gb"], pool["vm_size"]


def test_an_ephemeral_os_disk_on_a_size_without_a_temp_disk_names_the_file_and_key(tmp_path):
    path = _write_env(tmp_path, "dev", lambda aks: aks.update(user_vm_size="Standard_D4s_v5"))
    with pytest.raises(ConfigError) as error:
        load_environment(path)
    assert str(path) in str(error.value)
    assert "key 'aks.user_vm_size': " in str(error.value)
    assert "no local temp disk" in str(error.value)


def test_managed_os_disks_accept_any_size_and_small_temp_disks_are_refused(tmp_path):
    managed = _write_env(tmp_path, "dev", lambda aks: aks.update(system_vm_size="Standard_D2s_v5",
                                                                  os_disk_type="Managed"))
    assert load_environment(managed).aks.os_disk_type == "Managed"
    too_big = _write_env(tmp_path, "dev", lambda aks: aks.update(os_disk_size_gb=128))
    with pytest.raises(ConfigError, match=r"key 'aks.system_vm_size': .*75 GiB temp disk"):
        load_environment(too_big)


@pytest.mark.parametrize("env", ENVS)
def test_local_accounts_stay_enabled_for_the_azure_ml_extension(synth, env):
    # Learn how-to-deploy-kubernetes-extension, Limitations: disabling local accounts isn't supported.
    aks = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")
    assert aks["local_account_disabled"] is False
    assert aks["azure_active_directory_role_based_access_control"]["azure_rbac_enabled"] is True


def test_a_public_api_server_must_admit_the_azure_ml_control_plane(tmp_path):
    # Learn how-to-deploy-kubernetes-extension, Limitations: authorized IP ranges must include Azure ML's.
    path = _write_env(tmp_path, "dev", lambda aks: aks.update(private_cluster=False))
    with pytest.raises(ConfigError, match=r"key 'aks': .*azureml_control_plane_ip_ranges"):
        load_environment(path)


@pytest.mark.parametrize("env", ENVS)
def test_extension_gets_the_chart_keys_the_cli_would_derive(synth, env):
    settings = _extension(synth, env)["configuration_settings"]
    assert settings["enableInference"] == "True"
    assert settings["inferenceRouterServiceType"] == "LoadBalancer"
    assert settings["internalLoadBalancerProvider"] == "azure"
    assert settings["scoringFe.serviceType.internalLoadBalancer"] == "True"
    assert settings["clusterId"] == settings["cluster_name"]
    assert settings["clusterId"].startswith("${azurerm_kubernetes_cluster.")
    assert settings["relayserver.enabled"] == "false"


def test_https_inference_has_a_cname_and_the_certificate_from_key_vault(synth):
    extension = _extension(synth, "prod")
    assert extension["configuration_settings"]["allowInsecureConnections"] == "False"
    assert extension["configuration_settings"]["sslCname"] == "scoring.carprice.example.com"
    protected = extension["configuration_protected_settings"]
    assert "azurerm_key_vault_certificate_data" in protected["scoringFe.sslCert"]
    assert "azurerm_key_vault_certificate_data" in protected["scoringFe.sslKey"]
    certificate = next(iter(synth.stack("prod-ml")["data"]["azurerm_key_vault_certificate_data"].values()))
    assert certificate["name"] == "aks-inference-tls"


def test_without_a_certificate_inference_is_http_on_the_internal_load_balancer_only(synth):
    settings = _extension(synth, "dev")["configuration_settings"]
    assert settings["allowInsecureConnections"] == "True"
    assert "sslCname" not in settings
    assert "configuration_protected_settings" not in _extension(synth, "dev")


@pytest.mark.parametrize(("env", "ha"), [("dev", "False"), ("prod", "True")])
def test_router_high_availability_only_with_three_user_nodes(synth, env, ha):
    # Learn: inferenceRouterHA needs at least three worker nodes.
    settings = _extension(synth, env)["configuration_settings"]
    assert settings["inferenceRouterHA"] == ha
    user_pool = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster_node_pool")
    assert (user_pool["min_count"] >= 3) is (ha == "True")


def test_prod_node_pools_span_three_zones(synth):
    aks = synth.one("prod-ml", "azurerm_kubernetes_cluster")
    assert aks["default_node_pool"]["zones"] == ["1", "2", "3"]
    assert synth.one("prod-ml", "azurerm_kubernetes_cluster_node_pool")["zones"] == ["1", "2", "3"]


@pytest.mark.parametrize("env", ENVS)
def test_someone_is_cluster_admin_under_azure_rbac(synth, env):
    admins = [g for g in synth.resources(f"{env}-ml", "azurerm_role_assignment")
              if g.get("role_definition_name") == "Azure Kubernetes Service RBAC Cluster Admin"]
    assert len(admins) == 1
    assert admins[0]["scope"].startswith("${azurerm_kubernetes_cluster.")
    # No group configured: the principal applying this stack.
    assert admins[0]["principal_id"] == "${data.azurerm_client_config.Client.object_id}"


def test_configured_admin_groups_replace_the_deployer(tmp_path):
    group = "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"
    config = load_environment(_write_env(tmp_path, "prod", lambda aks: aks.update(admin_group_object_ids=[group])))
    assert config.aks.admin_group_object_ids == (group,)
    bad = _write_env(tmp_path, "prod", lambda aks: aks.update(admin_group_object_ids=["platform-admins"]))
    with pytest.raises(ConfigError, match=r"key 'aks.admin_group_object_ids': .*not an Entra object id"):
        load_environment(bad)


@pytest.mark.parametrize("env", ENVS)
def test_container_insights_has_a_data_collection_rule_on_the_cluster(synth, env):
    rule_key, rule = next(iter(synth.stack(f"{env}-ml")["resource"]["azurerm_monitor_data_collection_rule"].items()))
    assert rule["kind"] == "Linux"
    extension = rule["data_sources"]["extension"][0]
    assert extension["extension_name"] == "ContainerInsights"
    assert rule["data_flow"][0]["destinations"] == [rule["destinations"]["log_analytics"][0]["name"]]
    association = synth.one(f"{env}-ml", "azurerm_monitor_data_collection_rule_association")
    assert association["data_collection_rule_id"] == f"${{azurerm_monitor_data_collection_rule.{rule_key}.id}}"
    assert association["target_resource_id"].startswith("${azurerm_kubernetes_cluster.")


def test_the_certificate_is_read_only_after_the_deployer_may_read_certificates(synth):
    stack = synth.stack("prod-ml")
    certificate = next(iter(stack["data"]["azurerm_key_vault_certificate_data"].values()))
    [sleep_ref] = certificate["depends_on"]
    sleep = stack["resource"]["time_sleep"][sleep_ref.split(".")[1]]
    [grant_ref] = sleep["depends_on"]
    grant = stack["resource"]["azurerm_role_assignment"][grant_ref.split(".")[1]]
    assert grant["role_definition_name"] == "Key Vault Certificate User"
    assert grant["principal_id"] == "${data.azurerm_client_config.Client.object_id}"
    assert grant["scope"] == certificate["key_vault_id"]


def test_a_public_api_server_admits_the_team_and_the_azure_ml_control_plane():
    stack = cdktn.TerraformStack(cdktn.Testing.app(), "public-api")
    sizes = Aks(system_vm_size="Standard_D2ds_v5", system_node_min=1, system_node_max=2,
                user_vm_size="Standard_D4ds_v5", user_node_min=1, user_node_max=2, sku_tier="Free",
                private_cluster=False, azureml_control_plane_ip_ranges=("20.61.0.0/24",))
    InferenceCluster(stack, "Aks", placement=Placement("rg", "westeurope"), interfaces=Interfaces(),
                     name="aks-test", sizes=sizes, subnet_id="/subnets/aks",
                     identity=ManagedIdentity("/identities/aks", "p-aks", "c-aks"), tenant_id="tenant",
                     log_analytics_workspace_id="/log",
                     deployer_object_id="deployer", allowed_ip_ranges=("203.0.113.0/24",))
    [aks] = json.loads(cdktn.Testing.synth(stack))["resource"]["azurerm_kubernetes_cluster"].values()
    assert aks["private_cluster_enabled"] is False
    assert aks["api_server_access_profile"]["authorized_ip_ranges"] == ["203.0.113.0/24", "20.61.0.0/24"]


@pytest.mark.parametrize(("size", "local"), [
    ("Standard_D4s_v5", 0), ("Standard_D4as_v5", 0), ("Standard_D2ds_v5", 75), ("Standard_E8ds_v5", 300),
    ("Standard_DS3_v2", None), ("Standard_D4ds_v6", None), ("Custom_Size", None),
])
def test_local_disk_follows_the_azure_size_naming(size, local):
    assert local_disk_gib(size) == local


@pytest.mark.parametrize("env", ENVS)
def test_aks_attach_to_the_hbi_workspace_waits_for_its_system_identity_on_storage(synth, env):
    # Learn how-to-secure-kubernetes-inferencing-environment: attaching AKS to an HBI workspace needs a
    # system-assigned identity with Storage Blob Data Contributor and Storage Account Contributor.
    stack = synth.stack(f"{env}-ml")
    workspace_key, workspace = next(iter(stack["resource"]["azurerm_machine_learning_workspace"].items()))
    assert workspace["high_business_impact"] is True
    assert workspace["identity"]["type"] == "SystemAssigned, UserAssigned"
    service_identity = f"${{azurerm_machine_learning_workspace.{workspace_key}.identity[0].principal_id}}"
    grants = {key: g for key, g in stack["resource"]["azurerm_role_assignment"].items()
              if g["principal_id"] == service_identity}
    assert sorted(g["role_definition_name"] for g in grants.values()) == [
        "Storage Account Contributor", "Storage Blob Data Contributor"]
    # Role assignments take minutes to apply: the attach waits on the one propagation wait, which waits for
    # both grants (stacks/modules/propagation.py).
    compute = synth.one(f"{env}-ml", "azapi_resource")
    sleeps = {f"time_sleep.{key}": sleep for key, sleep in stack["resource"].get("time_sleep", {}).items()}
    waits = [sleeps[dep] for dep in compute["depends_on"] if dep in sleeps]
    assert any({f"azurerm_role_assignment.{key}" for key in grants} <= set(wait["depends_on"])
               and wait["create_duration"] == ROLE_PROPAGATION_WAIT for wait in waits)


@pytest.mark.parametrize("env", ENVS)
def test_a_private_cluster_has_no_public_fqdn(synth, env):
    # Learn how-to-secure-kubernetes-inferencing-environment: a private cluster's public FQDN isn't supported.
    assert synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")["private_cluster_public_fqdn_enabled"] is False
