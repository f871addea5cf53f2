"""Data stack: the Data Lake (bronze/silver/gold) and streaming ingest, with the ML workspace's access."""

from __future__ import annotations

from constructs import Construct

from contract import LAKE_LAYERS, STREAM_CONSUMER_GROUP, STREAM_EVENT_HUB
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.data_lake import DataLake
from stacks.modules.stream_ingest import StreamIngest


class DataStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack) -> None:
        super().__init__(scope, "data", config=config)
        ml_identity = foundation.identities["ml"].principal_id
        public = not config.private_networking
        allowed = config.network.allowed_ip_ranges
        self.lake = DataLake(
            self, "DataLake", placement=self.placement(),
            interfaces=foundation.interfaces(lock=config.lock_stateful_resources, encryption_key="storage"),
            name=self.namer.name("storage_account", "lake"),
            public_network_access=public,
            allowed_ip_ranges=allowed,
        )
        # The ML prep job (ml/carprice/prep.py) runs as the ML identity: it appends raw rows to bronze and
        # rewrites silver and gold; training and batch scoring read gold and write their outputs there.
        for layer in LAKE_LAYERS:
            self.lake.grant(
                f"Ml{layer.title()}", layer=layer, principal_id=ml_identity, role="Storage Blob Data Contributor"
            )
        self.stream = StreamIngest(
            self, "StreamIngest", placement=self.placement(), interfaces=foundation.interfaces(),
            namespace_name=self.namer.name("eventhub_namespace"),
            hub_name=STREAM_EVENT_HUB,
            consumer_group=STREAM_CONSUMER_GROUP,
            public_network_access=public,
            allowed_ip_ranges=allowed,
        )
