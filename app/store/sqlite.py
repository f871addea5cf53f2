"""What the outbox and the pending view share: the shape of a pending record, and one SQLite transaction
around several statements (in autocommit mode, isolation_level=None, every statement of an executemany
would otherwise be its own commit, and its own write lock)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

Row = tuple[str, str, str, str]  # id, created_at, make, body (the record as JSON)


def pending_table(*extra_columns: str) -> str:
    """The `pending` table of records not yet in Cosmos DB, found by id. Each index costs every commit a
    page write (WAL frame), so each file adds only the indexes its own reads need."""
    columns = ",\n    ".join(
        ["id TEXT PRIMARY KEY", "created_at TEXT NOT NULL", "make TEXT NOT NULL", "body TEXT NOT NULL",
         *extra_columns]
    )
    return f"CREATE TABLE IF NOT EXISTS pending (\n    {columns}\n);\n"


@contextmanager
def transaction(db: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
