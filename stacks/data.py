"""Data stack: the Data Lake (bronze/silver/gold plus a landing filesystem), streaming ingest with Capture into
bronze, and the Data Factory that moves dealer feeds from landing into bronze, with the ML workspace's access."""

from __future__ import annotations

from constructs import Construct

import contract as c
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.data_factory import FactoryGit, FeedCopy, FeedIngestFactory, FeedSchedule
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
        # The namespace first: the lake admits it as a resource instance, so Capture can write into bronze.
        self.stream = StreamIngest(
            self, "StreamIngest", placement=self.placement(), interfaces=foundation.interfaces(),
            namespace_name=self.namer.name("eventhub_namespace"),
            hub_name=c.STREAM_EVENT_HUB,
            consumer_group=c.STREAM_SCORING_CONSUMER_GROUP,
            public_network_access=public,
            allowed_ip_ranges=allowed,
        )
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
            extra_filesystems=(c.FEED_LANDING_CONTAINER,),
            resource_access_ids=(self.stream.namespace.id,),
        )
        self.stream.capture_into(
            storage_account_id=self.lake.account.id, container="bronze",
            archive_name_format=c.CAPTURE_ARCHIVE_NAME_FORMAT,
        )
        factory = config.data_factory
        git = factory.git
        self.factory = FeedIngestFactory(
            self, "FeedIngest", placement=self.placement(),
            interfaces=foundation.interfaces(encryption_key="storage" if factory.customer_managed_key else None),
            name=self.namer.name("data_factory"),
            lake_account_id=self.lake.account.id,
            lake_dfs_endpoint=self.lake.account.primary_dfs_endpoint,
            feeds=FeedCopy(
                landing=c.FEED_LANDING_CONTAINER, folder=factory.source.folder,
                patterns=tuple(f"*{suffix}" for suffix in c.FEED_FILE_SUFFIXES),
                bronze="bronze",
            ),
            schedule=FeedSchedule(factory.schedule.frequency, factory.schedule.interval, factory.schedule.start_time),
            public_network_access=public,
            git=FactoryGit(**git.model_dump()) if git else None,
        )
