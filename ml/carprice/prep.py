"""Medallion data prep: the declared data set's source file, landed feeds and captured events -> bronze (as
ingested) -> silver (typed, validated with the same row model the API uses) -> gold (features + target).
Table and column names come from the declaration (ml/carprice/dataset.py); every function takes `dataset`,
defaulting to the selected one.

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

from ml.carprice.dataset import Dataset, DatasetError, active
from ml.carprice.ids import row_id
from ml.carprice.ingest import ingest_landed
from ml.carprice.lake import Lake

# The selected data set's tables (each function below takes another `dataset` too).
TABLE = active().table
REJECTED_TABLE = f"{TABLE}_rejected"
UNPRICED_TABLE = f"{TABLE}_unlabelled"
GOLD_TABLE = active().gold_table
DEFAULT_SOURCE = active().source_path
ID = "car_id"  # the row id column in every layer (a hash of the declared id columns)
REJECTED_SCHEMA = pa.schema([(ID, pa.string()), ("line", pa.int64()), ("errors", pa.string())])


def columns(dataset: Dataset) -> tuple[str, ...]:
    return (*dataset.features, dataset.target.name)


def bronze_schema(dataset: Dataset) -> pa.Schema:
    return pa.schema(
        [("bronze_id", pa.string()), (ID, pa.string()), ("source", pa.string()), ("line", pa.int64()),
         ("ingested_at", pa.timestamp("us", tz="UTC"))]
        + [(c, pa.string()) for c in columns(dataset)]
    )


def _typed_field(dataset: Dataset, name: str) -> pa.Field:
    column = dataset.by_name.get(name)
    if column is None:
        return pa.field(name, pa.float64())  # the target
    kind = {"category": pa.string(), "integer": pa.int64(), "boolean": pa.bool_()}.get(column.type, pa.float64())
    return pa.field(name, kind)


def silver_schema(dataset: Dataset) -> pa.Schema:
    return pa.schema([pa.field(ID, pa.string()), *(_typed_field(dataset, c) for c in columns(dataset))])


BRONZE_SCHEMA = bronze_schema(active())
SILVER_SCHEMA = GOLD_SCHEMA = silver_schema(active())


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
    features: int

    def lines(self) -> list[str]:
        return [
            f"bronze: {self.bronze_rows} rows ({self.bronze_inserted} new of {self.source_rows} read)",
            f"silver: {self.silver_rows} rows ({self.duplicates_removed} duplicates removed, "
            f"{self.unpriced} without a target set aside, {self.rejected} rejected)",
            f"gold:   {self.gold_rows} rows x {self.features} features + target",
        ]


def read_source(path: Path, dataset: Dataset | None = None) -> list[dict[str, str]]:
    """The source file's rows under the declared names (`Dataset.source_values`: source headers, one-hot)."""
    ds = dataset or active()
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [ds.source_values({k.strip(): v for k, v in row.items() if k is not None}) for row in rows]


def write_bronze(lake: Lake, rows: Iterable[tuple[str, int, dict[str, str]]], now: datetime | None = None,
                 dataset: Dataset | None = None) -> int:
    """Insert (source, line, values) rows the bronze table does not hold yet; returns how many were new. A value
    is found under the column's name or its source header (feeds may spell it either way)."""
    ds = dataset or active()
    ingested_at = pd.Timestamp(now or datetime.now(UTC))
    records = []
    for source, line, values in rows:
        record = ds.source_values(values)
        rid = row_id(record, ds.id_columns)
        key = hashlib.sha256(f"{source}\x1f{line}\x1f{rid}".encode()).hexdigest()[:24]
        records.append({"bronze_id": key, ID: rid, "source": source, "line": line,
                        "ingested_at": ingested_at, **record})
    schema = bronze_schema(ds)
    frame = pd.DataFrame.from_records(records, columns=schema.names)
    return lake.append_new("bronze", ds.table, frame, schema, key="bronze_id")


def ingest_bronze(lake: Lake, source: Path, now: datetime | None = None, dataset: Dataset | None = None
                  ) -> tuple[int, int]:
    rows = read_source(source, dataset)
    numbered = ((source.name, line, values) for line, values in enumerate(rows, start=2))  # line 1: header
    return len(rows), write_bronze(lake, numbered, now, dataset)


def clean(bronze: pd.DataFrame, dataset: Dataset | None = None
          ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, int]:
    """bronze -> (silver, unlabelled, rejected, duplicates removed). A row must pass the same row model the API
    uses (missing optional values stay null, the model imputes them); a row that does not is rejected with the
    reasons, so every row trained on is a row the API accepts."""
    ds = dataset or active()
    target = ds.target
    ordered = bronze.sort_values(["source", "line"])
    deduplicated = ordered.drop_duplicates(subset=ID, keep="first")
    good, unlabelled, rejected = [], [], []
    for raw in deduplicated.to_dict("records"):
        present = {c: raw[c] for c in ds.features if raw[c] not in ds.spec.source.missing}
        parsed = ds.parse_row({c: ds.typed_value(c, v) for c, v in present.items()})
        problems = [e.model_dump() for e in parsed] if isinstance(parsed, list) else []
        label: float | None = None
        text = raw[target.name]
        if text not in ds.spec.source.missing:
            try:
                label = float(text)
            except ValueError:
                problems.append({"field": target.name, "reason": f"{text!r} is not a number"})
            else:
                if not target.min <= label <= target.max:
                    problems.append({"field": target.name,
                                     "reason": f"{label:g} is not between {target.min:g} and {target.max:g}"})
        if problems:
            rejected.append({ID: raw[ID], "line": raw["line"], "errors": json.dumps(problems)})
            continue
        typed = {c: getattr(parsed, c) for c in ds.features}
        (good if label is not None else unlabelled).append({ID: raw[ID], **typed, target.name: label})

    def frame(records: list[dict], schema: pa.Schema) -> pd.DataFrame:
        return pd.DataFrame.from_records(records, columns=schema.names).sort_values(ID, ignore_index=True)

    schema = silver_schema(ds)
    duplicates = len(ordered) - len(deduplicated)
    return frame(good, schema), frame(unlabelled, schema), frame(rejected, REJECTED_SCHEMA), duplicates


def run_prep(lake_root: str | Path | None = None, *, source: Path | None | bool = True,
             storage_options: dict[str, str] | None = None, dataset: Dataset | None = None) -> PrepReport:
    """`source` seeds bronze with a file (True: the declaration's source file, None: none); landed feeds and
    captured events are always ingested (ml/carprice/ingest.py)."""
    ds = dataset or active()
    lake = Lake.at(lake_root, storage_options)
    seed = ds.source_path if source is True else source or None
    source_rows, inserted = ingest_bronze(lake, seed, dataset=ds) if seed is not None else (0, 0)
    landed = ingest_landed(lake, lambda rows: write_bronze(lake, rows, dataset=ds))
    source_rows, inserted = source_rows + landed.records, inserted + landed.inserted
    if not lake.exists("bronze", ds.table):
        raise FileNotFoundError(f"bronze has no {ds.table} table and nothing landed under {lake.root}: "
                                "land a dealer feed or capture events first")
    bronze = lake.read("bronze", ds.table)
    silver, unlabelled, rejected, duplicates = clean(bronze, ds)
    schema = silver_schema(ds)
    lake.overwrite("silver", ds.table, silver, schema)
    lake.overwrite("silver", f"{ds.table}_unlabelled", unlabelled, schema)
    lake.overwrite("silver", f"{ds.table}_rejected", rejected, REJECTED_SCHEMA)
    if silver.empty:
        key, message = explain_empty(ds, seed, len(unlabelled), rejected)
        raise NothingToTrainOn(message, key)
    gold = silver[list(schema.names)]
    lake.overwrite("gold", ds.gold_table, gold, schema)
    return PrepReport(source_rows, inserted, len(bronze), duplicates, len(unlabelled), len(rejected),
                      len(silver), len(gold), len(ds.features))


class NothingToTrainOn(DatasetError):
    """Prep set every row aside: the message names the declaration file, the key and what was expected."""


def explain_empty(dataset: Dataset, source: Path | None, unlabelled: int, rejected: pd.DataFrame
                  ) -> tuple[str, str]:
    """(key, message): why no row reached silver, in the declaration's terms: the key most rows failed on
    and what it expects."""
    where = Path(dataset.origin).name
    headers: list[str] = []
    if source is not None and source.is_file():
        with source.open(newline="") as handle:
            headers = [h.strip() for h in next(csv.reader(handle), [])]
    shown = f" (the file's headers: {', '.join(headers[:12])}{', ...' if len(headers) > 12 else ''})" if headers else ""
    target = dataset.target
    header = target.source or target.name
    if (headers and header not in headers) or unlabelled >= len(rejected):
        key = "target.source" if target.source or (headers and header not in headers) else "target.name"
        return key, (f"{where}: {key}: prep set every row aside: {unlabelled} rows without a target value, "
                     f"{len(rejected)} rejected; expected a column {header!r} in the source{shown}")
    counts: dict[str, list[str]] = {}
    for text in rejected["errors"]:
        for problem in json.loads(text):
            counts.setdefault(problem["field"], []).append(problem["reason"])
    name, reasons = max(counts.items(), key=lambda item: len(item[1]))
    column = dataset.by_name.get(name)
    if column is None:
        key, expected = "target", f"a number from {target.min:g} to {target.max:g} under {target.source or name!r}"
    else:
        key = f"columns.{name}"
        expected = (f"one of {', '.join(column.values[:8])}" if column.is_category
                    else f"a {column.type}" + (f" from {column.minimum:g} to {column.maximum:g}"
                                              if column.minimum is not None else ""))
        if column.one_hot:
            expected += f", from one-hot columns {', '.join(column.one_hot.values())}"
        elif headers and not set(column.spellings()) & set(headers):
            key, expected = f"columns.{name}.source", f"a column {column.source!r} in the source; {expected}"
    return key, (f"{where}: {key}: prep set every row aside: {len(rejected)} rejected, {len(reasons)} of them "
                 f"for {name} ({reasons[0]}); expected {expected}{shown}")


def load_gold(lake_root: str | Path | None = None, storage_options: dict[str, str] | None = None,
              dataset: Dataset | None = None) -> pd.DataFrame:
    return Lake.at(lake_root, storage_options).read("gold", (dataset or active()).gold_table)
