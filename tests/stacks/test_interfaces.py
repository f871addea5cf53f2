"""The AVM-shaped interfaces every module accepts: grants keyed by name, one identity reference, one
network-access setting."""

import json

import cdktn
import pytest

from stacks.modules.interfaces import Interfaces, Placement, RoleAssignment
from stacks.modules.storage import SecureStorageAccount

pytestmark = pytest.mark.xdist_group("stacks")

PLACEMENT = Placement("rg-test", "westeurope", {"owner": "platform"})
READER = RoleAssignment("p-reader", "Storage Blob Data Reader")
WRITER = RoleAssignment("p-writer", "Storage Blob Data Contributor")


def _synth_storage(interfaces: Interfaces, **kwargs) -> dict:
    stack = cdktn.TerraformStack(cdktn.Testing.app(), "interfaces")
    SecureStorageAccount(stack, "Account", placement=PLACEMENT, interfaces=interfaces, name="sttest",
                         public_network_access=False, **kwargs)
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
