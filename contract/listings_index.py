"""The `listings` Azure AI Search index: its schema, shared by the deploy step that creates it, the writers that
fill it (batch from gold, the function app from the stream) and the app that reads it.

Indexes have no ARM resource, so this file is the schema's one home; `make search-index` creates or updates
the index from it. Pure Python: no Azure SDK (the deploy step turns it into SDK models).
"""

from __future__ import annotations

from typing import Any

from contract.genai import SEARCH_INDEX

LISTINGS_INDEX = SEARCH_INDEX
KEY_FIELD = "id"
VECTOR_FIELD = "embedding"
TEXT_FIELD = "description"
# text-embedding-3 models shorten their vectors on request (the `dimensions` parameter), so the index keeps
# one width in every environment, and the local twin's offline embeddings produce the same width.
EMBEDDING_DIMENSIONS = 256
VECTOR_PROFILE = "listings-hnsw"
VECTOR_ALGORITHM = "listings-hnsw-config"
# Where a listing came from: the lake's gold table (batch) or the scored stream (market).
SOURCE_GOLD, SOURCE_MARKET = "gold", "market"

# name -> (EDM type, attributes). Attributes: key, searchable, filterable, sortable, facetable, retrievable.
FIELDS: dict[str, tuple[str, frozenset[str]]] = {
    KEY_FIELD: ("Edm.String", frozenset({"key", "filterable", "retrievable"})),
    "source": ("Edm.String", frozenset({"filterable", "facetable", "retrievable"})),
    "make": ("Edm.String", frozenset({"filterable", "facetable", "retrievable"})),
    "body_style": ("Edm.String", frozenset({"filterable", "facetable", "retrievable"})),
    "num_of_doors": ("Edm.String", frozenset({"filterable", "retrievable"})),
    "fuel_type": ("Edm.String", frozenset({"filterable", "retrievable"})),
    "drive_wheels": ("Edm.String", frozenset({"filterable", "retrievable"})),
    "year": ("Edm.Int32", frozenset({"filterable", "sortable", "facetable", "retrievable"})),
    "asking_price": ("Edm.Double", frozenset({"filterable", "sortable", "retrievable"})),
    "estimated_price": ("Edm.Double", frozenset({"filterable", "sortable", "retrievable"})),
    "deal_rating": ("Edm.String", frozenset({"filterable", "facetable", "retrievable"})),
    "model_version": ("Edm.String", frozenset({"retrievable"})),
    "listed_at": ("Edm.DateTimeOffset", frozenset({"filterable", "sortable", "retrievable"})),
    TEXT_FIELD: ("Edm.String", frozenset({"searchable", "retrievable"})),
}
# The vector field is never returned: callers get the listing, not 256 floats per hit.
VECTOR_TYPE = "Collection(Edm.Single)"


def index_definition() -> dict[str, Any]:
    """The index as the Search REST API's JSON (PUT /indexes/listings), the shape the deploy step builds."""
    fields: list[dict[str, Any]] = [
        {"name": name, "type": kind, **{flag: flag in flags for flag in
                                         ("key", "searchable", "filterable", "sortable", "facetable")},
         "retrievable": "retrievable" in flags}
        for name, (kind, flags) in FIELDS.items()
    ]
    fields.append({
        "name": VECTOR_FIELD, "type": VECTOR_TYPE, "searchable": True, "retrievable": False,
        "dimensions": EMBEDDING_DIMENSIONS, "vectorSearchProfile": VECTOR_PROFILE,
    })
    return {
        "name": LISTINGS_INDEX,
        "fields": fields,
        "vectorSearch": {
            "algorithms": [{"name": VECTOR_ALGORITHM, "kind": "hnsw",
                            "hnswParameters": {"metric": "cosine", "m": 4, "efConstruction": 400, "efSearch": 500}}],
            "profiles": [{"name": VECTOR_PROFILE, "algorithm": VECTOR_ALGORITHM}],
        },
    }
