"""The managed-identity reference every module receives, in the shape of AVM's `managed_identities` interface.

A module that runs as a user-assigned identity, grants it roles or hands it to a service as the identity for a
key, a Key Vault reference or an SDK client needs its resource id, principal id and client id: one value carries
the three, so no module takes them as separate arguments that can come from two different identities.
"""

from __future__ import annotations

from dataclasses import dataclass

from cdktn_provider_azurerm.user_assigned_identity import UserAssignedIdentity


@dataclass(frozen=True)
class ManagedIdentity:
    """A user-assigned identity (AVM: `user_assigned_resource_ids` entry, with the ids its consumers need)."""

    resource_id: str  # what a resource's `identity_ids` lists
    principal_id: str  # what a role assignment grants to
    client_id: str  # what an SDK or a connection setting selects the identity by

    @classmethod
    def of(cls, identity: UserAssignedIdentity) -> ManagedIdentity:
        return cls(resource_id=identity.id, principal_id=identity.principal_id, client_id=identity.client_id)
