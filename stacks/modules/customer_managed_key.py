"""The customer-managed key (CMK) interface, in the shape of Azure Verified Modules' `customer_managed_key`.

A module that can encrypt at rest with a Key Vault key receives one `CustomerManagedKey` through its
`Interfaces` and applies it in exactly one place for its resource kind (storage account block, Cosmos DB
arguments, AKS disk encryption set). The foundation stack owns the vault, the keys and the encryption
identity; consumers never build key URLs themselves.
"""

from __future__ import annotations

from dataclasses import dataclass

from stacks.modules.identity import ManagedIdentity


@dataclass(frozen=True)
class CustomerManagedKey:
    """A Key Vault key plus the identity that may wrap and unwrap with it.

    `key_versionless_id` is the key's URL without a version: services that receive it pick up each new
    version the rotation policy creates, so rotation needs no redeploy. Set `key_version` only to pin one.
    """

    key_vault_resource_id: str
    key_name: str
    key_versionless_id: str
    user_assigned_identity: ManagedIdentity
    key_version: str | None = None

    @property
    def key_id(self) -> str:
        """The key URL a service is configured with: versionless unless a version is pinned."""
        if self.key_version is None:
            return self.key_versionless_id
        return f"{self.key_versionless_id}/{self.key_version}"

    @property
    def cosmos_default_identity(self) -> str:
        """Cosmos DB's `default_identity_type` value: which identity it uses to reach the key."""
        return f"UserAssignedIdentity={self.user_assigned_identity.resource_id}"
