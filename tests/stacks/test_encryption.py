"""Customer-managed keys: every store of data at rest, in every environment, is encrypted with a foundation key."""

import pytest

from stacks.foundation import ENCRYPTION_KEYS

pytestmark = pytest.mark.xdist_group("stacks")

ENVS = ["dev", "prod"]
ENCRYPTION_IDENTITY = "IdentityEncryption"  # construct id of the foundation's encryption identity


def _key_output(purpose):
    """The cross-stack reference to a foundation key's versionless URL, as it appears in a consumer stack."""
    return f"KeyVault_Key{purpose.title()}_"


def _role(synth, env, role):
    return [r for r in synth.resources(f"{env}-foundation", "azurerm_role_assignment")
            if r["role_definition_name"] == role]


@pytest.mark.parametrize("env", ENVS)
def test_one_hsm_key_per_kind_of_data_in_a_premium_vault(synth, env):
    assert synth.one(f"{env}-foundation", "azurerm_key_vault")["sku_name"] == "premium"
    keys = {k["name"]: k for k in synth.resources(f"{env}-foundation", "azurerm_key_vault_key")}
    assert sorted(keys) == sorted(f"cmk-{purpose}" for purpose in ENCRYPTION_KEYS)
    for key in keys.values():
        assert key["key_type"] == "RSA-HSM"
        assert key["key_size"] >= 3072
        assert key["key_opts"] == ["wrapKey", "unwrapKey"]


@pytest.mark.parametrize("env", ENVS)
def test_keys_expire_and_rotate_before_they_expire(synth, env):
    for key in synth.resources(f"{env}-foundation", "azurerm_key_vault_key"):
        assert "timeadd(timestamp()" in key["expiration_date"]
        # Rotation makes new versions with their own expiry; Terraform must not pull it back.
        assert key["lifecycle"]["ignore_changes"] == ["expiration_date"]
        policy = key["rotation_policy"]
        assert policy["expire_after"] == "P365D"
        assert policy["automatic"]["time_before_expiry"] == "P30D"
        assert policy["notify_before_expiry"] == "P29D"


@pytest.mark.parametrize("env", ENVS)
def test_deployer_creates_keys_and_the_encryption_identity_only_wraps_and_unwraps(synth, env):
    officer = _role(synth, env, "Key Vault Crypto Officer")
    assert len(officer) == 1 and "object_id" in officer[0]["principal_id"]
    user = _role(synth, env, "Key Vault Crypto Service Encryption User")
    assert len(user) == 1 and ENCRYPTION_IDENTITY in user[0]["principal_id"]
    assert officer[0]["scope"] == user[0]["scope"] and "azurerm_key_vault." in user[0]["scope"]
    officer_ref = "azurerm_role_assignment." + next(
        name for name, r in synth.stack(f"{env}-foundation")["resource"]["azurerm_role_assignment"].items()
        if r["role_definition_name"] == "Key Vault Crypto Officer"
    )
    waits = synth.stack(f"{env}-foundation")["resource"]["time_sleep"]
    waiting = {f"time_sleep.{name}" for name, wait in waits.items() if officer_ref in wait["depends_on"]}
    for key in synth.resources(f"{env}-foundation", "azurerm_key_vault_key"):
        assert waiting & set(key["depends_on"]), "a key must wait for the deployer's Crypto Officer role"


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("stack", ["data", "ml"])
def test_every_storage_account_is_encrypted_with_the_storage_key(synth, env, stack):
    accounts = synth.resources(f"{env}-{stack}", "azurerm_storage_account")
    assert accounts
    for account in accounts:
        cmk = account["customer_managed_key"]
        assert _key_output("storage") in cmk["key_vault_key_id"] and cmk["key_vault_key_id"].endswith("versionless_id}")
        assert ENCRYPTION_IDENTITY in cmk["user_assigned_identity_id"]
        assert account["identity"] == {"type": "UserAssigned", "identity_ids": [cmk["user_assigned_identity_id"]]}
        assert account["infrastructure_encryption_enabled"] is True


@pytest.mark.parametrize("env", ENVS)
def test_cosmos_is_encrypted_with_the_cosmos_key_through_the_encryption_identity(synth, env):
    account = synth.one(f"{env}-global-data", "azurerm_cosmosdb_account")
    assert _key_output("cosmos") in account["key_vault_key_id"]
    assert account["key_vault_key_id"].endswith("versionless_id}")  # Cosmos DB accepts versionless URLs only
    identity_id = account["identity"]["identity_ids"][0]
    assert ENCRYPTION_IDENTITY in identity_id and account["identity"]["type"] == "UserAssigned"
    assert account["default_identity_type"] == f"UserAssignedIdentity={identity_id}"


@pytest.mark.parametrize("env", ENVS)
def test_aks_node_disks_use_a_disk_encryption_set_with_the_disks_key(synth, env):
    stack = synth.stack(f"{env}-ml")["resource"]
    (des_name, des), = stack["azurerm_disk_encryption_set"].items()
    assert des["name"] == f"des-carprice-{env}-aks"
    assert _key_output("disks") in des["key_vault_key_id"] and des["auto_key_rotation_enabled"] is True
    assert des["encryption_type"] == "EncryptionAtRestWithPlatformAndCustomerKeys"
    assert ENCRYPTION_IDENTITY in des["identity"]["identity_ids"][0]
    cluster = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")
    assert cluster["disk_encryption_set_id"] == f"${{azurerm_disk_encryption_set.{des_name}.id}}"
    assert cluster["default_node_pool"]["host_encryption_enabled"] is True


@pytest.mark.parametrize("env", ENVS)
def test_aks_identity_reads_the_disk_encryption_set_before_the_cluster_is_created(synth, env):
    stack = synth.stack(f"{env}-ml")["resource"]
    (des_name, _), = stack["azurerm_disk_encryption_set"].items()
    grants = {name: r for name, r in stack["azurerm_role_assignment"].items()
              if r["scope"] == f"${{azurerm_disk_encryption_set.{des_name}.id}}"}
    (grant_name, grant), = grants.items()
    assert grant["role_definition_name"] == "Reader" and "IdentityAks" in grant["principal_id"]
    cluster = synth.one(f"{env}-ml", "azurerm_kubernetes_cluster")
    assert f"azurerm_role_assignment.{grant_name}" in cluster["depends_on"]
