"""Constraints the Azure ML workspace relies on at plan and apply time (docs/deploy-readiness.md, ML section)."""

import pytest

from contract import ML_COMPUTE_CLUSTER

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]


def _grants(synth, stack):
    return {key: grant for key, grant in synth.stack(stack)["resource"]["azurerm_role_assignment"].items()}


def _is_ml_identity(synth, stack, grant):
    principal = synth.referenced(stack, grant["principal_id"])
    return principal is not None and principal.name == f"id-carprice-{stack.split('-')[0]}-ml"


def _ml_grants_on(synth, stack, tf_type):
    """The roles the ML identity holds on the stack's one resource of `tf_type`."""
    return sorted(
        grant["role_definition_name"] for grant in _grants(synth, stack).values()
        if _is_ml_identity(synth, stack, grant) and synth.referenced(stack, grant["scope"]).tf_type == tf_type
    )


@pytest.mark.parametrize("env", ENVS)
def test_storage_access_type_uses_the_providers_exact_spelling(synth, env):
    # azurerm v4.81.0 machine_learning_workspace_resource.go: StringInSlice([AccessKey, Identity], false).
    workspace = synth.one(f"{env}-ml", "azurerm_machine_learning_workspace")
    assert workspace["storage_account_access_type"] == "Identity"


@pytest.mark.parametrize("env", ENVS)
def test_workspace_uses_our_network_so_compute_may_live_in_our_subnets(synth, env):
    # Learn how-to-managed-network, Limitations: with a managed network, compute can't go in your own VNet,
    # and Kubernetes compute isn't supported. So no managed network, and the cluster sits in the ML subnet.
    workspace = synth.one(f"{env}-ml", "azurerm_machine_learning_workspace")
    assert workspace["managed_network"] == {"isolation_mode": "Disabled"}
    cluster = synth.one(f"{env}-ml", "azurerm_machine_learning_compute_cluster")
    assert synth.referenced(f"{env}-ml", cluster["subnet_resource_id"]).name.startswith(f"snet-carprice-{env}-ml-")
    endpoints = {pe["private_service_connection"]["subresource_names"][0]
                 for pe in synth.resources(f"{env}-ml", "azurerm_private_endpoint")}
    assert {"amlworkspace", "blob", "file", "registry", "vault"} <= endpoints


@pytest.mark.parametrize("env", ENVS)
def test_training_cluster_has_no_public_ip_and_leaves_through_a_nat_gateway(synth, env):
    # The platform's subnets have default outbound access off; a no-public-IP cluster needs an outbound path.
    cluster = synth.one(f"{env}-ml", "azurerm_machine_learning_compute_cluster")
    assert cluster["node_public_ip_enabled"] is False
    association_key, association = next(iter(
        synth.stack(f"{env}-ml")["resource"]["azurerm_subnet_nat_gateway_association"].items()
    ))
    assert synth.referenced(f"{env}-ml", association["subnet_id"]).name.startswith(f"snet-carprice-{env}-ml-")
    assert cluster["depends_on"] == [f"azurerm_subnet_nat_gateway_association.{association_key}"]


@pytest.mark.parametrize("env", ENVS)
def test_images_are_built_on_the_training_cluster_because_the_registry_is_private(synth, env):
    workspace = synth.one(f"{env}-ml", "azurerm_machine_learning_workspace")
    assert workspace["image_build_compute_name"] == ML_COMPUTE_CLUSTER


@pytest.mark.parametrize("env", ENVS)
def test_workspace_identity_holds_the_documented_roles_before_the_workspace_exists(synth, env):
    # Learn how-to-identity-based-service-authentication, "User-assigned managed identity" table.
    stack = f"{env}-ml"
    assert _ml_grants_on(synth, stack, "azurerm_storage_account") == [
        "Contributor", "Storage Blob Data Contributor", "Storage File Data Privileged Contributor"]
    assert _ml_grants_on(synth, stack, "azurerm_container_registry") == ["AcrPush", "Contributor"]
    assert _ml_grants_on(synth, stack, "azurerm_key_vault") == ["Contributor", "Key Vault Administrator"]
    assert _ml_grants_on(synth, stack, "azurerm_application_insights") == [
        "Contributor", "Monitoring Metrics Publisher"]
    assert _ml_grants_on(synth, stack, "azurerm_machine_learning_workspace") == ["Contributor"]
    workspace = synth.one(stack, "azurerm_machine_learning_workspace")
    [wait_ref] = workspace["depends_on"]
    wait = synth.stack(stack)["resource"]["time_sleep"][wait_ref.removeprefix("time_sleep.")]
    assert wait["create_duration"] == "180s"  # RBAC propagation, as the AVM modules wait
    waits_for = set(wait["depends_on"])
    for key, grant in _grants(synth, stack).items():
        scope = synth.referenced(stack, grant["scope"]).tf_type
        if _is_ml_identity(synth, stack, grant) and scope != "azurerm_machine_learning_workspace":
            assert f"azurerm_role_assignment.{key}" in waits_for, f"workspace does not wait for {key}"


@pytest.mark.parametrize("env", ENVS)
def test_workspace_has_its_own_vault_not_the_one_holding_the_encryption_keys(synth, env):
    workspace = synth.one(f"{env}-ml", "azurerm_machine_learning_workspace")
    vault = synth.one(f"{env}-ml", "azurerm_key_vault")
    assert synth.referenced(f"{env}-ml", workspace["key_vault_id"]).name == vault["name"]
    assert vault["rbac_authorization_enabled"] is True and vault["purge_protection_enabled"] is True
    foundation_grants = synth.stack(f"{env}-foundation")["resource"]["azurerm_role_assignment"].values()
    assert not [g for g in foundation_grants if _is_ml_identity(synth, f"{env}-foundation", g)]


@pytest.mark.parametrize("env", ENVS)
def test_the_lake_has_blob_and_dfs_private_endpoints_for_jobs_in_our_network(synth, env):
    endpoints = {pe["private_service_connection"]["subresource_names"][0]
                 for pe in synth.resources(f"{env}-data", "azurerm_private_endpoint")
                 if "Lake" in pe["private_service_connection"]["private_connection_resource_id"]}
    assert {"blob", "dfs"} <= endpoints


@pytest.mark.parametrize("env", ENVS)
def test_registry_neither_quarantines_nor_requires_content_trust(synth, env):
    # Quarantined images are unpullable until a scanner passes them; Docker Content Trust is being retired.
    registry = synth.one(f"{env}-ml", "azurerm_container_registry")
    assert registry["quarantine_policy_enabled"] is False
    assert registry["trust_policy_enabled"] is False


def test_the_workspace_service_passes_its_storage_firewall_as_a_resource_instance(synth):
    # Learn how-to-secure-workspace-vnet: allow the workspace as a resource instance on its storage account.
    workspace = synth.one("dev-ml", "azurerm_machine_learning_workspace")
    account = synth.one("dev-ml", "azurerm_storage_account")
    rules = account["network_rules"]
    assert rules["default_action"] == "Deny" and account["public_network_access_enabled"] is True
    [instance] = rules["private_link_access"]
    assert instance["endpoint_resource_id"].endswith(
        f"/providers/Microsoft.MachineLearningServices/workspaces/{workspace['name']}"
    )
    assert f"/resourceGroups/{workspace['resource_group_name']}/" in instance["endpoint_resource_id"]


def test_a_closed_workspace_storage_carries_no_resource_instance_rule(synth):
    """Resource-instance rules are part of the public endpoint's firewall: with public network access disabled
    they admit nothing (Learn storage-network-security; the built-in policy "Storage accounts should disable public
    network access": Disabled denies everything that matches IP or virtual-network firewall rules)."""
    account = synth.one("prod-ml", "azurerm_storage_account")
    assert account["public_network_access_enabled"] is False
    assert "private_link_access" not in account["network_rules"]


@pytest.mark.parametrize("env", ENVS)
def test_workspace_storage_has_all_four_endpoints_batch_deployments_need(synth, env):
    """Learn how-to-secure-batch-endpoint: blob, file, queue and table private endpoints, each in its zone."""
    account = synth.one(f"{env}-ml", "azurerm_storage_account")
    endpoints = {
        e["private_service_connection"]["subresource_names"][0]: e["private_dns_zone_group"]["private_dns_zone_ids"]
        for e in synth.resources(f"{env}-ml", "azurerm_private_endpoint")
        if e["private_service_connection"]["private_connection_resource_id"].startswith("${azurerm_storage_account.")
    }
    assert set(endpoints) == {"blob", "file", "queue", "table"}, account["name"]
    for group in ("queue", "table"):
        assert "Zone" + group.title() + "Core" in endpoints[group][0]


def test_the_workspace_vault_has_no_endpoint_in_the_other_app_region(synth):
    """Only the workspace and its compute (primary network) use the workspace's vault."""
    vault = synth.one("prod-ml", "azurerm_key_vault")["name"]
    names = [e["name"] for e in synth.resources("prod-ml", "azurerm_private_endpoint")]
    assert f"pe-{vault}-vault" in names
    assert not [n for n in names if n.endswith("-northeurope")]
