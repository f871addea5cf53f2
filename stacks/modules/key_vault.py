"""Key Vault with the secure defaults: RBAC authorization, purge protection, firewall closed by default."""

from __future__ import annotations

from collections.abc import Sequence

from cdktn_provider_azurerm.key_vault import KeyVault as AzKeyVault
from cdktn_provider_azurerm.key_vault import KeyVaultNetworkAcls
from cdktn_provider_azurerm.key_vault_secret import KeyVaultSecret
from constructs import Construct

from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces


class KeyVault(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str, tenant_id: str,
        public_network_access: bool, allowed_ip_ranges: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        self.vault = AzKeyVault(
            self, "Vault",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tenant_id=tenant_id,
            sku_name="standard",
            # Access through Azure RBAC role assignments only, never vault access policies.
            rbac_authorization_enabled=True,
            purge_protection_enabled=True,
            soft_delete_retention_days=90,
            public_network_access_enabled=public_network_access,
            network_acls=KeyVaultNetworkAcls(
                default_action="Deny",
                bypass="AzureServices",
                ip_rules=list(allowed_ip_ranges) if public_network_access else None,
            ),
            tags=dict(placement.tags),
        )
        self._placement = placement
        self._standard = StandardInterfaces(self, placement, interfaces)
        self._standard.apply(
            resource_id=self.vault.id, resource_name=name, private_endpoint_subresources=["vault"], stateful=True
        )

    def add_secret(self, id_: str, *, name: str, value: str, expires_on: str, content_type: str) -> KeyVaultSecret:
        """A secret for an app setting's Key Vault reference; it expires so rotation is never forgotten."""
        return KeyVaultSecret(
            self, id_,
            name=name,
            value=value,
            key_vault_id=self.vault.id,
            content_type=content_type,
            expiration_date=expires_on,
            tags=dict(self._placement.tags),
            depends_on=list(self._standard.granted),  # the deployer's data-plane role must exist first
        )
