"""The local twin's replayer drives the function's handler and lands Capture files prep ingests."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract import LAKE_CAPTURE_FOLDER
from functions.handlers import Runtime
from ml.carprice.ingest import parse_capture
from ml.carprice.lake import Lake
from ml.carprice.prep import TABLE, run_prep
from tools.local.replayer import Replayer

pytestmark = [pytest.mark.xdist_group("functions"), pytest.mark.slow]


def test_replayed_listings_are_scored_and_captured_into_bronze(runtime: Runtime, tmp_path: Path) -> None:
    files: dict[str, bytes] = {}
    replayer = Replayer(runtime, files.__setitem__)
    report = replayer.deliver(25)
    assert report is not None and report.scored + report.dead_lettered == 25 and report.scored > 20
    market = runtime.store.query("market", "SELECT c.listing_id FROM c")
    assert len(market) == report.scored and all(m["listing_id"].endswith("-r1") for m in market)

    replayer.captured([], flush=True)
    (path, data), = files.items()
    assert path.startswith(f"{LAKE_CAPTURE_FOLDER}/local-twin/car-listings/0/") and path.endswith(".avro")
    assert len(parse_capture(data).rows) == 25

    landed = tmp_path / "lake" / "bronze" / path
    landed.parent.mkdir(parents=True)
    landed.write_bytes(data)
    run_prep(tmp_path / "lake", source=None)
    assert len(Lake.at(tmp_path / "lake").read("bronze", TABLE)) == 25


def test_the_replayer_keeps_its_rate_until_stopped(runtime: Runtime) -> None:
    files: dict[str, bytes] = {}
    replayer = Replayer(runtime, files.__setitem__, rate=40, batch_seconds=0.25)
    thread, stop = replayer.start()
    try:
        while replayer.sent < 20:
            thread.join(0.1)
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    assert replayer.scored + replayer.dead_lettered == replayer.sent
    assert sum(len(parse_capture(d).rows) for d in files.values()) == replayer.sent  # flushed on stop


def test_a_failed_batch_is_delivered_again_and_dead_lettered_on_its_last_attempt(
    runtime: Runtime, tmp_path: Path
) -> None:
    from dataclasses import replace

    from functions.function_app import MAX_RETRIES
    from runtime.pricing import LocalModel

    files: dict[str, bytes] = {}
    modelless = replace(runtime, model=LocalModel(tmp_path / "no-model"))
    replayer = Replayer(modelless, files.__setitem__)
    assert replayer.deliver(5) is None  # no model: the runtime would redeliver the batch
    for _ in range(MAX_RETRIES - 1):
        assert replayer.deliver(5) is None
    assert replayer.sent == 5  # retries go before any new event
    report = replayer.deliver(5)  # the last attempt: what cannot be priced is dead-lettered, not dropped
    assert report is not None and report.received == 5 and report.dead_lettered == 5 and replayer.sent == 5
    replayer.captured([], flush=True)
    assert sum(len(parse_capture(d).rows) for d in files.values()) == 5  # captured once, on arrival
    replayer.runtime = runtime
    assert replayer.deliver(3) is not None and replayer.sent == 8  # then the stream goes on
