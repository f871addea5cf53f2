"""The drainer copies outbox records to Cosmos DB over a few kept-open connections, concurrently: not
one new TLS connection per record (the emulator, like Cosmos DB, keeps connections open)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
import urllib3

import contract
from app.store.cosmos import CosmosStore
from app.store.drainer import Drainer, ServingLoad
from app.store.outbox import Outbox
from tests.app.conftest import AUDI, app_settings, cosmos_container

pytestmark = pytest.mark.xdist_group("app")

RECORDS = 60


def test_the_drainer_stores_every_record_over_a_few_reused_connections(
    cosmos, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    handshakes: list[int] = []
    connect = urllib3.connection.HTTPSConnection.connect
    monkeypatch.setattr(urllib3.connection.HTTPSConnection, "connect",
                        lambda self: handshakes.append(1) or connect(self))
    container = f"drain-{uuid.uuid4().hex[:8]}"  # its own container: the app tests' history stays as it was
    store = CosmosStore(app_settings(model_dir=tmp_path, outbox_dir=tmp_path, cosmos_endpoint=cosmos.endpoint,
                                     **{contract.SETTING_HISTORY_CONTAINER: container}))
    store.ensure_containers()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    make = "audi"
    docs = [{"id": uuid.uuid4().hex, "make": make, "created_at": f"2026-01-01T00:00:{i:02d}.000000Z",
             "price": 1.0, "features": AUDI} for i in range(RECORDS)]
    outbox.add_many(docs)
    drainer = Drainer(outbox, store.upsert_prediction)
    try:
        while outbox.count():
            stored, failed = drainer.drain_once()
            assert failed == 0, drainer.last_error
    finally:
        drainer.stop()
        store.close()

    assert len(handshakes) <= Drainer.PARALLEL + 2  # the pool's connections (and set-up), not one per record
    stored_ids = {d["id"] for d in cosmos_container(cosmos, container).query_items(
        "SELECT c.id FROM c WHERE c.make = @make", parameters=[{"name": "@make", "value": make}], partition_key=make)}
    assert stored_ids == {d["id"] for d in docs}


def test_a_stopping_worker_flushes_its_unsent_records_to_cosmos(cosmos, tmp_path: Path) -> None:
    container = f"flush-{uuid.uuid4().hex[:8]}"
    store = CosmosStore(app_settings(model_dir=tmp_path, outbox_dir=tmp_path, cosmos_endpoint=cosmos.endpoint,
                                     **{contract.SETTING_HISTORY_CONTAINER: container}))
    store.ensure_containers()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    docs = [{"id": uuid.uuid4().hex, "make": "audi", "created_at": f"2026-01-01T00:01:{i:02d}.000000Z",
             "price": 1.0, "features": AUDI} for i in range(RECORDS)]
    busy = ServingLoad()
    busy.started()  # a request in flight all along: the worker is busy serving, the drainer only trickles
    time.sleep(6 * ServingLoad.TIME_CONSTANT_S)
    drainer = Drainer(outbox, store.upsert_prediction, idle_seconds=3600, load=busy).start()
    outbox.add_many(docs)
    try:
        assert drainer.stop() == 0  # what SIGTERM's lifespan shutdown calls: nothing left for another worker
    finally:
        store.close()
    assert outbox.count() == 0
    stored = {d["id"] for d in cosmos_container(cosmos, container).query_items(
        "SELECT c.id FROM c", enable_cross_partition_query=True)}
    assert stored == {d["id"] for d in docs}


def test_a_full_speed_drain_gives_way_to_requests_after_one_step(cosmos, tmp_path: Path) -> None:
    """Requests resuming mid-batch wait behind one step of `parallel` upserts, not behind the whole batch;
    what the drainer did not copy stays in the outbox for the next turn."""
    container = f"yield-{uuid.uuid4().hex[:8]}"
    store = CosmosStore(app_settings(model_dir=tmp_path, outbox_dir=tmp_path, cosmos_endpoint=cosmos.endpoint,
                                     **{contract.SETTING_HISTORY_CONTAINER: container}))
    store.ensure_containers()
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.add_many([{"id": uuid.uuid4().hex, "make": "audi", "created_at": f"2026-01-01T00:02:{i:02d}.000000Z",
                      "price": 1.0, "features": AUDI} for i in range(RECORDS)])
    drainer = Drainer(outbox, store.upsert_prediction)
    try:
        assert drainer.drain_once(until=lambda: False) == (RECORDS, 0)  # nobody waiting: the whole batch
        outbox.add_many([{"id": uuid.uuid4().hex, "make": "audi", "created_at": f"2026-01-01T00:03:{i:02d}.000000Z",
                          "price": 1.0, "features": AUDI} for i in range(RECORDS)])
        assert drainer.drain_once(until=lambda: True) == (Drainer.PARALLEL, 0)  # requests waiting: one step
    finally:
        drainer.stop(flush_seconds=0)
        store.close()
    assert outbox.count() == RECORDS - Drainer.PARALLEL


def _steady_requests(outbox: Outbox, drainer: Drainer, per_second: float, seconds: float) -> int:
    """Requests of about a millisecond each at a steady rate, each committing one record; returns how many."""
    load, made, started = drainer.load, 0, time.monotonic()
    while time.monotonic() - started < seconds:
        load.started()
        time.sleep(0.001)
        outbox.add_many([{"id": uuid.uuid4().hex, "make": "audi", "created_at": f"2026-01-01T00:04:{made:06d}Z",
                          "price": 1.0, "features": AUDI}])
        drainer.committed()
        load.finished()
        made += 1
        time.sleep(1 / per_second)
    return made


def test_at_a_steady_moderate_rate_the_drainer_keeps_up_and_in_a_burst_it_trickles(cosmos, tmp_path: Path) -> None:
    """A worker serving a steady 60 requests/s has capacity to spare, so its records reach Cosmos DB as they
    come (pacing by how recent the last request was would trickle here, and fall further behind every
    second); a worker busy all the time leaves them in the outbox, bar a trickle."""
    container = f"pace-{uuid.uuid4().hex[:8]}"
    store = CosmosStore(app_settings(model_dir=tmp_path, outbox_dir=tmp_path, cosmos_endpoint=cosmos.endpoint,
                                     **{contract.SETTING_HISTORY_CONTAINER: container}))
    store.ensure_containers()
    steady, burst = Outbox(tmp_path / "steady" / "outbox.sqlite3"), Outbox(tmp_path / "burst" / "outbox.sqlite3")
    drainers = [Drainer(outbox, store.upsert_prediction).start() for outbox in (steady, burst)]
    try:
        made = _steady_requests(steady, drainers[0], per_second=60, seconds=4)
        assert steady.count() <= 20, f"{steady.count()} of {made} records still waiting"

        drainers[1].load.started()  # never finished: busy serving throughout
        time.sleep(6 * ServingLoad.TIME_CONSTANT_S)
        burst.add_many([{"id": uuid.uuid4().hex, "make": "audi", "created_at": f"2026-01-01T00:05:{i:02d}.000000Z",
                         "price": 1.0, "features": AUDI} for i in range(RECORDS)])
        drainers[1].committed()
        time.sleep(0.5)
        trickled, trickle = RECORDS - burst.count(), (0.5 / Drainer.TRICKLE_PAUSE_S + 1) * Drainer.TRICKLE_RECORDS
        assert trickled <= trickle, f"{trickled} records drained in half a second of a burst"
    finally:
        for drainer in drainers:
            drainer.stop(flush_seconds=0)
        store.close()
