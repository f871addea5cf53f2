"""A durable on-disk outbox, so that no prediction is lost when Cosmos DB is slow or down.

Every prediction is committed here (SQLite, WAL, fsync on commit) before the user gets the price; the
drainer (app/drainer.py) copies records to Cosmos DB and deletes them only once Cosmos has them.
Request handlers don't write SQLite themselves: they hand records to one writer thread that commits
whatever has queued up in a single transaction (group commit), so one fsync serves many requests
and the event loop never blocks on the disk.
"""

from __future__ import annotations

import asyncio
import json
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pending (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    make TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS pending_by_time ON pending (created_at);
"""


class Outbox:
    """The SQLite file itself; safe to share between threads and between gunicorn workers."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL: a record acknowledged to the user survives a crash of the process or the machine.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def add_many(self, docs: Iterable[dict]) -> None:
        rows = [(d["id"], d["created_at"], d["make"], json.dumps(d, separators=(",", ":"))) for d in docs]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR REPLACE INTO pending (id, created_at, make, body) VALUES (?,?,?,?)", rows
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def oldest(self, limit: int) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM pending ORDER BY created_at LIMIT ?", (limit,)).fetchall()
        return [json.loads(body) for (body,) in rows]

    def newest(self, limit: int, make: str | None = None) -> list[dict]:
        query = "SELECT body FROM pending {} ORDER BY created_at DESC LIMIT ?".format("WHERE make = ?" if make else "")
        params: tuple = (make, limit) if make else (limit,)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [json.loads(body) for (body,) in rows]

    def remove(self, ids: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM pending WHERE id = ?", [(i,) for i in ids])

    def note_failure(self, ids: Iterable[str], error: str) -> None:
        with self._lock:
            self._db.executemany(
                "UPDATE pending SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                [(error[:500], i) for i in ids],
            )

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()


_STOP = object()


class OutboxWriter:
    """Commits records from many concurrent requests in one transaction per batch (group commit)."""

    def __init__(self, outbox: Outbox, on_committed: Callable[[], None], max_batch: int = 256) -> None:
        self.outbox = outbox
        self._on_committed = on_committed
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="outbox-writer", daemon=True)
        self._thread.start()

    async def put(self, doc: dict) -> None:
        """Returns once the record is on disk; raises if it could not be written."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        self._queue.put((doc, done, loop))
        await done

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop_after = False
            while len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop_after:
                return

    def _commit(self, batch: list) -> None:
        error: BaseException | None = None
        try:
            self.outbox.add_many(doc for doc, _, _ in batch)
        except Exception as exc:  # reported to every waiting request; the writer itself keeps going
            error = exc
        for _, done, loop in batch:
            loop.call_soon_threadsafe(_resolve, done, error)
        if error is None:
            self._on_committed()

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=10)


def _resolve(done: asyncio.Future, error: BaseException | None) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(None)
    else:
        done.set_exception(error)
