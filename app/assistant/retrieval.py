"""Retrieval, run by the app itself: hybrid search (keywords + the query's embedding, fused by Azure AI Search)
over the `listings` index, with exact filters on make, body style, year and price."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from azure.search.documents.aio import SearchClient
from azure.search.documents.models import VectorizedQuery
from openai import AsyncAzureOpenAI

from contract.listings_index import EMBEDDING_DIMENSIONS, FIELDS, KEY_FIELD, VECTOR_FIELD
from ml.carprice.dataset import Dataset

RETURNED_FIELDS = [name for name in FIELDS if name != "model_version"]
MAX_TOP = 10


class FilterError(ValueError):
    """A filter value the index cannot hold (told to the model as the tool's error, never sent to Search)."""


@dataclass(frozen=True)
class ListingFilters:
    make: str | None = None
    body_style: str | None = None
    year_min: int | None = None
    year_max: int | None = None
    price_min: float | None = None
    price_max: float | None = None

    def check(self, dataset: Dataset) -> ListingFilters:
        """Category values against the served data set (the one the index's listings were scored with)."""
        for column in ("make", "body_style"):
            value = getattr(self, column)
            allowed = dataset.allowed_values(column) if column in dataset.by_name else ()
            if value is not None and allowed and value not in allowed:
                raise FilterError(f"{column}: unknown value {value!r}; one of {', '.join(allowed)}")
        for low, high in (("year_min", "year_max"), ("price_min", "price_max")):
            a, b = getattr(self, low), getattr(self, high)
            if a is not None and b is not None and a > b:
                raise FilterError(f"{low} ({a}) is above {high} ({b})")
        return self

    def odata(self) -> str | None:
        """The OData filter. Values are validated above (categories) or numbers: nothing is quoted from input."""
        terms = [f"{column} eq '{value}'" for column, value in (("make", self.make), ("body_style", self.body_style))
                 if value is not None]
        for field, op, value in (("year", "ge", self.year_min), ("year", "le", self.year_max),
                                 ("asking_price", "ge", self.price_min), ("asking_price", "le", self.price_max)):
            if value is not None:
                number = f"{float(value):g}" if field == "asking_price" else str(int(value))
                terms.append(f"{field} {op} {number}")
        return " and ".join(terms) or None

    def admits(self, doc: dict[str, Any]) -> bool:
        """Whether a listing meets these filters (the evaluation's check of every cited listing)."""
        if self.make is not None and doc.get("make") != self.make:
            return False
        if self.body_style is not None and doc.get("body_style") != self.body_style:
            return False
        return (_within(doc.get("year"), self.year_min, self.year_max)
                and _within(doc.get("asking_price"), self.price_min, self.price_max))


def _within(value: float | None, low: float | None, high: float | None) -> bool:
    """Whether a listing's value lies within the bounds a filter sets (a listing without the value meets none)."""
    if low is None and high is None:
        return True
    if value is None:
        return False
    return (low is None or value >= low) and (high is None or value <= high)


@dataclass
class ListingSearch:
    openai: AsyncAzureOpenAI
    search: SearchClient
    embedding_deployment: str
    dataset: Dataset

    async def embed(self, text: str) -> list[float]:
        answer = await self.openai.embeddings.create(model=self.embedding_deployment, input=[text],
                                                     dimensions=EMBEDDING_DIMENSIONS)
        return answer.data[0].embedding

    async def find(self, query: str, filters: ListingFilters, top: int = 5) -> list[dict[str, Any]]:
        top = max(1, min(top, MAX_TOP))
        vector = VectorizedQuery(vector=await self.embed(query), k_nearest_neighbors=max(top, 20), fields=VECTOR_FIELD)
        results = await self.search.search(
            search_text=query, vector_queries=[vector], filter=filters.check(self.dataset).odata(), top=top,
            select=RETURNED_FIELDS,
        )
        found = []
        async for hit in results:
            found.append({k: v for k, v in hit.items() if not k.startswith("@")})
            if len(found) >= top:
                break
        return found


def listing_citation(doc: dict[str, Any]) -> str:
    return f"[listing:{doc[KEY_FIELD]}]"
