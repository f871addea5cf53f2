"""Streaming ingest: an Event Hubs namespace and hub. Capture archives every event as Avro into the lake's bronze
filesystem with the namespace's own identity; the stream-scoring function app reads through its consumer group."""

from __future__ import annotations

from cdktn_provider_azurerm.eventhub import Eventhub, EventhubCaptureDescriptionDestination
from cdktn_provider_azurerm.eventhub_consumer_group import EventhubConsumerGroup
from cdktn_provider_azurerm.eventhub_namespace import (
    EventhubNamespace,
    EventhubNamespaceIdentity,
    EventhubNamespaceNetworkRulesets,
    EventhubNamespaceNetworkRulesetsIpRule,
)
from constructs import Construct

from stacks.modules.interfaces import Grants, Interfaces, Placement, RoleAssignment, StandardInterfaces


class StreamIngest(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, namespace_name: str,
        hub_name: str, consumer_group: str,
        partitions: int = 4, capacity: int = 1,
    ) -> None:
        super().__init__(scope, id_)
        network = interfaces.network_access
        self.namespace = EventhubNamespace(
            self, "Namespace",
            name=namespace_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            tags=placement.tags,
            sku="Standard",
            capacity=capacity,
            # Producers and consumers authenticate with Entra ID; SAS keys are off.
            local_authentication_enabled=False,
            minimum_tls_version="1.2",
            public_network_access_enabled=network.public,
            network_rulesets=[EventhubNamespaceNetworkRulesets(
                default_action="Deny",
                public_network_access_enabled=network.public,
                trusted_service_access_enabled=True,
                ip_rule=[
                    EventhubNamespaceNetworkRulesetsIpRule(ip_mask=r, action="Allow") for r in network.ip_rules
                ] if network.ip_rules is not None else None,
            )],
            identity=EventhubNamespaceIdentity(type="SystemAssigned"),
        )
        self.hub = Eventhub(
            self, "Hub", name=hub_name, namespace_id=self.namespace.id, partition_count=partitions,
            message_retention=7,
        )
        self.consumer_group = EventhubConsumerGroup(
            self, "ScoringConsumerGroup",
            name=consumer_group,
            namespace_name=self.namespace.name,
            eventhub_name=self.hub.name,
            resource_group_name=placement.resource_group_name,
            user_metadata="Read by the stream-scoring function app (score_listings).",
        )
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.namespace.id, resource_name=namespace_name, private_endpoint_subresources=["namespace"]
        )

    def capture_into(
        self, *, storage_account_id: str, container: str, container_id: str, archive_name_format: str,
        interval_seconds: int = 300,
    ) -> None:
        """Archive every event as Avro into `container`, authenticating as the namespace's system identity.

        Capture writes through the account's public endpoint as a trusted service, so the account must admit
        the namespace as a resource instance (SecureStorageAccount `resource_access_ids`).
        """
        grants = Grants(self)
        # On the container resource itself, so the grant waits for it.
        grants.one("CaptureWriter", container_id, RoleAssignment(
            self.namespace.identity.principal_id, "Storage Blob Data Contributor"
        ))
        self.hub.put_capture_description(
            enabled=True,
            encoding="Avro",
            interval_in_seconds=interval_seconds,
            skip_empty_archives=True,  # a quiet window writes no file, so prep never reads empty archives
            destination=EventhubCaptureDescriptionDestination(
                name="EventHubArchive.AzureBlockBlob",  # the only destination azurerm accepts; works on ADLS Gen2
                storage_account_id=storage_account_id,
                blob_container_name=container,
                archive_name_format=archive_name_format,
                storage_authentication_type="SystemAssigned",
            ),
        )
        # Azure checks the destination when capture is enabled: the grant must have reached storage first.
        wait = grants.propagated("CaptureWriterPropagation")
        self.hub.add_override("depends_on", [f"{wait.terraform_resource_type}.{wait.friendly_unique_id}"])
