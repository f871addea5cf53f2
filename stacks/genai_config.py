"""The `genai` section of an environment file: Azure OpenAI deployments, AI Search sizing, chat history TTL.

Validated with the rest of the environment (stacks/config.py); a bad value names the file and the key. What can
only be checked in Azure (a model version offered in the region, quota left in the subscription) is the
README's first-deploy checklist, not a guess here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from contract.listings_index import EMBEDDING_DIMENSIONS
from stacks.config_section import Section

# Deployment SKUs azurerm 4.81.0 accepts (cognitive_deployment_resource.go `sku.name`), minus the batch ones:
# the assistant answers in real time. "Global*" may process prompts in any Azure region; "DataZone*" stays in
# the data zone of the account's region (an EU region: the EU); "Standard"/"ProvisionedManaged" in the region.
DeploymentSku = Literal[
    "Standard", "DataZoneStandard", "GlobalStandard",
    "ProvisionedManaged", "DataZoneProvisionedManaged", "GlobalProvisionedManaged",
]
SearchSku = Literal["basic", "standard", "standard2", "standard3", "storage_optimized_l1", "storage_optimized_l2"]
# A model version as the service names it: a date (gpt-4o-mini "2024-07-18") or a number (text-embedding-3 "1").
# "latest" or an empty version would let Azure pick, which is what pinning forbids.
_MODEL_VERSION = r"^(\d{4}-\d{2}-\d{2}|\d+(\.\d+)*)$"
# Partition counts the service offers (search_service_resource.go `partition_count` IntInSlice).
_PARTITIONS = (1, 2, 3, 4, 6, 12)
# Vector widths each embedding model returns (Learn, Azure AI Search .NET API:
# OpenAICompatibleVectorizerParameters.Dimensions): text-embedding-3 models shorten on request up to their native
# width; ada-002 returns 1536 only. The index's width is one value, contract/listings_index.py.
EMBEDDING_WIDTHS: dict[str, range] = {
    "text-embedding-3-small": range(1, 1537),
    "text-embedding-3-large": range(1, 3073),
    "text-embedding-ada-002": range(1536, 1537),
}


class ModelDeployment(Section):
    """One Azure OpenAI deployment: which model, pinned to one version, on which SKU, with how much capacity.

    `capacity` is in units of 1,000 tokens per minute for the Standard SKUs (DataZoneStandard 20 = 20K TPM,
    drawn from the subscription's per-region quota for that model and SKU) and in PTUs for provisioned ones.
    """

    model: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]*$")
    version: str = Field(pattern=_MODEL_VERSION)
    sku: DeploymentSku
    # At least 1 (cognitive_deployment_resource.go `sku.capacity` IntAtLeast(1)); the ceiling is the quota.
    capacity: int = Field(ge=1)


class EmbeddingDeployment(ModelDeployment):
    """The embedding deployment: a model that returns the listings index's vector width (EMBEDDING_DIMENSIONS)."""

    @model_validator(mode="after")
    def _returns_the_index_width(self) -> EmbeddingDeployment:
        widths = EMBEDDING_WIDTHS.get(self.model)
        if widths is None:
            raise ValueError(f"model {self.model} is not a known embedding model; use one of "
                             f"{', '.join(EMBEDDING_WIDTHS)}")
        if EMBEDDING_DIMENSIONS not in widths:
            raise ValueError(
                f"model {self.model} cannot return {EMBEDDING_DIMENSIONS}-dimension vectors, the listings index's "
                f"width (contract/listings_index.py EMBEDDING_DIMENSIONS); use a text-embedding-3 model"
            )
        return self


class SearchService(Section):
    sku: SearchSku
    # Azure AI Search SLA: 2 replicas for queries, 3 for queries and indexing (the market stream indexes
    # continuously); basic allows up to 3 replicas and 3 partitions (search_service_resource.go create checks).
    replica_count: int = Field(ge=1, le=12)
    partition_count: int = 1

    @model_validator(mode="after")
    def _sizes_the_sku_allows(self) -> SearchService:
        if self.partition_count not in _PARTITIONS:
            raise ValueError(f"partition_count {self.partition_count} is not one of {list(_PARTITIONS)}")
        if self.sku == "basic" and (self.replica_count > 3 or self.partition_count > 3):
            raise ValueError("sku basic allows at most 3 replicas and 3 partitions")
        return self


class GenAi(Section):
    """The generative-AI tier of one environment (its own stack, `<env>-genai`)."""

    # Where the Azure OpenAI account lives: a region that offers both models at these versions and SKUs, with
    # quota left (README, "First deploy: generative AI"). Default: the environment's `location`.
    location: str | None = None
    chat: ModelDeployment
    embedding: EmbeddingDeployment
    search: SearchService
    # Chat turns expire this long after their last write (Cosmos DB TTL on the chat container).
    chat_ttl_days: int = Field(ge=1, le=365)
    # Global SKUs may process prompts and answers in any Azure region; refused unless allowed here.
    allow_global_processing: bool = False

    @model_validator(mode="after")
    def _data_stays_in_the_zone(self) -> GenAi:
        for key, deployment in (("chat", self.chat), ("embedding", self.embedding)):
            if deployment.sku.startswith("Global") and not self.allow_global_processing:
                raise ValueError(
                    f"{key}.sku {deployment.sku} may process data in any Azure region; use DataZoneStandard "
                    "(stays in the data zone of genai.location) or set genai.allow_global_processing: true"
                )
        return self

    @property
    def chat_ttl_seconds(self) -> int:
        return self.chat_ttl_days * 24 * 3600
