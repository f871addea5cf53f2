"""Medallion data prep: the raw CSV, landed feeds and captured events -> bronze (as ingested) -> silver
(typed, cleaned) -> gold (features).

Re-running with the same input changes nothing: bronze inserts only rows it has not seen (keyed by
source and line content), silver and gold are recomputed from bronze and written only when different.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa

from ml.carprice.ids import car_id
from ml.carprice.ingest import ingest_landed
from ml.carprice.lake import ML_ROOT, Lake
from ml.carprice.schema import CATEGORICAL_FEATURES, FEATURES, INTEGER_FEATURES, TARGET, parse_row

DEFAULT_SOURCE = ML_ROOT / "data" / "imports-85.csv"
TABLE = "automobile"
REJECTED_TABLE = "automobile_rejected"
UNPRICED_TABLE = "automobile_unpriced"
GOLD_TABLE = "car_features"
COLUMNS = (*FEATURES, TARGET)

BRONZE_SCHEMA = pa.schema(
    [("bronze_id", pa.string()), ("car_id", pa.string()), ("source", pa.string()), ("line", pa.int64()),
     ("ingested_at", pa.timestamp("us", tz="UTC"))]
    + [(c, pa.string()) for c in COLUMNS]
)


def _typed_field(name: str) -> pa.Field:
    if name in CATEGORICAL_FEATURES:
        return pa.field(name, pa.string())
    return pa.field(name, pa.int64() if name in INTEGER_FEATURES else pa.float64())


SILVER_SCHEMA = pa.schema([pa.field("car_id", pa.string()), *(_typed_field(c) for c in COLUMNS)])
GOLD_SCHEMA = SILVER_SCHEMA
REJECTED_SCHEMA = pa.schema([("car_id", pa.string()), ("line", pa.int64()), ("errors", pa.string())])


@dataclass(frozen=True)
class PrepReport:
    source_rows: int
    bronze_inserted: int
    bronze_rows: int
    duplicates_removed: int
    unpriced: int
    rejected: int
    silver_rows: int
    gold_rows: int

    def lines(self) -> list[str]:
        return [
            f"bronze: {self.bronze_rows} rows ({self.bronze_inserted} new of {self.source_rows} read)",
            f"silver: {self.silver_rows} rows ({self.duplicates_removed} duplicates removed, "
            f"{self.unpriced} without price set aside, {self.rejected} rejected)",
            f"gold:   {self.gold_rows} rows x {len(FEATURES)} features + {TARGET}",
        ]


def read_source(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{k.replace("-", "_"): (v or "").strip() for k, v in row.items()} for row in rows]


def write_bronze(lake: Lake, rows: Iterable[tuple[str, int, dict[str, str]]], now: datetime | None = None) -> int:
    """Insert (source, line, values) rows the bronze table does not hold yet; returns how many were new."""
    ingested_at = pd.Timestamp(now or datetime.now(UTC))
    records = []
    for source, line, values in rows:
        record = {c: values.get(c, "") for c in COLUMNS}
        key = hashlib.sha256(f"{source}\x1f{line}\x1f{car_id(record)}".encode()).hexdigest()[:24]
        records.append({"bronze_id": key, "car_id": car_id(record), "source": source, "line": line,
                        "ingested_at": ingested_at, **record})
    frame = pd.DataFrame.from_records(records, columns=BRONZE_SCHEMA.names)
    return lake.append_new("bronze", TABLE, frame, BRONZE_SCHEMA, key="bronze_id")


def ingest_bronze(lake: Lake, source: Path, now: datetime | None = None) -> tuple[int, int]:
    rows = read_source(source)
    numbered = ((source.name, line, values) for line, values in enumerate(rows, start=2))  # line 1: header
    return len(rows), write_bronze(lake, numbered, now)


def _typed(raw: str, name: str) -> str | float | int | None:
    if raw in ("", "?"):
        return None
    if name in CATEGORICAL_FEATURES:
        return raw
    number = float(raw)
    return int(number) if name in INTEGER_FEATURES and number.is_integer() else number


def clean(bronze: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """bronze -> (silver, unpriced, rejected, duplicates removed). Missing optional or required features
    stay null (the model imputes them); values outside the schema's bounds are rejected with the reason."""
    ordered = bronze.sort_values(["source", "line"])
    deduplicated = ordered.drop_duplicates(subset="car_id", keep="first")
    good, unpriced, rejected = [], [], []
    for row in deduplicated.itertuples(index=False):
        raw = row._asdict()
        try:
            typed = {c: _typed(raw[c], c) for c in COLUMNS}
        except ValueError as exc:
            rejected.append({"car_id": raw["car_id"], "line": raw["line"],
                             "errors": json.dumps([{"field": "(row)", "reason": f"not a number: {exc}"}])})
            continue
        features = {k: v for k, v in typed.items() if k in FEATURES and v is not None}
        parsed = parse_row(features)
        problems = [] if not isinstance(parsed, list) else [e for e in parsed if "missing" not in e.reason]
        price = typed[TARGET]
        if price is not None and not 0 < float(price) < 1_000_000:
            problems.append({"field": TARGET, "reason": f"price {price} is not between 0 and 1,000,000"})
        if problems:
            errors = [e if isinstance(e, dict) else e.model_dump() for e in problems]
            rejected.append({"car_id": raw["car_id"], "line": raw["line"], "errors": json.dumps(errors)})
            continue
        (good if price is not None else unpriced).append({"car_id": raw["car_id"], **typed})

    def frame(records: list[dict], schema: pa.Schema) -> pd.DataFrame:
        return pd.DataFrame.from_records(records, columns=schema.names).sort_values("car_id", ignore_index=True)

    duplicates = len(ordered) - len(deduplicated)
    return frame(good, SILVER_SCHEMA), frame(unpriced, SILVER_SCHEMA), frame(rejected, REJECTED_SCHEMA), duplicates


def run_prep(lake_root: str | Path | None = None, *, source: Path | None = DEFAULT_SOURCE,
             storage_options: dict[str, str] | None = None) -> PrepReport:
    """`source` seeds bronze with a CSV (the data set, locally); landed feeds and captured events are
    always ingested (ml/carprice/ingest.py)."""
    lake = Lake.at(lake_root, storage_options)
    source_rows, inserted = ingest_bronze(lake, source) if source is not None else (0, 0)
    landed = ingest_landed(lake, lambda rows: write_bronze(lake, rows))
    source_rows, inserted = source_rows + landed.records, inserted + landed.inserted
    if not lake.exists("bronze", TABLE):
        raise FileNotFoundError(f"bronze has no {TABLE} table and nothing landed under {lake.root}: "
                                "land a dealer feed or capture events first")
    bronze = lake.read("bronze", TABLE)
    silver, unpriced, rejected, duplicates = clean(bronze)
    lake.overwrite("silver", TABLE, silver, SILVER_SCHEMA)
    lake.overwrite("silver", UNPRICED_TABLE, unpriced, SILVER_SCHEMA)
    lake.overwrite("silver", REJECTED_TABLE, rejected, REJECTED_SCHEMA)
    gold = silver[list(GOLD_SCHEMA.names)]
    lake.overwrite("gold", GOLD_TABLE, gold, GOLD_SCHEMA)
    return PrepReport(source_rows, inserted, len(bronze), duplicates, len(unpriced), len(rejected),
                      len(silver), len(gold))


def load_gold(lake_root: str | Path | None = None, storage_options: dict[str, str] | None = None) -> pd.DataFrame:
    return Lake.at(lake_root, storage_options).read("gold", GOLD_TABLE)
