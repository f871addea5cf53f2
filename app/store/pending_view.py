"""Every not-yet-stored prediction of this instance, readable by all of its workers.

Each worker's outbox file is locked by its owner for its whole life (app/store/outbox.py), so a sibling
worker cannot read it, and a user whose next request lands on another worker would not see the price
they just got until the drainer had copied it to Cosmos DB. The pending view closes that gap: one SQLite
file per instance on the instance's own disk (the temp directory, never /home's SMB share, where WAL
shared memory is unreliable), in ordinary WAL mode shared by the instance's workers. A record enters it
in the same group commit that puts it in its worker's outbox and leaves it when the drainer has stored it.

It is a read model only; the outboxes stay the durable copy. Each worker re-publishes its outbox's
records at start and on every lease renewal and drops rows of owners whose folder is gone, so a view
that was lost (container restart) or left stale (a crash between storing and forgetting) heals itself.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import orjson

from app.store.sqlite import Row, pending_table, transaction

log = logging.getLogger(__name__)

# Newest-first reads need the time index. Removing an owner's rows (at each lease renewal, off the hot
# path) scans instead: an owner index would cost every commit one more page write.
_SCHEMA = pending_table("owner TEXT NOT NULL") + (
    "CREATE INDEX IF NOT EXISTS pending_by_time ON pending (created_at);\n"
    "DROP INDEX IF EXISTS pending_by_owner;\n"
)


_WAIT_S = 5.0  # how long a queued change waits for a sibling's lock


def view_path(outbox_dir: Path, instance: str, folder: Path | None = None) -> Path:
    """The instance's view for this outbox directory (several apps on one machine keep theirs apart)."""
    key = hashlib.sha256(str(outbox_dir.resolve()).encode()).hexdigest()[:16]
    return (folder or Path(tempfile.gettempdir()) / "carprice-pending") / f"{instance}-{key}.sqlite3"


class PendingView:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()  # one user of the two connections at a time, in this process
        self._db = _connect(path)
        self._db.executescript(_SCHEMA)
        self._db_now = _connect(path)  # for adds that must not wait for a sibling's lock
        self._db_now.execute("PRAGMA busy_timeout=0")

    def add(self, owner: str, rows: Sequence[Row], *, wait: bool = True) -> bool:
        """Add the rows. With wait=False, only if the view is free this instant (no thread or sibling process
        holds it): False means nothing was written and the caller should queue the change instead."""
        if not self._lock.acquire(blocking=wait):
            return False
        db = self._db if wait else self._db_now
        try:
            with transaction(db):
                db.executemany(
                    "INSERT OR REPLACE INTO pending (id, created_at, make, body, owner) VALUES (?,?,?,?,?)",
                    [(*row, owner) for row in rows],
                )
        except sqlite3.OperationalError as exc:
            if wait or "locked" not in str(exc):
                raise
            return False
        finally:
            self._lock.release()
        return True

    def remove(self, ids: Iterable[str]) -> None:
        with self._lock, transaction(self._db):
            self._db.executemany("DELETE FROM pending WHERE id = ?", [(i,) for i in ids])

    def republish(self, owner: str, rows: Sequence[Row], live_owners: Iterable[str]) -> None:
        """Make the view hold exactly `rows` for `owner`, and nothing of owners that are gone."""
        live = sorted({owner, *live_owners})
        with self._lock, transaction(self._db):
            self._db.execute("DELETE FROM pending WHERE owner = ?", (owner,))
            marks = ",".join("?" * len(live))
            self._db.execute(f"DELETE FROM pending WHERE owner NOT IN ({marks})", live)  # noqa: S608
            self._db.executemany(
                "INSERT OR REPLACE INTO pending (id, created_at, make, body, owner) VALUES (?,?,?,?,?)",
                [(*row, owner) for row in rows],
            )

    def newest(self, limit: int, make: str | None = None) -> list[dict]:
        where = "WHERE make = ?" if make else ""
        params: tuple = (make, limit) if make else (limit,)
        with self._lock:
            rows = self._db.execute(
                f"SELECT body FROM pending {where} ORDER BY created_at DESC LIMIT ?", params  # noqa: S608
            ).fetchall()
        return [orjson.loads(body) for (body,) in rows]

    def get(self, prediction_id: str) -> dict | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM pending WHERE id = ?", (prediction_id,)).fetchone()
        return orjson.loads(row[0]) if row else None

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM pending").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db_now.close()
            self._db.close()


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=_WAIT_S)
    db.execute("PRAGMA journal_mode=WAL")
    # A read model rebuilt from the outboxes: losing its last commits to a power cut costs nothing.
    db.execute("PRAGMA synchronous=OFF")
    return db
