"""What the stream writes: a market record per scored listing and a dead letter per event it could not
score. Ids are derived from the event, so a retried batch overwrites its own documents instead of
adding copies."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import contract
from ml.carprice.dataset import Dataset
from ml.carprice.listing import Listing
from ml.carprice.pricer import Quote
from ml.carprice.schema import RowError, partition_of

PARTITION_FIELD = contract.MARKET_PARTITION_KEY.lstrip("/")
DEAL_RATINGS = ("great", "good", "fair", "high")
MAX_KEPT_BODY = 16_384  # bytes of a rejected event kept in its dead letter (Cosmos items are capped at 2 MB)
# Dead letter kinds: the event is not a valid listing / no model could price it (replayable later).
INVALID_LISTING, MODEL_UNAVAILABLE = "invalid_listing", "model_unavailable"


def deal_rating(asking: float, priced: Quote) -> str:
    """Below the plausible range: great; under the estimate: good; up to the range's top: fair; above: high."""
    if asking < priced.low:
        return "great"
    if asking < priced.price:
        return "good"
    if asking <= priced.high:
        return "fair"
    return "high"


def iso(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    # Fixed width, so the text sorts in time order (formatted by hand: about 60% of isoformat's cost per event).
    return "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ" % (  # noqa: UP031
        moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second, moment.microsecond)


def market_record(listing: Listing, priced: Quote, dataset: Dataset, *, enqueued_at: datetime | None,
                  sequence_number: int | None, scored_at: str) -> dict:
    car = listing.car
    return {
        "id": listing.listing_id,  # one document per listing: a re-sent listing updates it
        "listing_id": listing.listing_id,
        PARTITION_FIELD: partition_of(car, dataset),  # the level column's value (the make, for cars), as the app stores
        "asking_price": round(listing.asking_price, 2),
        "estimated_price": round(priced.price, 2),
        "price_low": round(priced.low, 2),
        "price_high": round(priced.high, 2),
        "deal_rating": deal_rating(listing.asking_price, priced),
        "model_version": priced.model_version,
        "listed_at": iso(enqueued_at),
        "scored_at": scored_at,
        "sequence_number": sequence_number,
        "features": listing.features,
    }


def event_id(body: bytes, sequence_number: int | None, offset: str | None) -> str:
    return hashlib.sha256(b"\x1f".join([str(sequence_number).encode(), str(offset).encode(), body])).hexdigest()[:32]


def dead_letter(body: bytes, kind: str, errors: list[RowError], *, sequence_number: int | None,
                offset: str | None, enqueued_at: datetime | None) -> dict:
    kept = body[:MAX_KEPT_BODY]
    try:
        text, encoding = kept.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(kept).decode("ascii"), "base64"
    listed = iso(enqueued_at)
    return {
        "id": event_id(body, sequence_number, offset),
        "day": listed[:10],
        "kind": kind,
        "reason": "; ".join(f"{e.field}: {e.reason}" for e in errors),
        "errors": [e.model_dump() for e in errors],
        "body": text,
        "body_encoding": encoding,
        "body_truncated": len(body) > MAX_KEPT_BODY,
        "sequence_number": sequence_number,
        "offset": offset,
        "enqueued_at": listed,
        "dead_lettered_at": iso(None),
    }
