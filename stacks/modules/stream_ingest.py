"""Streaming ingest: an Event Hubs namespace and hub; a dedicated consumer group feeds the lake's bronze layer."""

from __future__ import annotations

from collections.abc import Sequence

from cdktn_provider_azurerm.eventhub import Eventhub
from cdktn_provider_azurerm.eventhub_consumer_group import EventhubConsumerGroup
from cdktn_provider_azurerm.eventhub_namespace import (
    EventhubNamespace,
    EventhubNamespaceIdentity,
    EventhubNamespaceNetworkRulesets,
    EventhubNamespaceNetworkRulesetsIpRule,
)
from constructs import Construct

from stacks.modules.interfaces import Interfaces, Placement, StandardInterfaces


class StreamIngest(Construct):
    def __init__(
        self, scope: Construct, id_: str, *, placement: Placement, interfaces: Interfaces, namespace_name: str,
        hub_name: str, consumer_group: str, public_network_access: bool, allowed_ip_ranges: Sequence[str] = (),
        partitions: int = 4, capacity: int = 1,
    ) -> None:
        super().__init__(scope, id_)
        self.namespace = EventhubNamespace(
            self, "Namespace",
            name=namespace_name,
            location=placement.location,
            resource_group_name=placement.resource_group_name,
            sku="Standard",
            capacity=capacity,
            # Producers and consumers authenticate with Entra ID; SAS keys are off.
            local_authentication_enabled=False,
            minimum_tls_version="1.2",
            public_network_access_enabled=public_network_access,
            network_rulesets=[EventhubNamespaceNetworkRulesets(
                default_action="Deny",
                public_network_access_enabled=public_network_access,
                trusted_service_access_enabled=True,
                ip_rule=[EventhubNamespaceNetworkRulesetsIpRule(ip_mask=r, action="Allow") for r in allowed_ip_ranges]
                if public_network_access else None,
            )],
            identity=EventhubNamespaceIdentity(type="SystemAssigned"),
            tags=dict(placement.tags),
        )
        self.hub = Eventhub(
            self, "Hub", name=hub_name, namespace_id=self.namespace.id, partition_count=partitions,
            message_retention=7,
        )
        self.consumer_group = EventhubConsumerGroup(
            self, "LakeConsumerGroup",
            name=consumer_group,
            namespace_name=self.namespace.name,
            eventhub_name=self.hub.name,
            resource_group_name=placement.resource_group_name,
            user_metadata="Reads car listings into the lake's bronze layer.",
        )
        StandardInterfaces(self, placement, interfaces).apply(
            resource_id=self.namespace.id, resource_name=namespace_name, private_endpoint_subresources=["namespace"]
        )
