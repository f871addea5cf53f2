"""The prediction record both deployed apps write to the history container (the web app's POST
/api/predictions, the function app's `price`), and read back: one shape, one representation of each value.

JSON has one number type and Cosmos DB hands back `122` for a stored `122.0`, so a record is written the way
it reads back: integral feature values as integers, prices always as numbers with cents (floats). POST and a
later GET then show the same document.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ml.carprice.schema import partition_of

if TYPE_CHECKING:
    from pydantic import BaseModel

    from ml.carprice.dataset import Dataset
    from runtime.pricing import Quote


def utc_now_iso() -> str:
    # Fixed-width ISO-8601 in UTC sorts lexicographically in time order, which ORDER BY relies on.
    # isoformat is far cheaper than strftime on the hot path; "+00:00" becomes "Z".
    return datetime.now(UTC).isoformat(timespec="microseconds")[:-6] + "Z"


def _as_stored(value: Any) -> Any:
    return int(value) if type(value) is float and value.is_integer() else value


def new_prediction(car: BaseModel, quote: Quote, region: str, dataset: Dataset) -> dict[str, Any]:
    """A new prediction as the plain dict the outbox, Cosmos DB and the API all take (app/records.Prediction
    documents its shape; building the dict directly keeps validation off the hot path)."""
    return {
        "id": uuid.uuid4().hex,
        "make": partition_of(car, dataset),  # the partition key property: the level column's value
        "created_at": utc_now_iso(),
        "price": float(round(quote.price, 2)),
        "price_low": float(round(quote.low, 2)),
        "price_high": float(round(quote.high, 2)),
        "model_version": quote.model_version,
        "region": region,
        "features": {k: _as_stored(v) for k, v in car.model_dump(exclude_none=True).items()},
    }
