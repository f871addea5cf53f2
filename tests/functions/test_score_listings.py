"""score_listings against the Cosmos DB emulator: real listings priced by the real model, bad events
dead-lettered with their reason, a replayed batch adding nothing, a missing model losing nothing."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from functions.handlers import Runtime, score_listings
from functions.market import INVALID_LISTING, MODEL_UNAVAILABLE
from functions.settings import FunctionSettings
from ml.carprice.listing import parse_listing
from ml.carprice.pricer import Pricer
from runtime.pricing import ModelUnavailable
from tests.functions.conftest import dataset_listings, event, listing_events

pytestmark = [pytest.mark.xdist_group("functions"), pytest.mark.slow]


def documents(runtime: Runtime, role: str) -> list[dict]:
    return runtime.store.query(role, "SELECT * FROM c")


def test_a_batch_of_listings_becomes_market_records_priced_by_the_model(runtime: Runtime, model_dir: Path) -> None:
    listings = dataset_listings()[:100]
    report = score_listings(listing_events(listings), runtime)
    assert (report.received, report.scored, report.dead_lettered) == (100, 100, 0)
    market = {doc["id"]: doc for doc in documents(runtime, "market")}
    assert set(market) == {item["listing_id"] for item in listings}
    pricer = Pricer.load(model_dir)
    first = listings[0]
    expected = pricer.predict([parse_listing(first).car])[0]  # type: ignore[union-attr]
    doc = market[first["listing_id"]]
    assert (doc["asking_price"], doc["estimated_price"], doc["price_low"], doc["price_high"]) == (
        first["price"], expected.price, expected.low, expected.high)
    assert doc["model_version"] == pricer.model_version and doc["make"] == first["make"]
    assert {d["deal_rating"] for d in market.values()} <= {"great", "good", "fair", "high"}
    assert len({d["deal_rating"] for d in market.values()}) > 1


def test_invalid_events_are_dead_lettered_with_the_reason(runtime: Runtime) -> None:
    good = dataset_listings()[0]
    absurd = {**dataset_listings()[1], "horsepower": 5000}
    nameless = {k: v for k, v in dataset_listings()[2].items() if k != "listing_id"}
    events = [*listing_events([good, absurd]), event(b"{not json", 90), event(json.dumps(nameless).encode(), 91)]
    report = score_listings(events, runtime)
    assert (report.scored, report.dead_lettered) == (1, 3)
    dead = {doc["sequence_number"]: doc for doc in documents(runtime, "dead_letters")}
    assert {d["kind"] for d in dead.values()} == {INVALID_LISTING}
    assert dead[1]["errors"][0]["field"] == "horsepower" and "400" in dead[1]["reason"]
    assert "not valid JSON" in dead[90]["reason"] and dead[90]["body"] == "{not json"
    assert dead[91]["errors"][0]["field"] == "listing_id"
    assert all(d["day"] == "2026-11-28" for d in dead.values())


def test_a_replayed_batch_creates_no_duplicates(runtime: Runtime) -> None:
    events = [*listing_events(dataset_listings()[:20]), event(b"[]", 500)]
    score_listings(events, runtime)
    score_listings(events, runtime)  # the runtime re-delivers a batch after a failure or restart
    assert len(documents(runtime, "market")) == 20
    assert len(documents(runtime, "dead_letters")) == 1


def test_without_a_model_the_batch_is_retried_then_dead_lettered_never_dropped(
    settings: FunctionSettings, model_dir: Path, tmp_path: Path
) -> None:
    missing = tmp_path / "model"
    runtime = Runtime.from_settings(FunctionSettings(**{**settings.__dict__, "model_dir": missing}))
    try:
        events = [*listing_events(dataset_listings()[:5]), event(b"oops", 77)]
        with pytest.raises(ModelUnavailable, match="no model"):
            score_listings(events, runtime, final_attempt=False)
        assert documents(runtime, "market") == []
        assert [d["kind"] for d in documents(runtime, "dead_letters")] == [INVALID_LISTING]

        report = score_listings(events, runtime, final_attempt=True)
        assert (report.scored, report.dead_lettered) == (0, 6)
        dead = documents(runtime, "dead_letters")
        assert sorted(d["kind"] for d in dead) == [INVALID_LISTING] + [MODEL_UNAVAILABLE] * 5
        assert all("no model" in d["reason"] for d in dead if d["kind"] == MODEL_UNAVAILABLE)

        # Once a model is deployed the same app prices without a restart.
        shutil.copytree(model_dir, missing)
        assert score_listings(events, runtime).scored == 5
    finally:
        runtime.store.close()
