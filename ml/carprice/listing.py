"""A market listing: a car (the shared schema, ml.carprice.schema) offered at an asking price.

Listings arrive as Event Hubs events (JSON bodies) and in dealer feeds; the data set's `price`
column is the asking price, so a listing is a data set row plus its `listing_id`. The stream's
scoring and the lake's ingest read listings with this one parser, so an event the function app
dead-letters is the event prep would reject, for the same reason.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ml.carprice.dataset import Dataset, RowError, json_text, json_type_name
from ml.carprice.schema import served_dataset

if TYPE_CHECKING:
    from ml.carprice.schema import CarFeatures

LISTING_ID = "listing_id"
# Listing ids become Cosmos DB document ids: no '/', '\\', '?', '#', bounded length.
_LISTING_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")


@dataclass(slots=True)
class Listing:
    listing_id: str
    asking_price: float
    car: CarFeatures
    features: dict[str, Any]  # the car's fields as sent (no defaults filled in)


def _listing_id_error(value: Any) -> RowError | None:
    if type(value) is str and _LISTING_ID.fullmatch(value):
        return None
    if value is None:
        return RowError(field=LISTING_ID, reason="required field is missing")
    if not isinstance(value, str) or not _LISTING_ID.fullmatch(value):
        return RowError(field=LISTING_ID, reason="1 to 128 letters, digits, '.', '_', ':' or '-', starting "
                                                 f"with a letter or digit; got {json_text(value)}")
    return None


def _asking_price_error(value: Any, dataset: Dataset) -> RowError | None:
    # The data set's target is what the seller asks; prep holds it to the declared bounds.
    asking_price, low, high = dataset.target.name, dataset.target.min, dataset.target.max
    if type(value) in (int, float) and low <= value <= high:  # NaN fails the comparison
        return None
    if value is None:
        return RowError(field=asking_price, reason="required field is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # noqa: UP038
        return RowError(field=asking_price, reason=f"expected a number, got {json_type_name(value)}")
    if not math.isfinite(value):
        return RowError(field=asking_price, reason="expected a finite number")
    if not low <= value <= high:
        return RowError(field=asking_price, reason=f"{value:g} is not between {low:g} and {high:g}")
    return None


def parse_listing(raw: Any, dataset: Dataset | None = None) -> Listing | list[RowError]:
    """Validate one listing against the served data set; the listing or every per-field error (never raises
    for bad data)."""
    if not isinstance(raw, dict):
        return [RowError(field="(row)", reason=f"expected a JSON object, got {json_type_name(raw)}")]
    dataset = dataset or served_dataset()
    features = dict(raw)
    listing_id, asking = features.pop(LISTING_ID, None), features.pop(dataset.target.name, None)
    car = dataset.parse_row(features)
    id_error, price_error = _listing_id_error(listing_id), _asking_price_error(asking, dataset)
    if id_error or price_error or isinstance(car, list):
        return [e for e in (id_error, price_error) if e] + (car if isinstance(car, list) else [])
    return Listing(listing_id, float(asking), car, features)


def decode_listing(body: bytes, dataset: Dataset | None = None) -> Listing | list[RowError]:
    """An event body (UTF-8 JSON) as a listing, or why it is not one."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:
        return [RowError(field="(body)", reason=f"not valid JSON: {exc}")]
    return parse_listing(raw, dataset)


def listing_body(listing_id: str, row: dict[str, Any]) -> bytes:
    """The event body a producer sends for a data set row (`price` is the asking price)."""
    return json.dumps({LISTING_ID: listing_id, **row}, separators=(",", ":")).encode()
