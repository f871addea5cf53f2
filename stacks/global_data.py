"""Global data stack: Cosmos DB shared by every app region (deployed before the app stacks)."""

from __future__ import annotations

from constructs import Construct

import contract as c
from contract import genai as g
from stacks.base import PlatformStack
from stacks.config import EnvironmentConfig
from stacks.foundation import FoundationStack
from stacks.modules.cosmos import CosmosDatabase


class GlobalDataStack(PlatformStack):
    def __init__(self, scope: Construct, *, config: EnvironmentConfig, foundation: FoundationStack) -> None:
        super().__init__(scope, "global-data", config=config)
        # The assistant's chat turns, per anonymous session, gone after the environment's TTL.
        chat = {g.CHAT_CONTAINER: g.CHAT_PARTITION_KEY} if config.genai else {}
        self.cosmos = CosmosDatabase(
            self, "Cosmos", placement=self.placement(),
            interfaces=foundation.interfaces(lock=config.lock_stateful_resources, encryption_key="cosmos"),
            name=self.namer.name("cosmosdb_account"),
            database=c.COSMOS_DATABASE,
            containers={
                c.HISTORY_CONTAINER: c.HISTORY_PARTITION_KEY,
                c.BATCH_CONTAINER: c.BATCH_PARTITION_KEY,
                # Written by the stream-scoring function app; no leases container (its trigger checkpoints in
                # the app's own storage).
                c.MARKET_CONTAINER: c.MARKET_PARTITION_KEY,
                c.DEAD_LETTER_CONTAINER: c.DEAD_LETTER_PARTITION_KEY,
                **chat,
            },
            regions=config.app_regions,
            serverless=config.cosmos.serverless,
            max_throughput=config.cosmos.max_throughput,
            ttl_seconds={g.CHAT_CONTAINER: config.genai.chat_ttl_seconds} if config.genai else None,
        )
        # All regional web apps share the app identity; one data-plane grant covers them.
        self.cosmos.grant_data_access("AppDataContributor", foundation.identities["app"].principal_id)
        # `make ml-batch-score` publishes the batch endpoint's results as the deploying principal.
        self.cosmos.grant_data_access("DeployerBatchPublisher", self.client.object_id, database_only=True)
