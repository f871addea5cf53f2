"""The customer_managed_key interface on the modules themselves: optional, versionless by default, pinnable."""

import json

import cdktn
import pytest

from stacks.compute_config import Aks
from stacks.modules.customer_managed_key import CustomerManagedKey
from stacks.modules.identity import ManagedIdentity
from stacks.modules.inference_cluster import InferenceCluster
from stacks.modules.interfaces import Interfaces, Placement
from stacks.modules.key_vault import KeyVault
from stacks.modules.storage import SecureStorageAccount

pytestmark = pytest.mark.xdist_group("stacks")

PLACEMENT = Placement("rg-test", "westeurope")
IDENTITY = ManagedIdentity(resource_id="/identities/id-enc", principal_id="p-enc", client_id="c-enc")
VERSIONLESS = "https://kv-test.vault.azure.net/keys/cmk-test"
PINNED = CustomerManagedKey(
    key_vault_resource_id="/vaults/kv-test", key_name="cmk-test", key_versionless_id=VERSIONLESS,
    user_assigned_identity=IDENTITY, key_version="0123abcd",
)
SIZES = Aks(system_vm_size="Standard_D2ds_v5", system_node_min=1, system_node_max=2, user_vm_size="Standard_D4ds_v5",
            user_node_min=0, user_node_max=2, sku_tier="Free")


@pytest.fixture(scope="module")
def modules():
    """One small stack holding each module with the interface set in the ways the platform does not use."""
    stack = cdktn.TerraformStack(cdktn.Testing.app(), "modules")
    vault = KeyVault(stack, "StandardVault", placement=PLACEMENT, interfaces=Interfaces(), name="kv-test",
                     tenant_id="tenant", sku="standard")
    vault.add_key("Key", name="cmk-test")
    SecureStorageAccount(stack, "PlatformKeys", placement=PLACEMENT, interfaces=Interfaces(), name="stplatform")
    SecureStorageAccount(stack, "Pinned", placement=PLACEMENT, interfaces=Interfaces(customer_managed_key=PINNED),
                         name="stpinned")
    InferenceCluster(stack, "Aks", placement=PLACEMENT, interfaces=Interfaces(customer_managed_key=PINNED),
                     name="aks-test", sizes=SIZES, subnet_id="/subnets/aks",
                     identity=ManagedIdentity("/identities/aks", "p-aks", "c-aks"), tenant_id="tenant",
                     log_analytics_workspace_id="/log",
                     deployer_object_id="deployer")
    return json.loads(cdktn.Testing.synth(stack))["resource"]


def _by_name(resources, tf_type, name):
    return next(r for r in resources[tf_type].values() if r["name"] == name)


def test_key_id_is_versionless_unless_a_version_is_pinned():
    assert PINNED.key_id == f"{VERSIONLESS}/0123abcd"
    followed = CustomerManagedKey(key_vault_resource_id="/vaults/kv-test", key_name="cmk-test",
                                  key_versionless_id=VERSIONLESS, user_assigned_identity=IDENTITY)
    assert followed.key_id == VERSIONLESS
    assert followed.cosmos_default_identity == "UserAssignedIdentity=/identities/id-enc"


def test_a_standard_vault_makes_software_keys(modules):
    assert _by_name(modules, "azurerm_key_vault", "kv-test")["sku_name"] == "standard"
    assert _by_name(modules, "azurerm_key_vault_key", "cmk-test")["key_type"] == "RSA"


def test_storage_without_a_key_keeps_platform_managed_keys_and_no_identity(modules):
    account = _by_name(modules, "azurerm_storage_account", "stplatform")
    assert "customer_managed_key" not in account and "identity" not in account
    assert account["infrastructure_encryption_enabled"] is True


def test_storage_with_a_pinned_key_uses_that_version(modules):
    cmk = _by_name(modules, "azurerm_storage_account", "stpinned")["customer_managed_key"]
    assert cmk == {"key_vault_key_id": f"{VERSIONLESS}/0123abcd", "user_assigned_identity_id": "/identities/id-enc"}


def test_a_pinned_disk_key_turns_automatic_rotation_off(modules):
    des = _by_name(modules, "azurerm_disk_encryption_set", "des-aks-test")
    assert des["key_vault_key_id"] == f"{VERSIONLESS}/0123abcd"
    assert des["auto_key_rotation_enabled"] is False
    reader = next(r for r in modules["azurerm_role_assignment"].values() if r["role_definition_name"] == "Reader")
    assert reader["principal_id"] == "p-aks"
