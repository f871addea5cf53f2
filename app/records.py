"""The prediction record: what the API returns, the outbox keeps, and Cosmos DB stores (partitioned by make).
runtime/predictions.py writes it; this model documents and reads it."""

from __future__ import annotations

from pydantic import BaseModel, Field


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


def prediction_from_document(doc: dict) -> Prediction:
    """A Cosmos document back to a Prediction (system properties like _etag are dropped)."""
    return Prediction.model_validate({k: v for k, v in doc.items() if not k.startswith("_")})
