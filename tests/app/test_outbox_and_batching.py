"""The hot path's two group operations: concurrent requests share one ONNX run and one outbox commit,
and neither changes what each caller gets. The outbox keeps records across a reopen (it is a file)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from app.store.outbox import Outbox, OutboxWriter
from ml.carprice.schema import CarFeatures
from runtime.pricing import LocalModel
from tests.app.conftest import AUDI

pytestmark = pytest.mark.xdist_group("app")

CARS = [CarFeatures(**{**AUDI, "make": make, "horsepower": hp})
        for make, hp in [("audi", 90), ("bmw", 150), ("volvo", 114), ("toyota", 70), ("porsche", 207)]]


def test_concurrent_quotes_share_one_model_run_and_each_gets_its_own_price(model_dir: Path) -> None:
    model = LocalModel.load(model_dir)
    runs: list[int] = []
    predict = model.pricer().predict
    model.pricer().predict = lambda cars: runs.append(len(cars)) or predict(cars)  # type: ignore[method-assign]

    async def together() -> list:
        return await asyncio.gather(*(model.quote(car) for car in CARS))

    quotes = asyncio.run(together())
    alone = predict(CARS)
    assert runs == [len(CARS)]
    assert [(q.price, q.low, q.high) for q in quotes] == [(p.price, p.low, p.high) for p in alone]


@pytest.mark.parametrize("fsync_each_commit", [False, True], ids=["commit-on-loop", "fsync-on-writer-thread"])
def test_concurrent_records_are_committed_together_and_kept_on_disk(tmp_path: Path, fsync_each_commit: bool) -> None:
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path, fsync_each_commit=fsync_each_commit)
    commits: list[int] = []
    add_many = outbox.add_many
    outbox.add_many = lambda docs: commits.append(len(d := list(docs))) or add_many(d)  # type: ignore[method-assign]
    committed: list[str] = []
    writer = OutboxWriter(outbox, on_committed=lambda: committed.append("wake"), offload=fsync_each_commit)
    docs = [{"id": f"p{i}", "make": "audi", "created_at": f"2024-01-01T00:00:{i:02d}.000000Z"} for i in range(10)]

    async def together() -> None:
        await asyncio.gather(*(writer.put(doc) for doc in docs))

    asyncio.run(together())
    writer.close()
    outbox.close()
    assert commits == [10] and committed == ["wake"]

    reopened = Outbox(path)
    assert [d["id"] for d in reopened.newest(3)] == ["p9", "p8", "p7"]
    assert reopened.count() == 10


def test_outbox_never_uses_wal_shared_memory_and_holds_its_file_while_open(tmp_path: Path) -> None:
    # App Service's /home is an SMB share: SQLite's -shm shared memory is not safe there.
    path = tmp_path / "outbox.sqlite3"
    outbox = Outbox(path)
    outbox.add_many([{"id": "p1", "make": "audi", "created_at": "2024-01-01T00:00:00.000000Z"}])
    try:
        assert not path.with_name(path.name + "-shm").exists()
        intruder = sqlite3.connect(path, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            intruder.execute("SELECT COUNT(*) FROM pending").fetchone()
        intruder.close()
    finally:
        outbox.close()
    assert not path.with_name(path.name + "-wal").exists()  # checkpointed into the file on close
    assert Outbox(path).count() == 1
