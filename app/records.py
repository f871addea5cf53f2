"""The prediction record: what the API returns, the outbox keeps, and Cosmos DB stores (partitioned by make)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, Field

from ml.carprice.schema import CarFeatures, partition_of
from runtime.pricing import Quote


def utc_now_iso() -> str:
    # Fixed-width ISO-8601 in UTC sorts lexicographically in time order, which ORDER BY relies on.
    # isoformat is far cheaper than strftime on the hot path; "+00:00" becomes "Z".
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


class Prediction(BaseModel):
    id: str = Field(description="Unique id of this prediction")
    make: str = Field(description="The car's make (also the Cosmos DB partition key)")
    created_at: str = Field(description="When the price was computed, ISO-8601 UTC")
    price: float = Field(description="Predicted price in US dollars")
    price_low: float = Field(description="Low end of the plausible range, US dollars")
    price_high: float = Field(description="High end of the plausible range, US dollars")
    model_version: str = Field(description="Version of the model that priced the car")
    region: str = Field(description="Azure region (or 'local') of the app instance that answered")
    features: dict = Field(description="The car's attributes as submitted")


def new_prediction(car: CarFeatures, quote: Quote, region: str) -> dict:
    """A new prediction as the plain dict the outbox, Cosmos DB and the API all take (the Prediction
    model documents its shape; building the dict directly keeps validation off the hot path)."""
    return {
        "id": uuid.uuid4().hex,
        "make": partition_of(car),  # the partition key property; the level column's value (the make, for cars)
        "created_at": utc_now_iso(),
        "price": round(quote.price, 2),
        "price_low": round(quote.low, 2),
        "price_high": round(quote.high, 2),
        "model_version": quote.model_version,
        "region": region,
        "features": car.model_dump(exclude_none=True),
    }


def prediction_from_document(doc: dict) -> Prediction:
    """A Cosmos document back to a Prediction (system properties like _etag are dropped)."""
    return Prediction.model_validate({k: v for k, v in doc.items() if not k.startswith("_")})
