"""What every prep engine returns and offers (the protocol `configured` hands out)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import pyarrow as pa

from ml.carprice.dataset import Dataset
from ml.carprice.ingest import LandedFile
from ml.carprice.lake import Lake


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
