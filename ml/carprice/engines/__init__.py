"""Prep engines: the set-level steps of medallion prep, once per engine, side by side.

Every engine runs the same row logic (ml/carprice/rows.py) and differs only in how it lists and reads
landed files, deduplicates, inserts new bronze rows and recomputes silver and gold:

- `local` (ml/carprice/engines/local.py): Arrow and delta-rs in one process; the default, what the local
  twin, `make train` and the unit tests run.
- `spark` (ml/carprice/engines/spark.py): Apache Spark, the row logic through Arrow batches (`mapInArrow`);
  what the Databricks prep job runs.

The engine is chosen by `CARPRICE_PREP_ENGINE` (the environment's `prep.engine`, or `make train
PREP_ENGINE=spark`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pyarrow as pa

from ml.carprice.dataset import Dataset
from ml.carprice.ingest import LandedFile
from ml.carprice.lake import Lake

ENGINE_ENV = "CARPRICE_PREP_ENGINE"
ENGINES = ("local", "spark")


@dataclass(frozen=True)
class Ingested:
    """What one engine's ingest step did: rows new in bronze, each parsed file's (records, unreadable),
    and the unreadable records as (source, line, reason)."""

    inserted: int
    per_file: dict[str, tuple[int, int]]
    unreadable: list[tuple[str, int, str]]


@dataclass(frozen=True)
class Refined:
    bronze_rows: int
    duplicates: int
    silver_rows: int
    unlabelled: int
    rejected: int


class Engine(Protocol):
    name: str

    def list_landed(self, lake: Lake) -> list[LandedFile]: ...

    def digests(self, lake: Lake, files: list[LandedFile]) -> dict[str, str]: ...

    def exists(self, lake: Lake, layer: str, table: str) -> bool: ...

    def read_small(self, lake: Lake, layer: str, table: str) -> pa.Table | None: ...

    def append_small(self, lake: Lake, layer: str, table: str, data: pa.Table, key: str) -> int: ...

    def ingest(self, lake: Lake, dataset: Dataset, files: list[LandedFile], seed: pa.Table | None,
               stamp: datetime) -> Ingested: ...

    def refine(self, lake: Lake, dataset: Dataset) -> Refined: ...


def configured(name: str | None = None) -> Engine:
    """The engine `name` (default: `CARPRICE_PREP_ENGINE`, else local); a clear error for an unknown name."""
    chosen = (name or os.environ.get(ENGINE_ENV) or "local").strip().lower()
    if chosen == "local":
        from ml.carprice.engines.local import LocalEngine

        return LocalEngine()
    if chosen == "spark":
        from ml.carprice.engines.spark import SparkEngine

        return SparkEngine.local_session()
    raise ValueError(f"{ENGINE_ENV}={chosen!r}: the prep engine must be one of {', '.join(ENGINES)}")
