"""Who owns which outbox file under CARPRICE_OUTBOX_DIR, and adopting the files of processes that are gone.

On App Service the outbox directory is on /home, shared by every instance of the app, and each
instance runs several gunicorn workers. Each worker (process) owns one folder, named
`<instance>_<pid>`, holding its SQLite file (app/store/outbox.py) and a `lease` file whose modification
time the owner refreshes every minute. A folder is orphaned when its owner is gone:

- same instance: the process id no longer runs (a worker that crashed or was recycled) and the lease
  has not been renewed for a fifth of its length (so an overlapping container, whose pids this one
  cannot see, keeps its folder), or the lease is stale (process ids are reused after a restart);
- another instance: the lease is older than `lease_seconds` (that instance was scaled in or replaced;
  its processes cannot be seen from here).

A worker adopts an orphan by renaming its folder to a name of its own (a rename is atomic, so two
workers never both win), copying its records into its own outbox in one transaction, and deleting the
folder. Records keep their ids, so a copy repeated after a crash mid-adoption is harmless: the outbox
and Cosmos DB both replace by id.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.store.outbox import Outbox, read_all_rows
from app.store.pending_view import PendingView

log = logging.getLogger(__name__)

DB_FILE = "outbox.sqlite3"
LEASE_FILE = "lease"
_NAME = re.compile(r"^(?P<instance>[A-Za-z0-9.-]+)_(?P<pid>\d+)(?:_adopt-[0-9a-f]+)?$")


def this_instance() -> str:
    """App Service's instance id (stable per VM, shared by its workers), else the host name."""
    raw = os.environ.get("WEBSITE_INSTANCE_ID", "")[:16] or socket.gethostname() or "local"
    return re.sub(r"[^A-Za-z0-9.-]", "-", raw)


@dataclass(frozen=True)
class Owner:
    instance: str
    pid: int

    @property
    def folder_name(self) -> str:
        return f"{self.instance}_{self.pid}"

    @classmethod
    def of_this_process(cls) -> Owner:
        return cls(this_instance(), os.getpid())

    @classmethod
    def from_folder_name(cls, name: str) -> Owner | None:
        match = _NAME.match(name)
        return cls(match["instance"], int(match["pid"])) if match else None


def open_own_outbox(
    outbox_dir: Path, owner: Owner, fsync_each_commit: bool = False, view: PendingView | None = None
) -> Outbox:
    folder = outbox_dir / owner.folder_name
    folder.mkdir(parents=True, exist_ok=True)
    renew_lease(folder)
    return Outbox(folder / DB_FILE, fsync_each_commit, view=view, owner=owner.folder_name)


def live_owners(outbox_dir: Path) -> list[str]:
    """Names of the outbox folders present (owners whose records may still be pending)."""
    try:
        return [f.name for f in outbox_dir.iterdir() if f.is_dir()]
    except FileNotFoundError:
        return []


def renew_lease(folder: Path) -> None:
    (folder / LEASE_FILE).touch()


def _pid_runs(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, as another user
        return True
    return True


def _lease_age(folder: Path, now: float) -> float:
    try:
        return now - (folder / LEASE_FILE).stat().st_mtime
    except FileNotFoundError:
        return now - folder.stat().st_mtime


def is_orphan(folder: Path, me: Owner, lease_seconds: float, now: float | None = None) -> bool:
    """True when `folder` holds an outbox whose owning process is gone (see the module docstring)."""
    owner = Owner.from_folder_name(folder.name)
    if owner is None or folder.name == me.folder_name or not folder.is_dir():
        return False  # not an outbox folder, or my own
    age = _lease_age(folder, time.time() if now is None else now)
    if age > lease_seconds:
        return True
    if owner.instance != me.instance or age < lease_seconds / 5:
        # Another instance whose lease is valid, or a lease renewed lately (owners renew every tenth of a
        # lease): its owner may be running, perhaps in an overlapping container whose pids we cannot see.
        return False
    # Same instance: my pid on another folder is a leftover of an earlier life of this pid.
    return owner.pid == me.pid or not _pid_runs(owner.pid)


def adopt_orphans(outbox_dir: Path, me: Owner, into: Outbox, lease_seconds: float) -> int:
    """Move every orphaned outbox's records into `into`; returns how many records were adopted."""
    adopted = 0
    try:
        folders = sorted(outbox_dir.iterdir())
    except FileNotFoundError:
        return 0
    for folder in folders:
        if is_orphan(folder, me, lease_seconds):
            adopted += _adopt(folder, me, into)
    return adopted


def _adopt(folder: Path, me: Owner, into: Outbox) -> int:
    claimed = folder.with_name(f"{me.folder_name}_adopt-{uuid.uuid4().hex[:8]}")
    try:
        folder.rename(claimed)  # atomic: exactly one adopter wins
    except OSError:
        return 0  # another worker claimed it first (or it vanished)
    renew_lease(claimed)  # while adopting, it is mine: other instances leave it alone
    db = claimed / DB_FILE
    try:
        rows = read_all_rows(db) if db.is_file() else []
        if rows:
            into.add_rows(rows)
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            return _quarantine(folder, claimed)
        claimed.rename(folder)  # its owner still holds the file: it is alive after all
        return 0
    except Exception:
        return _quarantine(folder, claimed)
    shutil.rmtree(claimed, ignore_errors=True)
    if rows:
        log.warning("adopted %d unsent prediction(s) from %s (its process is gone)", len(rows), folder.name)
    return len(rows)


def _quarantine(folder: Path, claimed: Path) -> int:
    """Unreadable: set aside under a name no adopter matches, for a human to look at."""
    quarantine = claimed.with_name(f"quarantine-{folder.name}-{uuid.uuid4().hex[:8]}")
    claimed.rename(quarantine)
    log.exception("outbox %s could not be read; kept at %s", folder, quarantine)
    return 0


class LeaseKeeper:
    """Renews this process's lease and, on each renewal, adopts outboxes orphaned since start-up
    (a sibling worker that died, an instance scaled in) and republishes its records to the pending view."""

    def __init__(
        self, outbox_dir: Path, me: Owner, outbox: Outbox, *, lease_seconds: float,
        on_adopted: Callable[[], None],
    ) -> None:
        self._dir = outbox_dir
        self._me = me
        self._outbox = outbox
        self._lease_seconds = lease_seconds
        self._on_adopted = on_adopted
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-lease", daemon=True)

    def adopt_now(self) -> int:
        adopted = adopt_orphans(self._dir, self._me, self._outbox, self._lease_seconds)
        if adopted:
            self._on_adopted()
        return adopted

    def adopt_and_republish(self) -> int:
        """Adopt orphans, then make the instance's pending view match this outbox (heals a stale view)."""
        adopted = self.adopt_now()
        self._outbox.republish(live_owners(self._dir))
        return adopted

    def start(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        # Renew ten times per lease, so a slow share or a busy worker never lets a live lease lapse.
        interval = max(self._lease_seconds / 10, 0.05)
        while not self._stop.wait(interval):
            try:
                renew_lease(self._dir / self._me.folder_name)
                self.adopt_and_republish()
            except Exception:  # the share hiccuped: try again next round
                log.exception("outbox lease renewal or adoption failed")
