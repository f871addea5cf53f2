"""A storage account with the secure defaults: Entra ID only, TLS 1.2, no public blobs, recoverable data,
blobs and files encrypted with the customer-managed key (plus infrastructure encryption)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cdktn_provider_azurerm.storage_account import (
    StorageAccount,
    StorageAccountBlobProperties,
    StorageAccountBlobPropertiesContainerDeleteRetentionPolicy,
    StorageAccountBlobPropertiesDeleteRetentionPolicy,
    StorageAccountCustomerManagedKey,
    StorageAccountIdentity,
    StorageAccountNetworkRules,
    StorageAccountNetworkRulesPrivateLinkAccess,
    StorageAccountSasPolicy,
)
from constructs import Construct

from stacks.modules.customer_managed_key import CustomerManagedKey
from stacks.modules.interfaces import DiagnosticTarget, Interfaces, NetworkAccess, Placement, StandardInterfaces


class SecureStorageAccount(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, name: str,
        hierarchical_namespace: bool = False,
        replication: str = "GZRS", soft_delete_days: int = 14, private_endpoint_subresources: Sequence[str] = ("blob",),
        resource_access_ids: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, id_)
        network = interfaces.network_access
        self.account = StorageAccount(
            self, "Account",
            name=name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            account_kind="StorageV2",
            account_tier="Standard",
            account_replication_type=replication,  # GZRS: survives a zone outage and, failed over, a region's
            is_hns_enabled=hierarchical_namespace,
            # Entra ID only: no account keys, no SAS signed with them, the portal uses OAuth too.
            shared_access_key_enabled=False,
            default_to_oauth_authentication=True,
            local_user_enabled=False,
            sftp_enabled=False,
            sas_policy=StorageAccountSasPolicy(expiration_period="01.00:00:00", expiration_action="Log"),
            min_tls_version="TLS1_2",
            https_traffic_only_enabled=True,
            allow_nested_items_to_be_public=False,
            cross_tenant_replication_enabled=False,
            infrastructure_encryption_enabled=True,
            **_encryption_at_rest(interfaces.customer_managed_key),
            # Resource-instance rules (Event Hubs Capture, which has no private endpoint to write through) are
            # evaluated on the public endpoint: it stays on for them, with no IP or subnet rule when private.
            public_network_access_enabled=network.public or bool(resource_access_ids),
            network_rules=_network_rules(network, resource_access_ids),
            blob_properties=_blob_properties(hierarchical_namespace, soft_delete_days),
            # No inline queue_properties: the provider refuses them when its storage data plane is off (base.py);
            # queue reads, writes and deletes are logged by the queue service's diagnostic setting below.
        )
        self.standard = StandardInterfaces(self, placement, interfaces)
        account_id = self.account.id
        self.standard.apply(
            resource_id=account_id,
            resource_name=name,
            private_endpoint_subresources=private_endpoint_subresources,
            # Accounts emit metrics only; the request logs come from each service beneath (Azure Monitor resource
            # logs: StorageRead, StorageWrite, StorageDelete), configured through Resource Manager alone.
            diagnostic_targets=[
                DiagnosticTarget(account_id, logs=False, label=""),
                DiagnosticTarget(f"{account_id}/blobServices/default", label="blob"),
                DiagnosticTarget(f"{account_id}/queueServices/default", label="queue"),
            ],
            stateful=True,
        )


def _encryption_at_rest(cmk: CustomerManagedKey | None) -> dict[str, Any]:
    """The account reaches the key with the encryption identity; the versionless key URL follows rotation."""
    if cmk is None:
        return {"identity": None, "customer_managed_key": None}
    return {
        "identity": StorageAccountIdentity(type="UserAssigned", identity_ids=[cmk.user_assigned_identity.resource_id]),
        "customer_managed_key": StorageAccountCustomerManagedKey(
            key_vault_key_id=cmk.key_id, user_assigned_identity_id=cmk.user_assigned_identity.resource_id
        ),
    }


def _network_rules(network: NetworkAccess, resource_access_ids: Sequence[str]) -> StorageAccountNetworkRules:
    return StorageAccountNetworkRules(
        default_action="Deny",
        bypass=["AzureServices", "Logging", "Metrics"],
        ip_rules=[r.removesuffix("/32") for r in network.ip_rules] if network.ip_rules is not None else None,
        private_link_access=[
            StorageAccountNetworkRulesPrivateLinkAccess(endpoint_resource_id=resource_id)
            for resource_id in resource_access_ids
        ] or None,
    )


def _blob_properties(hierarchical_namespace: bool, soft_delete_days: int) -> StorageAccountBlobProperties:
    return StorageAccountBlobProperties(
        # Blob versioning is not available with a hierarchical namespace; soft delete is.
        versioning_enabled=None if hierarchical_namespace else True,
        change_feed_enabled=None if hierarchical_namespace else True,
        delete_retention_policy=StorageAccountBlobPropertiesDeleteRetentionPolicy(days=soft_delete_days),
        container_delete_retention_policy=StorageAccountBlobPropertiesContainerDeleteRetentionPolicy(
            days=soft_delete_days
        ),
    )
