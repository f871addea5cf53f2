"""Where the medallion tables live: a local folder by default, an `abfss://` URI on the Data Lake, or
Azurite in tests — one code path, because delta-rs speaks all three given the right storage options.

A lake root is either a plain folder/URI (tables at `<root>/<layer>/<table>`) or a URI template with a
`{layer}` placeholder, because on Azure each layer is its own ADLS Gen2 filesystem:
`abfss://{layer}@<account>.dfs.core.windows.net` puts bronze tables in the `bronze` filesystem.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
from deltalake import DeltaTable, write_deltalake
from deltalake.exceptions import TableNotFoundError

from contract import LAKE_LAYERS

ML_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LAKE_ROOT = ML_ROOT / "outputs" / "lake"
# Env var read by the Azure ML prep component and `make train` to point at a non-default lake.
LAKE_ROOT_ENV = "CARPRICE_LAKE_ROOT"


@dataclass(frozen=True)
class Lake:
    root: str
    storage_options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def at(cls, root: str | Path | None = None, storage_options: dict[str, str] | None = None) -> Lake:
        chosen = root if root is not None else os.environ.get(LAKE_ROOT_ENV) or DEFAULT_LAKE_ROOT
        text = str(chosen)
        if "://" not in text:
            text = str(Path(text).resolve())
        return cls(text, dict(storage_options or {}))

    @property
    def is_local(self) -> bool:
        return "://" not in self.root

    def uri(self, layer: str, table: str) -> str:
        if layer not in LAKE_LAYERS:
            raise ValueError(f"unknown lake layer {layer!r}; layers are {', '.join(LAKE_LAYERS)}")
        if "{layer}" in self.root:
            return f"{self.root.format(layer=layer).rstrip('/')}/{table}"
        return f"{self.root.rstrip('/')}/{layer}/{table}"

    def exists(self, layer: str, table: str) -> bool:
        try:
            DeltaTable(self.uri(layer, table), storage_options=self.storage_options or None)
        except TableNotFoundError:
            return False
        return True

    def read(self, layer: str, table: str) -> pd.DataFrame:
        return self.read_arrow(layer, table).to_pandas()

    def read_arrow(self, layer: str, table: str) -> pa.Table:
        return DeltaTable(self.uri(layer, table), storage_options=self.storage_options or None).to_pyarrow_table()

    def version(self, layer: str, table: str) -> int:
        return DeltaTable(self.uri(layer, table), storage_options=self.storage_options or None).version()

    def overwrite(self, layer: str, table: str, frame: pd.DataFrame | pa.Table, schema: pa.Schema) -> bool:
        """Replace the table's content; skip the write when it already holds exactly this content,
        so a re-run of prep adds no table versions."""
        data = _as_arrow(frame, schema)
        if self.exists(layer, table):
            current = DeltaTable(self.uri(layer, table), storage_options=self.storage_options or None)
            if current.to_pyarrow_table().cast(schema).equals(data):
                return False
        write_deltalake(
            self.uri(layer, table), data, mode="overwrite", schema_mode="overwrite",
            storage_options=self.storage_options or None,
        )
        return True

    def append_new(self, layer: str, table: str, frame: pd.DataFrame | pa.Table, schema: pa.Schema, key: str) -> int:
        """Insert only the rows whose `key` the table does not hold yet (idempotent ingestion)."""
        data = _as_arrow(frame, schema)
        uri = self.uri(layer, table)
        if not self.exists(layer, table):
            write_deltalake(uri, data, mode="overwrite", storage_options=self.storage_options or None)
            return data.num_rows
        table_ = DeltaTable(uri, storage_options=self.storage_options or None)
        metrics = (
            table_.merge(source=data, predicate=f"t.{key} = s.{key}", source_alias="s", target_alias="t")
            .when_not_matched_insert_all()
            .execute()
        )
        return int(metrics.get("num_target_rows_inserted", 0))


def _as_arrow(frame: pd.DataFrame | pa.Table, schema: pa.Schema) -> pa.Table:
    if isinstance(frame, pa.Table):
        return frame.select(schema.names).cast(schema)
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
