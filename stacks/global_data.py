"""Global data stack: Cosmos DB shared by every app region (deployed before the app stacks)."""

from __future__ import annotations

from constructs import Construct

from contract import BATCH_CONTAINER, BATCH_PARTITION_KEY, COSMOS_DATABASE, HISTORY_CONTAINER, HISTORY_PARTITION_KEY
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.cosmos import CosmosDatabase


class GlobalDataStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack) -> None:
        super().__init__(scope, "global-data", config=config)
        self.cosmos = CosmosDatabase(
            self, "Cosmos", placement=self.placement(),
            interfaces=foundation.interfaces(lock=config.lock_stateful_resources, encryption_key="cosmos"),
            name=self.namer.name("cosmosdb_account"),
            database=COSMOS_DATABASE,
            containers={HISTORY_CONTAINER: HISTORY_PARTITION_KEY, BATCH_CONTAINER: BATCH_PARTITION_KEY},
            regions=config.app_regions,
            serverless=config.cosmos.serverless,
            max_throughput=config.cosmos.max_throughput,
            public_network_access=not config.private_networking,
            allowed_ip_ranges=config.network.allowed_ip_ranges,
        )
        # All regional web apps share the app identity; one data-plane grant covers them.
        self.cosmos.grant_data_access("AppDataContributor", foundation.identities["app"].principal_id)
