"""A durable on-disk outbox, so that no prediction is lost when Cosmos DB is slow or down.

Every prediction is committed here before the user gets the price; the drainer (app/store/drainer.py)
copies records to Cosmos DB and deletes them only once Cosmos has them. Concurrent requests'
records are committed together (group commit, see OutboxWriter).

One file belongs to one process (app/store/owners.py names and adopts them): on App Service the
outbox lives on /home, an SMB share that every instance mounts, where SQLite's WAL shared memory
(-shm) and cross-process locking are not reliable. So the file is opened in WAL mode with
locking_mode=EXCLUSIVE set before the first access: SQLite then keeps the WAL index in heap memory
and never creates or maps a -shm file ("WAL without shared memory", sqlite.org/wal.html), and the
connection holds its file lock for its whole life, so no other process can open it by mistake.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import orjson

from app.store.pending_view import PendingView
from app.store.sqlite import Row, pending_table, transaction

log = logging.getLogger(__name__)

# Records are read in the order they were committed (rowid), so the only index is the id's: an index on
# created_at would cost every commit a third page write (one found in an older file is dropped on opening).
_SCHEMA = pending_table("attempts INTEGER NOT NULL DEFAULT 0", "last_error TEXT") + (
    "DROP INDEX IF EXISTS pending_by_time;\n"
)



def open_exclusive_wal(path: Path, fsync_each_commit: bool = False, wait_s: float = 5.0) -> sqlite3.Connection:
    """A connection that owns `path`: WAL journal, no shared memory, file lock held until close."""
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=wait_s)
    try:
        # Order matters: EXCLUSIVE must be set before the first read, or SQLite maps a -shm file.
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode != "wal":
            raise sqlite3.OperationalError(f"{path}: journal mode is {mode!r}, expected 'wal'")
        # WAL + NORMAL: a commit acknowledged to the user survives a crash or restart of the process; FULL
        # also survives the machine losing power, at one fsync per commit (Settings.outbox_fsync_each_commit).
        db.execute(f"PRAGMA synchronous={'FULL' if fsync_each_commit else 'NORMAL'}")
        db.executescript(_SCHEMA)
    except BaseException:
        db.close()
        raise
    return db


def read_all_rows(path: Path) -> list[Row]:
    """Every record of an outbox file this process does not own (one it has adopted)."""
    db = open_exclusive_wal(path, wait_s=0.2)  # locked means its owner still runs: don't wait for it
    try:
        return db.execute("SELECT id, created_at, make, body FROM pending ORDER BY rowid").fetchall()
    finally:
        db.close()  # the last connection checkpoints the WAL into the file and deletes it


class Outbox:
    """One process's SQLite file; safe to share between that process's threads. With a `view`, every
    record added or removed is mirrored into the instance's pending view (app/store/pending_view.py)
    under `owner`, so the instance's other workers can read it. Mirroring runs in order on one thread of
    its own whenever the view is busy: it is shared with sibling processes, and waiting for their lock must
    never stall the event loop; callers that need the view updated (a request, before it answers) wait on
    the future. When the view is free and nothing is queued, an add is written at once, without a hand-off."""

    def __init__(
        self, path: Path, fsync_each_commit: bool = False, *, view: PendingView | None = None, owner: str = ""
    ) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.view = view
        self.owner = owner or path.parent.name
        self._lock = threading.Lock()
        self._db = open_exclusive_wal(path, fsync_each_commit)
        self._mirror_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pending-view")
        self._queue_lock = threading.Lock()
        self._queued = 0  # view changes waiting on the mirror thread

    def add_many(self, docs: Iterable[dict]) -> Future[None]:
        return self.add_rows([(d["id"], d["created_at"], d["make"], orjson.dumps(d).decode()) for d in docs])

    def add_rows(self, rows: Sequence[Row]) -> Future[None]:
        """One transaction; a record already present (same id) is replaced, so a repeated copy is harmless.
        Returns once committed here; the future completes when the pending view has the rows too."""
        with self._lock:
            with transaction(self._db):
                self._db.executemany(
                    "INSERT OR REPLACE INTO pending (id, created_at, make, body) VALUES (?,?,?,?)", rows
                )
            if self.view is not None and self._mirrors_idle() and self.view.add(self.owner, rows, wait=False):
                return _DONE  # the common case: written right here, no thread hand-off
            return self._mirror(self.view.add if self.view else None, self.owner, rows)

    def _mirrors_idle(self) -> bool:
        with self._queue_lock:
            return self._queued == 0

    def _mirror(self, change: Callable[..., object] | None, *args: object) -> Future[None]:
        """Queue a change of the pending view behind the earlier ones (submitted under the outbox lock,
        so the view sees changes in the order the outbox made them)."""
        if change is None:
            return _DONE
        with self._queue_lock:
            self._queued += 1
        queued = self._mirror_thread.submit(_apply, change, *args)
        queued.add_done_callback(self._dequeued)
        return queued

    def _dequeued(self, _: Future[None]) -> None:
        with self._queue_lock:
            self._queued -= 1

    def republish(self, live_owners: Iterable[str]) -> None:
        """Rewrite this outbox's rows in the pending view (see app/store/pending_view.py)."""
        if self.view is None:
            return
        with self._lock:
            rows = self._db.execute("SELECT id, created_at, make, body FROM pending").fetchall()
            done = self._mirror(self.view.republish, self.owner, rows, live_owners)
        done.result()

    def oldest(self, limit: int) -> list[dict]:
        with self._lock:
            rows = self._db.execute("SELECT body FROM pending ORDER BY rowid LIMIT ?", (limit,)).fetchall()
        return [orjson.loads(body) for (body,) in rows]

    def newest(self, limit: int, make: str | None = None) -> list[dict]:
        query = "SELECT body FROM pending {} ORDER BY rowid DESC LIMIT ?".format("WHERE make = ?" if make else "")
        params: tuple = (make, limit) if make else (limit,)
        with self._lock:
            rows = self._db.execute(query, params).fetchall()
        return [orjson.loads(body) for (body,) in rows]

    def get(self, prediction_id: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM pending WHERE id = ?", (prediction_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def remove(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        with self._lock:
            with transaction(self._db):
                self._db.executemany("DELETE FROM pending WHERE id = ?", [(i,) for i in ids])
            self._mirror(self.view.remove if self.view else None, ids)

    def note_failure(self, ids: Iterable[str], error: str) -> None:
        with self._lock, transaction(self._db):
            self._db.executemany(
                "UPDATE pending SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                [(error[:500], i) for i in ids],
            )

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def close(self) -> None:
        self._mirror_thread.shutdown(wait=True)
        with self._lock:
            self._db.close()
        if self.view is not None:
            self.view.close()


def _completed() -> Future[None]:
    done: Future[None] = Future()
    done.set_result(None)
    return done


_DONE = _completed()  # a finished future holds no state that a caller could change: one serves every caller


def _apply(change: Callable[..., object], *args: object) -> None:
    try:
        change(*args)
    except sqlite3.Error as exc:  # the outbox has the record; the next republish repairs the view
        log.warning("pending view not updated (%s); repaired at the next lease renewal", exc)


class OutboxWriter:
    """Group commit: records handed over during one turn of the event loop are committed together in
    one transaction on the next turn. Without per-commit fsync a commit is ~0.05 ms, so it runs right
    on the event loop (no thread hand-off); with fsync it runs on one writer thread so the loop keeps
    serving while the disk syncs."""

    def __init__(self, outbox: Outbox, on_committed: Callable[[], None], offload: bool = False) -> None:
        self.outbox = outbox
        self._on_committed = on_committed
        self._pending: list[tuple[dict, asyncio.Future]] = []
        self._offload = offload
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="outbox-writer")

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
            return
        futures = [d for _, d in batch]
        error, mirrored = self._commit(batch)
        if mirrored is None or mirrored.done():
            _resolve_all(futures, error)
        else:  # answer once the instance's other workers can read the records too
            mirrored.add_done_callback(lambda _: loop.call_soon_threadsafe(_resolve_all, futures, None))

    def _commit(self, batch: list[tuple[dict, asyncio.Future]]) -> tuple[BaseException | None, Future | None]:
        try:
            mirrored = self.outbox.add_many(doc for doc, _ in batch)
        except Exception as exc:  # reported to every waiting request; later batches still try
            return exc, None
        self._on_committed()
        return None, mirrored

    def _commit_on_thread(self, batch: list[tuple[dict, asyncio.Future]], loop: asyncio.AbstractEventLoop) -> None:
        error, mirrored = self._commit(batch)
        if mirrored is not None:
            mirrored.result()
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
