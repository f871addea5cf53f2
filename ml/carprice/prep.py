"""Medallion data prep: the declared data set's source file, landed feeds and captured events -> bronze (as
ingested) -> silver (typed, validated with the same row model the API uses) -> gold (features + target).
Table and column names come from the declaration (ml/carprice/dataset.py); every function takes `dataset`,
defaulting to the selected one.

Re-running with the same input changes nothing: bronze inserts only rows it has not seen (keyed by
source and line content), silver and gold are recomputed from bronze and written only when different.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from ml.carprice import engines, ingest
from ml.carprice.dataset import Dataset, DatasetError, active
from ml.carprice.lake import Lake
from ml.carprice.rows import ID, REJECTED_SCHEMA, bronze_rows, bronze_schema, columns, silver_schema

__all__ = ["BRONZE_SCHEMA", "DEFAULT_SOURCE", "GOLD_SCHEMA", "GOLD_TABLE", "ID", "REJECTED_SCHEMA", "REJECTED_TABLE",
           "SILVER_SCHEMA", "TABLE", "UNPRICED_TABLE", "PrepReport", "columns", "load_gold", "read_source",
           "run_prep"]

# The selected data set's tables (each function below takes another `dataset` too).
TABLE = active().table
REJECTED_TABLE = f"{TABLE}_rejected"
UNPRICED_TABLE = f"{TABLE}_unlabelled"
GOLD_TABLE = active().gold_table
DEFAULT_SOURCE = active().source_path
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


def run_prep(lake_root: str | Path | None = None, *, source: Path | None | bool = True,
             storage_options: dict[str, str] | None = None, dataset: Dataset | None = None,
             engine: engines.Engine | str | None = None, now: datetime | None = None) -> PrepReport:
    """`source` seeds bronze with a file (True: the declaration's source file, None: none); landed feeds and
    captured events are always ingested (ml/carprice/ingest.py). `engine` runs the set-level steps (default:
    `CARPRICE_PREP_ENGINE`, else the single-node engine); the row logic is the same on every engine."""
    ds = dataset or active()
    lake = Lake.at(lake_root, storage_options)
    run = engine if engine is not None and not isinstance(engine, str) else engines.configured(engine)
    stamp = now or datetime.now(UTC)
    seed_path = ds.source_path if source is True else source or None
    seed = None
    seed_rows = 0
    if seed_path is not None:
        values = read_source(seed_path, ds)
        seed_rows = len(values)
        # Line 1 is the header.
        seed = bronze_rows(((seed_path.name, line, v) for line, v in enumerate(values, start=2)), ds, stamp)
    plan = ingest.plan_landed(run.list_landed(lake), run.read_small(lake, ingest.LAYER, ingest.FILES_TABLE),
                              lambda files: run.digests(lake, files), stamp)
    got = run.ingest(lake, ds, plan.to_parse, seed, stamp)
    # Rows first, bookkeeping last: a run that dies in between reads the files again and inserts nothing twice.
    unreadable, entries = ingest.landed_records(plan, got.per_file, got.unreadable, stamp)
    run.append_small(lake, ingest.LAYER, ingest.REJECTED_TABLE, unreadable, "rejected_id")
    run.append_small(lake, ingest.LAYER, ingest.FILES_TABLE, entries, "entry_id")
    landed_rows = sum(got.per_file.get(f.path, (0, 0))[0] for f in plan.to_parse)
    if not run.exists(lake, "bronze", ds.table):
        raise FileNotFoundError(f"bronze has no {ds.table} table and nothing landed under {lake.root}: "
                                "land a dealer feed or capture events first")
    refined = run.refine(lake, ds)
    if refined.silver_rows == 0:
        key, message = explain_empty(ds, seed_path, refined.unlabelled, lake.read("silver", f"{ds.table}_rejected"))
        raise NothingToTrainOn(message, key)
    return PrepReport(seed_rows + landed_rows, got.inserted, refined.bronze_rows, refined.duplicates,
                      refined.unlabelled, refined.rejected, refined.silver_rows, refined.silver_rows,
                      len(ds.features))


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
