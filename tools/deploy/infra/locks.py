"""Which planned changes a delete lock will refuse, said before `terraform apply` hits `ScopeLocked`.

A `CanNotDelete` lock on a resource applies to its child resources too ("Lock your resources to protect your
infrastructure", Microsoft Learn: "locks apply to all child resources"), for control-plane operations only. So in
production (`lock_stateful_resources: true`), replacing or deleting a child through Resource Manager fails:
a Cosmos DB container whose partition key changes, an ML compute cluster whose VM size changes, a lake
container that is renamed. Data-plane children (Key Vault keys, secrets and certificates, which the provider
writes through the vault's own API) are not affected.

`locked_children` reads the synthesized stack (which resources are locked, which resources name one of them as
their Resource Manager parent) and `refused_changes` matches a plan's replacements and deletions against them,
so `make plan` can name each one and the lock to lift (README: "Delete locks").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LOCK_TYPE = "azurerm_management_lock"
# Top-level arguments through which a resource names its Resource Manager parent: a resource with one of them
# pointing at a locked resource lives under the lock's scope.
PARENT_ARGUMENTS = ("storage_account_id", "account_name", "machine_learning_workspace_id", "workspace_id", "parent_id")
_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.(id|name)\}$")


@dataclass(frozen=True)
class LockedChild:
    address: str  # "<type>.<key>" of the child in the stack's Terraform JSON
    parent: str  # "<type>.<key>" of the locked resource
    lock_name: str


@dataclass(frozen=True)
class RefusedChange:
    address: str
    actions: tuple[str, ...]
    parent: str
    lock_name: str

    def describe(self) -> str:
        verb = "replaces" if "create" in self.actions else "deletes"
        return (f"{self.address}: the plan {verb} it, but it is a child of {self.parent}, locked by "
                f"'{self.lock_name}' (CanNotDelete applies to children): lift the lock for this apply, or change "
                "the plan so nothing under it is deleted")


def _referenced(value: Any) -> str | None:
    if isinstance(value, str) and (match := _REFERENCE.match(value)):
        return f"{match.group(1)}.{match.group(2)}"
    return None


def locked_children(document: Mapping[str, Any]) -> list[LockedChild]:
    """Every resource of a synthesized stack that sits under a locked resource's scope."""
    resources: Mapping[str, Mapping[str, Any]] = document.get("resource", {})
    locks = {
        parent: lock.get("name", key)
        for key, lock in resources.get(LOCK_TYPE, {}).items()
        if (parent := _referenced(lock.get("scope"))) is not None
    }
    children = []
    for tf_type, items in resources.items():
        if tf_type == LOCK_TYPE:
            continue
        for key, resource in items.items():
            for argument in PARENT_ARGUMENTS:
                parent = _referenced(resource.get(argument))
                if parent in locks:
                    children.append(LockedChild(f"{tf_type}.{key}", parent, locks[parent]))
                    break
    return sorted(children, key=lambda child: child.address)


def refused_changes(document: Mapping[str, Any], resource_changes: Iterable[Mapping[str, Any]]) -> list[RefusedChange]:
    """The changes of `terraform show -json <plan>` (`resource_changes`) that the stack's locks will refuse."""
    locked = {child.address: child for child in locked_children(document)}
    refused = []
    for change in resource_changes:
        actions = tuple(change.get("change", {}).get("actions", ()))
        address = change.get("address", "")
        if "delete" in actions and address in locked:
            child = locked[address]
            refused.append(RefusedChange(address, actions, child.parent, child.lock_name))
    return refused
