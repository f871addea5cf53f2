"""The function app's handlers as plain functions of the azure-functions library's objects.

score_listings: a batch of listing events -> one market record per valid listing (priced in one model
call) and one dead letter per event that is not a valid listing, each with its reason. Nothing is
dropped: when no model can price, the batch is raised back to the runtime, which retries it; on the
last attempt the listings are dead-lettered as `model_unavailable` instead. Document ids come from
the events, so a retried or replayed batch writes the same documents again, never copies.

price: POST a car as JSON -> 201 with the priced prediction, recorded in the history container the
dashboard reads; the web app's checks and error shape (415, 413, 422 with field/reason, 503).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import azure.functions as func
import orjson
from azure.core.exceptions import AzureError

from functions.listing_index import from_market_record, writer_for
from functions.market import INVALID_LISTING, MODEL_UNAVAILABLE, dead_letter, iso, market_record
from functions.settings import FunctionSettings
from functions.store import MarketStore
from ml.carprice.dataset import Dataset
from ml.carprice.listing import Listing, decode_listing, parse_listing
from ml.carprice.request_body import BodyError, decode_json, parse_car
from ml.carprice.schema import RowError, served_dataset
from runtime.credentials import azure_credential
from runtime.endpoint import EndpointModel
from runtime.predictions import new_prediction
from runtime.pricing import LocalModel, ModelUnavailable, PriceModel

log = logging.getLogger(__name__)
_INVALID = "The car's details are not valid."


@dataclass
class Runtime:
    """What the handlers use, built once per worker process from the app settings."""

    settings: FunctionSettings
    store: MarketStore
    model: PriceModel
    dataset: Dataset  # what the served model was trained on: listings and requests are validated against it
    index: Any = None  # functions.listing_index.ListingIndexWriter when the listings index is configured

    @classmethod
    def from_settings(cls, settings: FunctionSettings, credential: Any = None) -> Runtime:
        model: PriceModel
        if settings.scoring_mode == "remote":
            model = EndpointModel(settings.endpoint_url, settings.endpoint_token_url, settings.endpoint_scope,
                                  credential or azure_credential(settings.managed_identity_client_id),
                                  timeout_s=settings.endpoint_timeout_s, attempts=settings.endpoint_attempts)
        else:
            model = LocalModel(settings.model_dir)  # loaded on first use: a later deployment is picked up
        return cls(settings, MarketStore(settings), model, served_dataset(settings.model_dir),
                   _listing_index(settings, credential))


def _listing_index(settings: FunctionSettings, credential: Any) -> Any:
    if not (settings.search_endpoint and settings.openai_endpoint):
        return None
    return writer_for(settings, credential)


@dataclass(frozen=True)
class ScoreReport:
    received: int
    scored: int
    dead_lettered: int
    model_version: str | None


def _event_facts(event: func.EventHubEvent) -> dict[str, Any]:
    return {"sequence_number": event.sequence_number, "offset": event.offset, "enqueued_at": event.enqueued_time}


def _decode(body: bytes, dataset: Dataset) -> Listing | list[RowError]:
    # orjson first (a third of json's cost per event); it refuses NaN and 64-bit overflow, which the
    # standard parser then reads so the schema can name the field.
    try:
        return parse_listing(orjson.loads(body), dataset)
    except orjson.JSONDecodeError:
        return decode_listing(body, dataset)


def score_listings(events: Sequence[func.EventHubEvent], runtime: Runtime, *, final_attempt: bool = True,
                   now: datetime | None = None) -> ScoreReport:
    valid: list[tuple[Listing, func.EventHubEvent]] = []
    dead: list[dict] = []
    for event in events:
        body = event.get_body()
        parsed = _decode(body, runtime.dataset)
        if isinstance(parsed, list):
            dead.append(dead_letter(body, INVALID_LISTING, parsed, **_event_facts(event)))
        else:
            valid.append((parsed, event))
    try:
        quotes = runtime.model.quote_many([listing.car for listing, _ in valid])
    except ModelUnavailable as exc:
        if not final_attempt:
            runtime.store.upsert("dead_letters", dead)
            log.warning("no model to price %d listings (%s); the runtime retries the batch", len(valid), exc)
            raise
        reason = [RowError(field="(model)", reason=str(exc))]
        dead += [dead_letter(event.get_body(), MODEL_UNAVAILABLE, reason, **_event_facts(event)) for _, event in valid]
        valid, quotes = [], []
    scored_at = iso(now or datetime.now(UTC))
    market: dict[str, dict] = {}
    for (listing, event), quote in zip(valid, quotes, strict=True):
        # A listing sent twice in one batch: its later event wins, as it would across batches.
        market[listing.listing_id] = market_record(
            listing, quote, runtime.dataset, enqueued_at=event.enqueued_time,
            sequence_number=event.sequence_number, scored_at=scored_at)
    runtime.store.upsert("market", list(market.values()))
    runtime.store.upsert("dead_letters", dead)
    if runtime.index is not None and market:
        try:
            runtime.index.upsert(from_market_record(record, runtime.dataset) for record in market.values())
        except Exception as exc:  # the market records are kept; the listings index catches up on the retry
            if not final_attempt:
                raise
            log.error("%d scored listings not indexed on the last attempt: %s", len(market), exc)
    if dead:
        log.warning("%d of %d events dead-lettered", len(dead), len(events))
    return ScoreReport(len(events), len(market), len(dead), quotes[0].model_version if quotes else None)


# --- HTTP ------------------------------------------------------------------------------------------------
def _problem(status: int, detail: str, errors: list[RowError]) -> func.HttpResponse:
    body = {"detail": detail, "errors": [e.model_dump() for e in errors]}
    return func.HttpResponse(json.dumps(body), status_code=status, mimetype="application/json")


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == "application/json"


def price(req: func.HttpRequest, runtime: Runtime) -> func.HttpResponse:
    if not _is_json(req.headers.get("content-type", "")):
        reason = "send the car as JSON (Content-Type: application/json)"
        return _problem(415, "Unsupported media type.", [RowError(field="(body)", reason=reason)])
    body = req.get_body()
    limit = runtime.settings.max_body_bytes
    if len(body) > limit:
        reason = f"the body is {len(body):,} bytes; the limit is {limit:,}"
        return _problem(413, "Request body too large.", [RowError(field="(body)", reason=reason)])
    try:
        raw = decode_json(body)
    except BodyError as exc:
        return _problem(422, _INVALID, [RowError(field="(body)", reason=str(exc))])
    car = parse_car(raw, runtime.dataset)
    if isinstance(car, list):
        return _problem(422, _INVALID, car)
    try:
        (quote,) = runtime.model.quote_many([car])
    except ModelUnavailable as exc:
        detail = "The price model is unavailable; please retry shortly."
        return _problem(503, detail, [RowError(field="(model)", reason=str(exc))])
    prediction = new_prediction(car, quote, runtime.settings.region, runtime.dataset)
    try:
        runtime.store.upsert("history", [prediction])
    except AzureError as exc:
        detail = "The prediction could not be recorded; please retry shortly."
        return _problem(503, detail, [RowError(field="(store)", reason=type(exc).__name__)])
    return func.HttpResponse(json.dumps(prediction), status_code=201, mimetype="application/json")
