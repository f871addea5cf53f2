"""Listings into the `listings` Azure AI Search index (schema: contract/listings_index.py), by listing id.

Two writers use it: the function app's score_listings (every scored stream listing, right after its market
record) and the batch step that indexes the lake's gold table (tools/deploy/genai/search_index.py). The
document id is the listing id, and every write is `mergeOrUpload`, so a replayed batch or a re-run of the gold
step rewrites the same documents instead of adding copies. Embeddings come from the Azure OpenAI embedding
deployment at the index's fixed width; keys are never used (Entra tokens, as everywhere else).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from contract import genai
from contract.listings_index import EMBEDDING_DIMENSIONS, KEY_FIELD, SOURCE_GOLD, SOURCE_MARKET, TEXT_FIELD
from contract.listings_index import VECTOR_FIELD as VECTOR
from ml.carprice.dataset import Dataset
from runtime.credentials import azure_credential
from runtime.emulator import is_loopback

# The UCI Automobile data is the 1985 Ward's Automotive Yearbook: every car in it is a 1985 model. A data set
# with a `year` column gives each listing its own.
MODEL_YEAR_OF_DATASET = {"uci-automobile": 1985}
EMBED_BATCH = 64  # inputs per embeddings request
_KEY = re.compile(r"[^A-Za-z0-9_=-]")  # Search keys: letters, digits, '_', '-', '='


def document_key(listing_id: str) -> str:
    """The index key of a listing id (listing ids may hold '.' and ':', which Search keys may not)."""
    return _KEY.sub(lambda m: f"={ord(m.group()):02x}", listing_id)


def _served(dataset: Dataset | None) -> Dataset:
    """The data set the listings were scored with: the caller's (the function app passes its served one);
    tools that index gold outside an app fall back to the selected declaration, read at call time."""
    if dataset is not None:
        return dataset
    from ml.carprice.schema import served_dataset

    return served_dataset()


def _label(column: str, value: Any, dataset: Dataset) -> str:
    spec = dataset.by_name.get(column)
    if spec is None or value is None:
        return str(value)
    return spec.value_labels.get(str(value), str(value))


def describe(features: Mapping[str, Any], year: int | None, dataset: Dataset) -> str:
    """The listing as text, for keyword search (bm25) and the embedding."""
    parts = [str(year) if year else "", _label("make", features.get("make"), dataset),
             str(features.get("body_style", ""))]
    head = " ".join(p for p in parts if p and p != "None")
    details = []
    if features.get("num_of_doors"):
        details.append(f"{features['num_of_doors']} doors")
    for column, unit in (("fuel_type", ""), ("aspiration", ""), ("drive_wheels", ""),
                         ("num_of_cylinders", " cylinders"), ("engine_size", " cu in engine"),
                         ("horsepower", " hp"), ("curb_weight", " lb"), ("city_mpg", " mpg city")):
        value = features.get(column)
        if value is not None:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            details.append(f"{shown}{unit}")
    return f"{head}: {', '.join(details)}"


def listing_year(features: Mapping[str, Any], dataset: Dataset | None = None) -> int | None:
    value = features.get("year")
    if isinstance(value, int | float):
        return int(value)
    return MODEL_YEAR_OF_DATASET.get(_served(dataset).name)


def listing_document(listing_id: str, features: Mapping[str, Any], asking_price: float, *, source: str,
                     estimated_price: float | None = None, deal_rating: str | None = None,
                     model_version: str | None = None, listed_at: str | None = None,
                     dataset: Dataset | None = None) -> dict[str, Any]:
    dataset = _served(dataset)
    year = listing_year(features, dataset)
    return {
        KEY_FIELD: document_key(listing_id), "source": source,
        "make": features.get("make"), "body_style": features.get("body_style"),
        "num_of_doors": features.get("num_of_doors"), "fuel_type": features.get("fuel_type"),
        "drive_wheels": features.get("drive_wheels"), "year": year,
        "asking_price": round(float(asking_price), 2),
        "estimated_price": None if estimated_price is None else round(float(estimated_price), 2),
        "deal_rating": deal_rating, "model_version": model_version, "listed_at": listed_at,
        TEXT_FIELD: describe(features, year, dataset),
    }


def from_market_record(record: Mapping[str, Any], dataset: Dataset | None = None) -> dict[str, Any]:
    """The index document of a scored stream listing (functions/market.py's market record)."""
    return listing_document(
        record["listing_id"], record["features"], record["asking_price"], source=SOURCE_MARKET,
        estimated_price=record.get("estimated_price"), deal_rating=record.get("deal_rating"),
        model_version=record.get("model_version"), listed_at=record.get("listed_at"), dataset=dataset,
    )


def from_gold_row(row: Mapping[str, Any], *, id_column: str = "car_id",
                  dataset: Dataset | None = None) -> dict[str, Any]:
    """The index document of a gold-table car (its data set price is the price it was listed at)."""
    dataset = _served(dataset)
    features = {k: v for k, v in row.items() if k in dataset.by_name and v is not None and v == v}
    return listing_document(f"gold-{row[id_column]}", features, float(row[dataset.target.name]), source=SOURCE_GOLD,
                            dataset=dataset)


class IndexWriteError(RuntimeError):
    """Search refused some documents; the message names them (the caller's batch is retried)."""


@dataclass
class ListingIndexWriter:
    """Embeds and upserts listing documents (synchronous SDK clients: the function app and batch steps)."""

    openai: Any  # openai.AzureOpenAI
    search: Any  # azure.search.documents.SearchClient
    embedding_deployment: str

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for start in range(0, len(texts), EMBED_BATCH):
            chunk = list(texts[start:start + EMBED_BATCH])
            answer = self.openai.embeddings.create(model=self.embedding_deployment, input=chunk,
                                                   dimensions=EMBEDDING_DIMENSIONS)
            vectors += [item.embedding for item in sorted(answer.data, key=lambda d: d.index)]
        return vectors

    def upsert(self, documents: Iterable[dict[str, Any]]) -> int:
        docs = list({d[KEY_FIELD]: d for d in documents}.values())  # a listing twice in a batch: the last wins
        if not docs:
            return 0
        vectors = self.embed([d[TEXT_FIELD] for d in docs])
        results = self.search.merge_or_upload_documents([{**d, VECTOR: v} for d, v in zip(docs, vectors, strict=True)])
        failed = [r.key for r in results if not r.succeeded]
        if failed:
            raise IndexWriteError(f"{len(failed)} of {len(docs)} listings not indexed: {', '.join(failed[:5])}")
        return len(docs)

    def close(self) -> None:
        self.openai.close()
        self.search.close()


def build_writer(search_endpoint: str, openai_endpoint: str, embedding_deployment: str, credential: Any,
                 verify: str | bool = True, api_version: str = genai.OPENAI_API_VERSION,
                 index: str = genai.SEARCH_INDEX) -> ListingIndexWriter:
    """The writer on the official SDKs with an Entra token provider (`verify`: a CA file for loopback stand-ins)."""
    import ssl

    import httpx
    from azure.identity import get_bearer_token_provider
    from azure.search.documents import SearchClient
    from openai import AzureOpenAI

    openai = AzureOpenAI(
        azure_endpoint=openai_endpoint, api_version=api_version,
        azure_ad_token_provider=get_bearer_token_provider(credential, genai.OPENAI_TOKEN_SCOPE),
        http_client=None if verify is True else httpx.Client(
            verify=ssl.create_default_context(cafile=str(verify)), trust_env=False),
    )
    search = SearchClient(search_endpoint, index, credential, connection_verify=verify)
    return ListingIndexWriter(openai, search, embedding_deployment)


def writer_for(settings: Any, credential: Any = None) -> ListingIndexWriter:
    """The function app's writer: its managed identity in Azure; the stand-ins' token and certificate (named by
    CARPRICE_ASSISTANT_CA_FILE) only when both endpoints are loopback."""
    verify: str | bool = True
    if is_loopback(settings.search_endpoint) and is_loopback(settings.openai_endpoint):
        verify = os.environ.get("CARPRICE_ASSISTANT_CA_FILE") or True
        if credential is None:
            from runtime.stand_in_token import SyncStandInCredential

            credential = SyncStandInCredential()
    elif credential is None:
        credential = azure_credential(settings.managed_identity_client_id)
    return build_writer(settings.search_endpoint, settings.openai_endpoint, settings.embedding_deployment,
                        credential, verify, settings.openai_api_version, settings.search_index)
