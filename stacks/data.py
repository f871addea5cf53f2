"""Data stack: the Data Lake (bronze/silver/gold) and streaming ingest, with the ML workspace's access."""

from __future__ import annotations

from constructs import Construct

from contract import STREAM_CONSUMER_GROUP, STREAM_EVENT_HUB
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.data_lake import DataLake
from stacks.modules.interfaces import RoleAssignment
from stacks.modules.stream_ingest import StreamIngest


def _layer(layer: str) -> str:
    return f"/blobServices/default/containers/{layer}"


class DataStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack) -> None:
        super().__init__(scope, "data", config=config)
        ml_identity = foundation.identities["ml"].principal_id
        public = not config.private_networking
        allowed = config.network.allowed_ip_ranges
        self.lake = DataLake(
            self, "DataLake", placement=self.placement(),
            interfaces=foundation.interfaces(
                lock=config.lock_stateful_resources,
                # Training reads curated data; only scoring and feature jobs write the gold layer.
                role_assignments=(
                    RoleAssignment(ml_identity, "Storage Blob Data Reader", scope_suffix=_layer("silver")),
                    RoleAssignment(ml_identity, "Storage Blob Data Reader", scope_suffix=_layer("gold")),
                    RoleAssignment(ml_identity, "Storage Blob Data Contributor", scope_suffix=_layer("gold")),
                ),
                encryption_key="storage",
            ),
            name=self.namer.name("storage_account", "lake"),
            public_network_access=public,
            allowed_ip_ranges=allowed,
        )
        self.stream = StreamIngest(
            self, "StreamIngest", placement=self.placement(), interfaces=foundation.interfaces(),
            namespace_name=self.namer.name("eventhub_namespace"),
            hub_name=STREAM_EVENT_HUB,
            consumer_group=STREAM_CONSUMER_GROUP,
            public_network_access=public,
            allowed_ip_ranges=allowed,
        )
