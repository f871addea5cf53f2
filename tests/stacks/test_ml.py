import pytest

from contract import ML_COMPUTE_CLUSTER, ML_INFERENCE_COMPUTE, ML_LAKE_DATASTORES

pytestmark = pytest.mark.xdist_group("stacks")


@pytest.mark.parametrize(("env", "public"), [("dev", True), ("prod", False)])
def test_workspace_public_access_follows_the_environment(synth, env, public):
    workspace = synth.one(f"{env}-ml", "azurerm_machine_learning_workspace")
    assert workspace["public_network_access_enabled"] is public
    assert workspace["storage_account_access_type"] == "Identity"
    assert workspace["identity"]["type"] == "SystemAssigned, UserAssigned"
    for link in ("key_vault_id", "application_insights_id", "storage_account_id", "container_registry_id"):
        assert workspace[link].startswith("${"), f"{link} must reference a resource"


def test_training_cluster_scales_to_zero_without_local_auth(synth):
    cluster = synth.one("prod-ml", "azurerm_machine_learning_compute_cluster")
    assert cluster["name"] == ML_COMPUTE_CLUSTER
    assert cluster["scale_settings"]["min_node_count"] == 0
    assert cluster["scale_settings"]["max_node_count"] == 6
    assert cluster["local_auth_enabled"] is False
    assert cluster["node_public_ip_enabled"] is False


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_aks_uses_entra_rbac_cni_network_policy_and_monitoring(synth, env):
    aks = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")
    assert aks["azure_active_directory_role_based_access_control"]["azure_rbac_enabled"] is True
    assert aks["network_profile"]["network_plugin"] == "azure"
    assert aks["network_profile"]["network_policy"] == "azure"
    assert aks["azure_policy_enabled"] is True
    assert aks["oms_agent"]["log_analytics_workspace_id"]
    assert aks["default_node_pool"]["auto_scaling_enabled"] is True
    pool = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster_node_pool")
    assert pool["mode"] == "User" and pool["auto_scaling_enabled"] is True


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_aks_api_server_is_private_in_every_environment(synth, env):
    aks = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")
    assert aks["private_cluster_enabled"] is True
    assert "api_server_access_profile" not in aks


def test_aks_is_attached_to_the_workspace_as_kubernetes_compute(synth):
    extension = synth.one("prod-ml", "azurerm_kubernetes_cluster_extension")
    assert extension["extension_type"] == "Microsoft.AzureML.Kubernetes"
    compute = synth.one("prod-ml", "azapi_resource")
    assert compute["type"].startswith("Microsoft.MachineLearningServices/workspaces/computes@")
    assert compute["name"] == ML_INFERENCE_COMPUTE
    assert compute["body"]["properties"]["computeType"] == "Kubernetes"


def test_one_datastore_per_lake_layer_using_the_workspace_identity(synth):
    stores = synth.resources("dev-ml", "azurerm_machine_learning_datastore_datalake_gen2")
    assert sorted(s["name"] for s in stores) == sorted(ML_LAKE_DATASTORES.values())
    assert {s["service_data_identity"] for s in stores} == {"WorkspaceUserAssignedIdentity"}


def test_registry_has_no_admin_user_or_anonymous_pull(synth):
    registry = synth.one("prod-ml", "azurerm_container_registry")
    assert registry["admin_enabled"] is False
    assert registry["anonymous_pull_enabled"] is False
    assert registry["public_network_access_enabled"] is False
