"""The AVM-shaped interfaces every module accepts: grants keyed by name, one identity reference, one
network-access setting."""

import json

import cdktn
import pytest

from stacks.modules.interfaces import Interfaces, NetworkAccess, Placement, RoleAssignment
from stacks.modules.key_vault import KeyVault
from stacks.modules.storage import SecureStorageAccount

pytestmark = pytest.mark.xdist_group("stacks")

PLACEMENT = Placement("rg-test", "westeurope")
READER = RoleAssignment("p-reader", "Storage Blob Data Reader")
WRITER = RoleAssignment("p-writer", "Storage Blob Data Contributor")


def _synth_storage(interfaces: Interfaces, **kwargs) -> dict:
    stack = cdktn.TerraformStack(cdktn.Testing.app(), "interfaces")
    SecureStorageAccount(stack, "Account", placement=PLACEMENT, interfaces=interfaces, name="sttest", **kwargs)
    return json.loads(cdktn.Testing.synth(stack))["resource"]


def _grants(resources: dict) -> dict[str, tuple[str, str]]:
    return {key: (r["principal_id"], r["role_definition_name"])
            for key, r in resources["azurerm_role_assignment"].items()}


def test_reordering_or_removing_a_grant_keeps_the_logical_id_of_the_others():
    both = _grants(_synth_storage(Interfaces(role_assignments={"Reader": READER, "Writer": WRITER})))
    reordered = _grants(_synth_storage(Interfaces(role_assignments={"Writer": WRITER, "Reader": READER})))
    writer_only = _grants(_synth_storage(Interfaces(role_assignments={"Writer": WRITER})))
    assert both == reordered
    assert set(writer_only.items()) < set(both.items())
    assert [key for key in both if key.startswith("Account_RoleAssignmentWriter_")]


def test_a_grant_key_that_is_not_a_construct_name_is_refused_with_the_key():
    with pytest.raises(ValueError, match="'blob reader'"):
        _synth_storage(Interfaces(role_assignments={"blob reader": READER}))


def _account(resources: dict) -> dict:
    [account] = resources["azurerm_storage_account"].values()
    return account


def test_network_access_is_closed_unless_opened_and_its_ranges_apply_only_when_open():
    ranges = ("203.0.113.7/32", "198.51.100.0/24")
    closed = _account(_synth_storage(Interfaces(network_access=NetworkAccess(public=False, allowed_ip_ranges=ranges))))
    default = _account(_synth_storage(Interfaces()))
    opened = _account(_synth_storage(Interfaces(network_access=NetworkAccess(public=True, allowed_ip_ranges=ranges))))
    for account in (closed, default):
        assert account["public_network_access_enabled"] is False
        assert "ip_rules" not in account["network_rules"]
    assert opened["public_network_access_enabled"] is True
    assert opened["network_rules"]["ip_rules"] == ["203.0.113.7", "198.51.100.0/24"]  # storage takes bare IPs


def test_one_network_access_setting_reaches_every_resource_a_module_builds():
    """A module's nested resources (here a vault beside an account) follow the same setting, not their own."""
    stack = cdktn.TerraformStack(cdktn.Testing.app(), "interfaces")
    opened = Interfaces(network_access=NetworkAccess(public=True, allowed_ip_ranges=("203.0.113.0/24",)))
    SecureStorageAccount(stack, "Account", placement=PLACEMENT, interfaces=opened, name="sttest")
    KeyVault(stack, "Vault", placement=PLACEMENT, interfaces=opened, name="kv-test", tenant_id="tenant")
    resources = json.loads(cdktn.Testing.synth(stack))["resource"]
    [vault] = resources["azurerm_key_vault"].values()
    assert vault["public_network_access_enabled"] is True
    assert vault["network_acls"]["ip_rules"] == ["203.0.113.0/24"]
    assert _account(resources)["public_network_access_enabled"] is True

