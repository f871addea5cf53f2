"""Key Vault with the secure defaults: RBAC authorization, purge protection, firewall closed by default.

Its keys encrypt data at rest (customer-managed keys): HSM-protected on a premium vault, rotated
automatically before they expire.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from cdktn import Fn, TerraformResource, TerraformResourceLifecycle
from cdktn_provider_azurerm.key_vault import KeyVault as AzKeyVault
from cdktn_provider_azurerm.key_vault import KeyVaultNetworkAcls
from cdktn_provider_azurerm.key_vault_certificate import (
    KeyVaultCertificate,
    KeyVaultCertificateCertificatePolicy,
    KeyVaultCertificateCertificatePolicyIssuerParameters,
    KeyVaultCertificateCertificatePolicyKeyProperties,
    KeyVaultCertificateCertificatePolicyLifetimeAction,
    KeyVaultCertificateCertificatePolicyLifetimeActionAction,
    KeyVaultCertificateCertificatePolicyLifetimeActionTrigger,
    KeyVaultCertificateCertificatePolicySecretProperties,
    KeyVaultCertificateCertificatePolicyX509CertificateProperties,
    KeyVaultCertificateCertificatePolicyX509CertificatePropertiesSubjectAlternativeNames,
)
from cdktn_provider_azurerm.key_vault_key import (
    KeyVaultKey,
    KeyVaultKeyRotationPolicy,
    KeyVaultKeyRotationPolicyAutomatic,
)
from cdktn_provider_azurerm.key_vault_secret import KeyVaultSecret
from constructs import Construct

from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces

KeyVaultSku = Literal["standard", "premium"]
# Each key version lives a year; a new version is made a month before the current one expires, and the
# services hold the versionless key URL, so they move to it by themselves (no redeploy, no outage).
KEY_LIFETIME_DAYS = 365
ROTATE_DAYS_BEFORE_EXPIRY = 30


class KeyVault(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str, tenant_id: str,
        sku: KeyVaultSku = "premium", deployer_route: Sequence[TerraformResource] = (),
    ) -> None:
        """`deployer_route`: what the deployer's own network path to the private endpoint is made of (the agents'
        peering and DNS links), when it is built in the same apply."""
        super().__init__(scope, id_)
        self.vault = AzKeyVault(
            self, "Vault",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            tenant_id=tenant_id,
            sku_name=sku,  # premium: keys can be HSM-protected
            # Access through Azure RBAC role assignments only, never vault access policies.
            rbac_authorization_enabled=True,
            purge_protection_enabled=True,
            soft_delete_retention_days=90,
            public_network_access_enabled=interfaces.network_access.public,
            network_acls=KeyVaultNetworkAcls(
                default_action="Deny",
                bypass="AzureServices",
                ip_rules=interfaces.network_access.ip_rules,
            ),
        )
        self.resource_id = self.vault.id  # read once: each read is a round trip to Node
        self._placement = placement
        self._sku = sku
        self._standard = StandardInterfaces(self, placement, interfaces)
        self._standard.apply(
            resource_id=self.resource_id, resource_name=name, private_endpoint_subresources=["vault"], stateful=True
        )
        # Keys and secrets are data-plane writes: with public access off they travel through the private
        # endpoint, and the deployer's Officer roles must have propagated (AVM key vault: main.keys.tf).
        self._data_plane_ready = [*self._standard.data_plane_ready("WaitForRolePropagation"), *deployer_route]

    def add_secret(self, id_: str, *, name: str, value: str, expires_on: str, content_type: str) -> KeyVaultSecret:
        """A secret for an app setting's Key Vault reference; it expires so rotation is never forgotten."""
        return KeyVaultSecret(
            self, id_,
            name=name,
            value=value,
            key_vault_id=self.resource_id,
            tags=self._placement.tags,
            content_type=content_type,
            expiration_date=expires_on,
            depends_on=list(self._data_plane_ready),
        )

    def add_key(self, id_: str, *, name: str) -> KeyVaultKey:
        """An RSA key for wrapping data-encryption keys (customer-managed keys), rotated automatically.

        HSM-protected when the vault is premium. The first version expires a year after creation; later
        versions are made by the rotation policy, so Terraform ignores the expiry it finds afterwards.
        """
        return KeyVaultKey(
            self, id_,
            name=name,
            key_vault_id=self.resource_id,
            tags=self._placement.tags,
            key_type="RSA-HSM" if self._sku == "premium" else "RSA",
            key_size=3072,
            key_opts=["wrapKey", "unwrapKey"],  # envelope encryption only: no sign, no bulk decrypt
            expiration_date=Fn.timeadd(Fn.timestamp(), f"{KEY_LIFETIME_DAYS * 24}h"),
            rotation_policy=KeyVaultKeyRotationPolicy(
                expire_after=f"P{KEY_LIFETIME_DAYS}D",
                notify_before_expiry=f"P{ROTATE_DAYS_BEFORE_EXPIRY - 1}D",
                automatic=KeyVaultKeyRotationPolicyAutomatic(time_before_expiry=f"P{ROTATE_DAYS_BEFORE_EXPIRY}D"),
            ),
            lifecycle=TerraformResourceLifecycle(ignore_changes=["expiration_date"]),
            depends_on=list(self._data_plane_ready),
        )

    def add_self_signed_certificate(
        self, id_: str, *, name: str, common_name: str, dns_names: Sequence[str]
    ) -> KeyVaultCertificate:
        """A TLS server certificate Key Vault issues and renews itself, for listeners that have no certificate
        of their own yet. Browsers do not trust it: replace it with a CA-issued one for a real domain."""
        return KeyVaultCertificate(
            self, id_,
            name=name,
            key_vault_id=self.resource_id,
            tags=self._placement.tags,
            certificate_policy=KeyVaultCertificateCertificatePolicy(
                issuer_parameters=KeyVaultCertificateCertificatePolicyIssuerParameters(name="Self"),
                key_properties=KeyVaultCertificateCertificatePolicyKeyProperties(
                    exportable=True, key_type="RSA", key_size=2048, reuse_key=False
                ),
                secret_properties=KeyVaultCertificateCertificatePolicySecretProperties(
                    content_type="application/x-pkcs12"  # what Application Gateway reads
                ),
                x509_certificate_properties=KeyVaultCertificateCertificatePolicyX509CertificateProperties(
                    subject=f"CN={common_name}",
                    subject_alternative_names=KeyVaultCertificateCertificatePolicyX509CertificatePropertiesSubjectAlternativeNames(
                        dns_names=[common_name, *dns_names]
                    ),
                    key_usage=["digitalSignature", "keyEncipherment"],
                    extended_key_usage=["1.3.6.1.5.5.7.3.1"],  # server authentication
                    validity_in_months=12,
                ),
                lifetime_action=[KeyVaultCertificateCertificatePolicyLifetimeAction(
                    action=KeyVaultCertificateCertificatePolicyLifetimeActionAction(action_type="AutoRenew"),
                    trigger=KeyVaultCertificateCertificatePolicyLifetimeActionTrigger(days_before_expiry=30),
                )],
            ),
            depends_on=list(self._data_plane_ready),
        )
