"""Deterministic synthetic landed data for prep: dealer feeds (CSV, JSON, JSON Lines) and Event Hubs Capture
files in a lake's bronze layer, built from the shipped data set's cars with controlled faults.

Listing i is car i % 205 of the source file with its price and curb weight shifted by its round, so rows are
distinct; every DUPLICATE_EVERY-th listing repeats an earlier one (in another file and format), every
ABSURD_EVERY-th has an impossible horsepower (rejected), every UNPRICED_EVERY-th has no price (unlabelled),
and each file carries one record that cannot be read at all. The parity test and `make bench-prep` use it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from contract import LAKE_FEEDS_FOLDER
from ml.carprice.capture import CapturedEvent, capture_bytes, capture_path
from ml.carprice.dataset import active
from ml.carprice.listing import listing_body

DUPLICATE_EVERY = 50
ABSURD_EVERY = 101
UNPRICED_EVERY = 67
WHEN = datetime(2026, 11, 28, 1, 0, tzinfo=UTC)


def _source_rows() -> tuple[list[str], list[dict[str, str]]]:
    with active().source_path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def listings(count: int) -> Iterator[dict[str, str]]:
    """`count` listings as CSV text under the source file's headers (deterministic)."""
    header, cars = _source_rows()
    for i in range(count):
        if i and i % DUPLICATE_EVERY == 0:
            i = i // 2  # the same listing as an earlier one  # noqa: PLW2901
        car = dict(cars[i % len(cars)])
        round_ = i // len(cars)
        if car["price"] not in ("", "?"):
            car["price"] = f"{float(car['price']) * (1 + round_ / 100_000):.2f}"
        car["curb-weight"] = str(int(car["curb-weight"]) + round_ % 50)
        if i % ABSURD_EVERY == ABSURD_EVERY - 1:
            car["horsepower"] = "5000"
        if i % UNPRICED_EVERY == UNPRICED_EVERY - 1:
            car["price"] = "?"
        yield {name: car[name] for name in header}


def _typed(row: dict[str, str]) -> dict[str, object]:
    """A listing as a producer sends JSON: declared names, numbers as numbers, unknowns left out."""
    out: dict[str, object] = {}
    for key, value in row.items():
        if value in ("", "?"):
            continue
        name = key.replace("-", "_")
        try:
            out[name] = int(value) if name == "symboling" else float(value)
        except ValueError:
            out[name] = value
    return out


def land(bronze: Path, count: int, rows_per_file: int = 5_000) -> dict[str, int]:
    """Write `count` listings into `bronze` as feeds and capture files in turn; returns files per kind."""
    header, _ = _source_rows()
    made = {"csv": 0, "json": 0, "jsonl": 0, "avro": 0}
    rows = listings(count)
    kinds = ("csv", "avro", "jsonl", "avro", "json")
    start = 0
    while start < count:
        chunk = [next(rows) for _ in range(min(rows_per_file, count - start))]
        kind = kinds[(start // rows_per_file) % len(kinds)]
        number = made[kind]
        folder = bronze / LAKE_FEEDS_FOLDER / f"ingest_date=2026-11-{1 + number % 28:02d}"
        if kind == "csv":
            lines = [",".join(header), *(",".join(r[c] for c in header) for r in chunk), "1,2"]  # short row
            _write(folder / f"dealer-{number:05d}.csv", ("\n".join(lines) + "\n").encode())
        elif kind == "json":
            items: list[object] = [_typed(r) for r in chunk] + ["not an object"]
            _write(folder / f"dealer-{number:05d}.json", json.dumps(items).encode())
        elif kind == "jsonl":
            text = "\n".join([*(json.dumps(_typed(r)) for r in chunk), "{broken"]) + "\n"
            _write(folder / f"dealer-{number:05d}.jsonl", text.encode())
        else:
            window = WHEN + timedelta(minutes=5 * number)
            events = [CapturedEvent(start + j, str(start + j), window, listing_body(f"L-{start + j}", _typed(r)))
                      for j, r in enumerate(chunk)]
            events.append(CapturedEvent(start + len(chunk), "x", window, b"{not json"))
            _write(bronze / capture_path("evhns-carprice", "car-listings", str(number % 4), window),
                   capture_bytes(events))
        made[kind] += 1
        start += len(chunk)
    return made


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
