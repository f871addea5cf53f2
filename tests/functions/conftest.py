"""The function handlers' test set-up: the real model (the app tests' cached quick model), one Cosmos DB
emulator per session, and a fresh database per test so batches never see each other's documents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import azure.functions as func
import pytest

from functions.handlers import Runtime
from functions.settings import FunctionSettings
from ml.carprice.listing import listing_body, parse_listing
from tests.app.conftest import cosmos, endpoint, model_dir, score_run  # noqa: F401 - shared fixtures
from tools.local.emulators import CosmosEmulator
from tools.local.replayer import dataset_listings as replayer_listings

START = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def dataset_listings() -> list[dict[str, object]]:
    """The data set's complete priced cars as listings a producer would send (the replayer's first round)."""
    listings = [{"listing_id": listing_id, **listing} for listing_id, listing in replayer_listings(1)]
    return [item for item in listings if not isinstance(parse_listing(item), list)]


def event(body: bytes, sequence_number: int, start: datetime = START, spacing_s: float = 1.0) -> func.EventHubEvent:
    return func.EventHubEvent(body=body, sequence_number=sequence_number, offset=str(1024 * sequence_number),
                              enqueued_time=start + timedelta(seconds=spacing_s * sequence_number), partition_key=None)


def listing_events(listings: list[dict[str, object]], first_sequence: int = 0, start: datetime = START,
                   spacing_s: float = 1.0) -> list[func.EventHubEvent]:
    return [event(listing_body(str(item["listing_id"]), {k: v for k, v in item.items() if k != "listing_id"}),
                  first_sequence + i, start, spacing_s) for i, item in enumerate(listings)]


@pytest.fixture()
def settings(cosmos: CosmosEmulator, model_dir: Path) -> FunctionSettings:  # noqa: F811
    return FunctionSettings(cosmos_endpoint=cosmos.endpoint, cosmos_database=f"fn-{uuid.uuid4().hex[:12]}",
                            model_dir=model_dir, region="testregion")


@pytest.fixture()
def runtime(settings: FunctionSettings) -> Iterator[Runtime]:
    built = Runtime.from_settings(settings)
    yield built
    built.store.close()
