"""The single-node prep engine: Arrow in one process, Delta tables through delta-rs (ml/carprice/lake.py)."""

from __future__ import annotations

import hashlib
from datetime import datetime

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ml.carprice import rows
from ml.carprice.dataset import Dataset
from ml.carprice.engines.base import Ingested, Refined
from ml.carprice.ingest import LandedFile, list_landed, read_landed
from ml.carprice.lake import Lake

FILES_PER_BATCH = 64  # landed files parsed per Arrow batch: bounds memory, not the result


class LocalEngine:
    name = "local"

    def list_landed(self, lake: Lake) -> list[LandedFile]:
        return list_landed(lake)

    def digests(self, lake: Lake, files: list[LandedFile]) -> dict[str, str]:
        return {landed.path: hashlib.sha256(data).hexdigest() for landed, data in read_landed(lake, files)}

    def exists(self, lake: Lake, layer: str, table: str) -> bool:
        return lake.exists(layer, table)

    def read_small(self, lake: Lake, layer: str, table: str) -> pa.Table | None:
        return lake.read_arrow(layer, table) if lake.exists(layer, table) else None

    def append_small(self, lake: Lake, layer: str, table: str, data: pa.Table, key: str) -> int:
        return lake.append_new(layer, table, data, data.schema, key=key) if data.num_rows else 0

    def ingest(self, lake: Lake, dataset: Dataset, files: list[LandedFile], seed: pa.Table | None,
               stamp: datetime) -> Ingested:
        parts = [seed] if seed is not None else []
        for start in range(0, len(files), FILES_PER_BATCH):
            read = list(read_landed(lake, files[start:start + FILES_PER_BATCH]))
            batch = pa.Table.from_pydict({"path": [f.path for f, _ in read], "kind": [f.kind for f, _ in read],
                                          "content": [data for _, data in read]}, schema=rows.FILES_SCHEMA)
            parts.append(rows.parse_files(batch, dataset, stamp))
        if not parts:
            return Ingested(0, {}, [])
        landed = pa.concat_tables(parts)
        is_row = pc.is_null(landed.column(rows.REASON))
        bronze = landed.filter(is_row).drop_columns([rows.REASON])
        schema = rows.bronze_schema(dataset)
        inserted = lake.append_new("bronze", dataset.table, bronze, schema, key="bronze_id") if bronze.num_rows else 0
        counts = landed.group_by("source").aggregate([("line", "count"), (rows.REASON, "count")])
        per_file = {source: (records, unreadable) for source, records, unreadable in zip(
            *(counts.column(n).to_pylist() for n in ("source", "line_count", f"{rows.REASON}_count")), strict=True)}
        bad = landed.filter(pc.invert(is_row))
        unreadable = list(zip(*(bad.column(n).to_pylist() for n in ("source", "line", rows.REASON)), strict=True))
        return Ingested(inserted, per_file, unreadable)

    def refine(self, lake: Lake, dataset: Dataset) -> Refined:
        bronze = lake.read_arrow("bronze", dataset.table)
        # First sighting of each row id (by source, line) is the one kept.
        ordered = bronze.sort_by([("source", "ascending"), ("line", "ascending"), ("bronze_id", "ascending")])
        first = ~pd.Series(ordered.column(rows.ID).to_numpy(zero_copy_only=False)).duplicated().to_numpy()
        deduplicated = ordered.filter(pa.array(first))
        silver, unlabelled, rejected = rows.split_validated(rows.validate(deduplicated, dataset), dataset)
        write(lake, dataset, silver, unlabelled, rejected)
        return Refined(bronze.num_rows, bronze.num_rows - deduplicated.num_rows, silver.num_rows,
                       unlabelled.num_rows, rejected.num_rows)


def write(lake: Lake, dataset: Dataset, silver: pa.Table, unlabelled: pa.Table, rejected: pa.Table) -> None:
    """Silver, its set-asides and gold, each written only when its content changed."""
    schema = rows.silver_schema(dataset)
    lake.overwrite("silver", dataset.table, silver, schema)
    lake.overwrite("silver", f"{dataset.table}_unlabelled", unlabelled, schema)
    lake.overwrite("silver", f"{dataset.table}_rejected", rejected, rows.REJECTED_SCHEMA)
    lake.overwrite("gold", dataset.gold_table, silver, schema)
