"""One outbox per process on a directory shared by workers and instances (App Service's /home): a
folder whose owner is gone is adopted by a live worker and drained, so nothing is lost across
restarts and scale-in; folders of live owners are left alone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.store.outbox import Outbox
from app.store.owners import DB_FILE, LEASE_FILE, Owner, adopt_orphans, is_orphan, this_instance
from tests.app.conftest import AUDI, app_settings, cosmos_container, wait_for
from tools.local.emulators import CosmosEmulator

pytestmark = pytest.mark.xdist_group("app")

LEASE = 600.0


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _doc(i: int, make: str = "audi") -> dict:
    """A whole prediction record (it reaches the shared Cosmos emulator, which other tests read)."""
    return {
        "id": f"orphan-{os.getpid()}-{i}-{time.time_ns()}", "make": make,
        "created_at": f"2024-01-01T00:00:{i:02d}.000000Z", "price": 10_000.0 + i, "price_low": 9_000.0,
        "price_high": 11_000.0 + i, "model_version": "adopted-test", "region": "testregion",
        "features": {**AUDI, "make": make},
    }


def _crashed_outbox(outbox_dir: Path, owner: Owner, docs: list[dict]) -> Path:
    """An outbox folder as a killed process leaves it: records committed, still only in the WAL."""
    live = outbox_dir / "live-copy-source"
    live.mkdir(parents=True)
    outbox = Outbox(live / DB_FILE)
    outbox.add_many(docs)
    folder = outbox_dir / owner.folder_name
    shutil.copytree(live, folder)  # copied while open: the WAL is not yet checkpointed into the file
    outbox.close()
    shutil.rmtree(live)
    (folder / LEASE_FILE).touch()
    _age(folder, LEASE / 5 + 1)  # its owner stopped renewing when it died
    assert (folder / f"{DB_FILE}-wal").stat().st_size > 0
    return folder


def _age(folder: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(folder / LEASE_FILE, (past, past))


def test_an_outbox_left_by_a_dead_worker_is_adopted_and_drained_at_start_up(
    model_dir: Path, cosmos: CosmosEmulator, tmp_path: Path
) -> None:
    outbox_dir = tmp_path / "outbox"
    docs = [_doc(i, make) for i, make in enumerate(("audi", "bmw", "volvo"))]
    orphan = _crashed_outbox(outbox_dir, Owner(this_instance(), _dead_pid()), docs)
    settings = app_settings(model_dir=model_dir, outbox_dir=outbox_dir, cosmos_endpoint=cosmos.endpoint)
    container = cosmos_container(cosmos)
    ids = {d["id"] for d in docs}

    with TestClient(create_app(settings)) as client:
        assert not orphan.exists()
        wait_for(lambda: ids <= {r["id"] for r in container.query_items(
            "SELECT c.id FROM c", enable_cross_partition_query=True
        )}, timeout=30, what="the dead worker's records in Cosmos DB")
        wait_for(lambda: client.get("/readyz").json()["checks"]["outbox_pending"] == "0", what="an empty outbox")
    assert [f.name for f in outbox_dir.iterdir()] == [Owner.of_this_process().folder_name]


def test_folders_of_live_owners_are_left_alone_and_orphans_are_recognised(tmp_path: Path) -> None:
    me = Owner(this_instance(), os.getpid())
    here = this_instance()
    cases = {
        Owner(here, os.getppid()).folder_name: False,  # a live sibling worker
        Owner("otherhost", 1234).folder_name: False,  # another instance, lease fresh
        Owner(here, _dead_pid()).folder_name: True,  # a worker of this instance that died
        f"{Owner(here, _dead_pid()).folder_name}_adopt-0a1b2c3d": True,  # adopter died mid-adoption
        me.folder_name: False,  # mine
        "quarantine-x_1-0a1b2c3d": False,  # set aside for a human
    }
    for name in cases:
        (tmp_path / name).mkdir()
        (tmp_path / name / LEASE_FILE).touch()
        _age(tmp_path / name, LEASE / 5 + 1)
    just_died = tmp_path / Owner(here, _dead_pid()).folder_name  # or alive in an overlapping container
    just_died.mkdir()
    (just_died / LEASE_FILE).touch()
    cases[just_died.name] = False
    stale_other = tmp_path / Owner("scaledin", 99).folder_name  # an instance scaled in long ago
    stale_other.mkdir()
    (stale_other / LEASE_FILE).touch()
    _age(stale_other, LEASE + 60)
    cases[stale_other.name] = True

    assert {name: is_orphan(tmp_path / name, me, LEASE) for name in cases} == cases


def test_each_orphan_is_adopted_exactly_once_and_keeps_every_record(tmp_path: Path) -> None:
    outbox_dir = tmp_path / "outbox"
    first = [_doc(i) for i in range(5)]
    second = [_doc(i, "saab") for i in range(5, 8)]
    _crashed_outbox(outbox_dir, Owner(this_instance(), _dead_pid()), first)
    gone_instance = _crashed_outbox(outbox_dir, Owner("scaledin", 4321), second)
    _age(gone_instance, LEASE + 60)
    me, sibling = Owner(this_instance(), os.getpid()), Owner(this_instance(), os.getppid())
    mine, theirs = Outbox(tmp_path / "mine.sqlite3"), Outbox(tmp_path / "theirs.sqlite3")
    try:
        # Two live workers start together: whichever renames a folder first adopts it.
        adopted = adopt_orphans(outbox_dir, me, mine, LEASE) + adopt_orphans(outbox_dir, sibling, theirs, LEASE)
        assert adopted == 8
        ids = {d["id"] for d in mine.oldest(100)} | {d["id"] for d in theirs.oldest(100)}
        assert ids == {d["id"] for d in first + second}
        assert mine.count() + theirs.count() == 8
        assert list(outbox_dir.iterdir()) == []
    finally:
        mine.close()
        theirs.close()


def test_an_unreadable_orphan_is_set_aside_not_retried_forever(tmp_path: Path) -> None:
    outbox_dir = tmp_path / "outbox"
    broken = outbox_dir / Owner(this_instance(), _dead_pid()).folder_name
    broken.mkdir(parents=True)
    (broken / DB_FILE).write_bytes(b"not a database" * 100)
    (broken / LEASE_FILE).touch()
    _age(broken, LEASE / 5 + 1)
    mine = Outbox(tmp_path / "mine.sqlite3")
    try:
        assert adopt_orphans(outbox_dir, Owner.of_this_process(), mine, LEASE) == 0
    finally:
        mine.close()
    (kept,) = outbox_dir.iterdir()
    assert kept.name.startswith("quarantine-") and (kept / DB_FILE).is_file()


def test_a_folder_whose_file_is_still_held_by_its_owner_is_given_back(tmp_path: Path) -> None:
    # An overlapping container's worker: its pid is invisible here, but it still holds the file's lock.
    outbox_dir = tmp_path / "outbox"
    folder = outbox_dir / Owner(this_instance(), _dead_pid()).folder_name
    folder.mkdir(parents=True)
    (folder / LEASE_FILE).touch()
    _age(folder, LEASE / 5 + 1)
    holder = Outbox(folder / DB_FILE)
    holder.add_many([_doc(1)])
    mine = Outbox(tmp_path / "mine.sqlite3")
    try:
        assert adopt_orphans(outbox_dir, Owner.of_this_process(), mine, LEASE) == 0
        assert [f.name for f in outbox_dir.iterdir()] == [folder.name] and mine.count() == 0
    finally:
        mine.close()
        holder.close()
    assert Outbox(folder / DB_FILE).count() == 1
