"""The drainer copies outbox records to Cosmos DB over a few kept-open connections, concurrently: not
one new TLS connection per record (the emulator, like Cosmos DB, keeps connections open)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import urllib3

import contract
from app.store.cosmos import CosmosStore
from app.store.drainer import Drainer
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
    drainer = Drainer(outbox, store.upsert_prediction, idle_seconds=3600).start()
    drainer.committed()  # as if requests were being served: the drainer only trickles
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
