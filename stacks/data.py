"""Data stack: the Data Lake (bronze/silver/gold plus a landing filesystem), streaming ingest with Capture into
bronze, and the Data Factory that moves dealer feeds from landing into bronze, with the ML workspace's access."""

from __future__ import annotations

from constructs import Construct

import contract as c
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.data_factory import BRONZE_FILESYSTEM, LANDING_FILESYSTEM, FeedIngestFactory
from stacks.modules.data_lake import DataLake
from stacks.modules.interfaces import RoleAssignment
from stacks.modules.stream_ingest import StreamIngest

GOLD_READER = "Storage Blob Data Reader"


class DataStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack) -> None:
        super().__init__(scope, "data", config=config)
        ml_identity = foundation.identities["ml"].principal_id
        # The namespace first: the lake admits it as a resource instance, so Capture can write into bronze.
        self.stream = StreamIngest(
            self, "StreamIngest", placement=self.placement(), interfaces=foundation.interfaces(),
            namespace_name=self.namer.name("eventhub_namespace"),
            hub_name=c.STREAM_EVENT_HUB,
            consumer_group=c.STREAM_SCORING_CONSUMER_GROUP,
        )
        self.lake = DataLake(
            self, "DataLake", placement=self.placement(),
            interfaces=foundation.interfaces(lock=config.lock_stateful_resources, encryption_key="storage"),
            name=self.namer.name("storage_account", "lake"),
            extra_filesystems=(c.FEED_LANDING_CONTAINER,),
            resource_access_ids=(self.stream.namespace.id,),
        )
        # The ML prep job (ml/carprice/prep.py) runs as the ML identity: it appends raw rows to bronze and
        # rewrites silver and gold; training and batch scoring read gold and write their outputs there.
        for layer in c.LAKE_LAYERS:
            self.lake.grant(
                f"Ml{layer.title()}", layer=layer, grant=RoleAssignment(ml_identity, "Storage Blob Data Contributor")
            )
        if config.genai is not None:
            # `make index-gold` (ML pipeline, after training rewrote gold) reads the gold table as the deploying
            # principal: read-only, on the gold container alone (its search and OpenAI roles: stacks/genai.py).
            self.lake.grant("DeployerGoldReader", layer="gold", grant=RoleAssignment(
                self.client.object_id, GOLD_READER, principal_type=None))
        self.stream.capture_into(
            storage_account_id=self.lake.account_id, container="bronze",
            container_id=self.lake.filesystem_ids["bronze"],
            archive_name_format=c.CAPTURE_ARCHIVE_NAME_FORMAT,
        )
        factory = config.data_factory
        self.factory = FeedIngestFactory(
            self, "FeedIngest", placement=self.placement(),
            interfaces=foundation.interfaces(encryption_key="storage" if factory.customer_managed_key else None),
            name=self.namer.name("data_factory"),
            lake_account_id=self.lake.account_id,
            lake_dfs_endpoint=self.lake.account.primary_dfs_endpoint,
            filesystem_ids={fs: self.lake.filesystem_ids[fs] for fs in (LANDING_FILESYSTEM, BRONZE_FILESYSTEM)},
            settings=factory,
            # With the Databricks tier the prep stack schedules ingest-then-prep on the same factory instead.
            scheduled=config.databricks is None,
        )
