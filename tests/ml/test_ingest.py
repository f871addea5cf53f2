"""Landed dealer feeds and Event Hubs Capture files reach bronze once, and flow on through prep."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from contract import LAKE_FEEDS_FOLDER
from ml.carprice.capture import CapturedEvent, capture_bytes, capture_path
from ml.carprice.ingest import FILES_TABLE
from ml.carprice.ingest import REJECTED_TABLE as INGEST_REJECTED
from ml.carprice.lake import Lake
from ml.carprice.listing import listing_body
from ml.carprice.prep import DEFAULT_SOURCE, GOLD_TABLE, REJECTED_TABLE, TABLE, run_prep
from tools.local.emulators import AZURITE_ACCOUNT, AZURITE_KEY, Azurite

WHEN = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)


def dataset_rows() -> list[dict[str, str]]:
    with DEFAULT_SOURCE.open(newline="") as handle:
        return [{k.replace("-", "_"): v for k, v in row.items()} for row in csv.DictReader(handle)]


def typed(row: dict[str, str]) -> dict[str, object]:
    """A data set row as a producer would send it: numbers as numbers, unknowns left out."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if value in ("", "?"):
            continue
        try:
            out[key] = float(value) if key not in ("symboling",) else int(value)
        except ValueError:
            out[key] = value
    return out


def land(root: Path, relative: str, data: bytes) -> Path:
    path = root / "bronze" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def land_feeds_and_capture(root: Path) -> None:
    rows = dataset_rows()
    header = list(rows[0])
    feed_csv = "\n".join([",".join(header), *(",".join(r[c] for c in header) for r in rows[:40])]) + "\n"
    land(root, f"{LAKE_FEEDS_FOLDER}/ingest_date=2026-11-27/dealer-a.csv", feed_csv.encode())
    land(root, f"{LAKE_FEEDS_FOLDER}/ingest_date=2026-11-28/dealer-b.json",
         json.dumps([typed(r) for r in rows[40:80]]).encode())
    absurd = {**typed(rows[80]), "horsepower": 5000}
    land(root, f"{LAKE_FEEDS_FOLDER}/ingest_date=2026-11-28/dealer-c.jsonl",
         "\n".join(json.dumps(r) for r in [absurd, *(typed(r) for r in rows[81:100])]).encode() + b"\n")
    events = [CapturedEvent(1000 + i, str(4096 * i), WHEN, listing_body(f"L-{i}", typed(row)))
              for i, row in enumerate(rows[100:205])]
    events.append(CapturedEvent(2000, "999999", WHEN, b"{not json"))
    land(root, capture_path("evhns-carprice", "car-listings", "0", WHEN), capture_bytes(events))


def test_feeds_and_captured_events_become_bronze_silver_and_gold(tmp_path: Path) -> None:
    land_feeds_and_capture(tmp_path)
    report = run_prep(tmp_path, source=None)
    lake = Lake.at(tmp_path)
    bronze = lake.read("bronze", TABLE)
    sources = bronze["source"].str.split("/").str[0].value_counts().to_dict()
    assert sources == {"feeds": 100, "capture": 105}
    assert report.bronze_inserted == len(bronze) == 205
    # The event that is not JSON is kept with its reason, not silently dropped.
    unreadable = lake.read("bronze", INGEST_REJECTED)
    assert list(unreadable["line"]) == [2000] and "not valid JSON" in unreadable.loc[0, "reason"]
    # Values outside the schema's bounds reach prep's own rejection table, with the field.
    rejected = lake.read("silver", REJECTED_TABLE)
    assert [json.loads(e)[0]["field"] for e in rejected["errors"]] == ["horsepower"]
    # The same cars as the shipped data set (minus the absurd one and those without a price).
    assert len(lake.read("gold", GOLD_TABLE)) == 200


def test_a_rerun_and_a_replayed_file_change_nothing(tmp_path: Path) -> None:
    land_feeds_and_capture(tmp_path)
    run_prep(tmp_path, source=None)
    lake = Lake.at(tmp_path)
    versions = {t: lake.version("bronze", t) for t in (TABLE, FILES_TABLE)}
    again = run_prep(tmp_path, source=None)
    assert again.bronze_inserted == 0 and again.source_rows == 0
    assert {t: lake.version("bronze", t) for t in versions} == versions

    # The same feed delivered again under a new ingest date: recognised by content, nothing added.
    original = tmp_path / "bronze" / LAKE_FEEDS_FOLDER / "ingest_date=2026-11-27" / "dealer-a.csv"
    land(tmp_path, f"{LAKE_FEEDS_FOLDER}/ingest_date=2026-11-29/dealer-a.csv", original.read_bytes())
    replay = run_prep(tmp_path, source=None)
    assert replay.bronze_inserted == 0 and lake.version("bronze", TABLE) == versions[TABLE]
    files = lake.read("bronze", FILES_TABLE).set_index("path")
    assert files.loc["feeds/ingest_date=2026-11-29/dealer-a.csv", "duplicate_of"] == \
        "feeds/ingest_date=2026-11-27/dealer-a.csv"


def test_a_new_capture_window_adds_only_its_events(tmp_path: Path) -> None:
    land_feeds_and_capture(tmp_path)
    run_prep(tmp_path, source=None)
    rows = dataset_rows()
    later = WHEN.replace(minute=35)
    # Event 3000 repeats a car already captured (a producer retry): bronze keeps it as ingested,
    # silver deduplicates it by car id.
    events = [CapturedEvent(3000, "1", later, listing_body("L-again", typed(rows[150])))]
    land(tmp_path, capture_path("evhns-carprice", "car-listings", "1", later), capture_bytes(events))
    report = run_prep(tmp_path, source=None)
    assert report.bronze_inserted == 1 and report.duplicates_removed == 1
    assert len(Lake.at(tmp_path).read("gold", GOLD_TABLE)) == 200


def test_prep_without_any_data_names_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="land a dealer feed"):
        run_prep(tmp_path, source=None)


@pytest.mark.slow
def test_landed_files_are_read_from_the_blob_lake(tmp_path: Path) -> None:
    """The local twin's lake: Azurite containers per layer, read through the same az:// root."""
    land_feeds_and_capture(tmp_path / "staged")
    with Azurite() as azurite:
        service = azurite.blob_service()
        for layer in ("bronze", "silver", "gold"):
            service.create_container(layer)
        staged = tmp_path / "staged" / "bronze"
        for path in staged.rglob("*"):
            if path.is_file():
                service.get_blob_client("bronze", path.relative_to(staged).as_posix()).upload_blob(path.read_bytes())
        options = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY,
                   "azure_storage_endpoint": azurite.blob_endpoint, "allow_http": "true"}
        report = run_prep("az://{layer}", source=None, storage_options=options)
        again = run_prep("az://{layer}", source=None, storage_options=options)
    shutil.rmtree(tmp_path / "staged")
    assert (report.bronze_inserted, report.gold_rows) == (205, 200)
    assert (again.bronze_inserted, again.source_rows) == (0, 0)
