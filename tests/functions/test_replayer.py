"""The local twin's replayer drives the function's handler and lands Capture files prep ingests."""

from __future__ import annotations

from pathlib import Path

import pytest

from contract import LAKE_CAPTURE_FOLDER
from functions.handlers import Runtime
from ml.carprice.ingest import parse_capture
from ml.carprice.lake import Lake
from ml.carprice.prep import TABLE, run_prep
from tools.functions.replayer import Replayer

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
