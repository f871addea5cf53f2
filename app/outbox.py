"""A durable on-disk outbox, so that no prediction is lost when Cosmos DB is slow or down.

Every prediction is committed here (SQLite, WAL) before the user gets the price; the
drainer (app/drainer.py) copies records to Cosmos DB and deletes them only once Cosmos has them.
Concurrent requests' records are committed together (group commit, see OutboxWriter).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
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

    def __init__(self, path: Path, fsync_each_commit: bool = False) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL: a commit acknowledged to the user survives a crash of the process; FULL also
        # survives the machine losing power, at one fsync per commit (see Settings.outbox_fsync_each_commit).
        self._db.execute(f"PRAGMA synchronous={'FULL' if fsync_each_commit else 'NORMAL'}")
        # Checkpoints (which fsync) run from checkpoint() on a background thread, never inside a
        # commit on the event loop.
        self._db.execute("PRAGMA wal_autocheckpoint=0")
        self._db.executescript(_SCHEMA)
        self._checkpoint_db: sqlite3.Connection | None = None

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

    def checkpoint(self) -> None:
        """Copy the WAL into the database file; its own connection, so commits carry on meanwhile."""
        if self._checkpoint_db is None:
            self._checkpoint_db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._checkpoint_db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._checkpoint_db is not None:
                self._checkpoint_db.close()
            self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            self._db.close()


class OutboxWriter:
    """Group commit: records handed over during one turn of the event loop are committed together in
    one transaction on the next turn. Without per-commit fsync a commit is ~0.1 ms, so it runs right on
    the event loop (no thread hand-off); with fsync it runs on one writer thread so the loop keeps
    serving while the disk syncs."""

    CHECKPOINT_EVERY = 200  # commits

    def __init__(self, outbox: Outbox, on_committed: Callable[[], None], offload: bool = False) -> None:
        self.outbox = outbox
        self._on_committed = on_committed
        self._pending: list[tuple[dict, asyncio.Future]] = []
        self._offload = offload
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-writer")
        self._commits = 0

    async def put(self, doc: dict) -> None:
        """Returns once the record is committed; raises if it could not be written."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        if not self._pending:
            loop.call_soon(self._flush, loop)
        self._pending.append((doc, done))
        await done

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._pending = self._pending, []
        if self._offload:
            self._thread.submit(self._commit_on_thread, batch, loop)
        else:
            _resolve_all([d for _, d in batch], self._commit(batch))

    def _commit(self, batch: list[tuple[dict, asyncio.Future]]) -> BaseException | None:
        try:
            self.outbox.add_many(doc for doc, _ in batch)
        except Exception as exc:  # reported to every waiting request; later batches still try
            return exc
        self._on_committed()
        self._commits += 1
        if self._commits % self.CHECKPOINT_EVERY == 0:
            self._thread.submit(self._checkpoint)
        return None

    def _checkpoint(self) -> None:
        try:
            self.outbox.checkpoint()
        except sqlite3.Error:  # busy or locked: the next one will catch up
            return

    def _commit_on_thread(self, batch: list[tuple[dict, asyncio.Future]], loop: asyncio.AbstractEventLoop) -> None:
        error = self._commit(batch)
        loop.call_soon_threadsafe(_resolve_all, [d for _, d in batch], error)

    def close(self) -> None:
        self._thread.shutdown(wait=True)


def _resolve_all(futures: list[asyncio.Future], error: BaseException | None) -> None:
    for done in futures:
        if done.done():
            continue
        if error is None:
            done.set_result(None)
        else:
            done.set_exception(error)
