"""The row logic of medallion prep, as functions over a batch of rows (Arrow in, Arrow out).

Both prep engines call exactly these functions: the single-node engine on the whole input in-process, the
Spark engine on each Arrow batch of a partition (`mapInArrow`). Parsing landed files, mapping a row's values to
the declared columns, its ids, and validating it against the row model the API uses are therefore the same
Python on both, and only the set-level steps (dedup, insert-if-new, recompute) differ per engine.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

import pyarrow as pa

from ml.carprice.dataset import Dataset
from ml.carprice.ids import row_id
from ml.carprice.ingest import parse_capture, parse_feed

ID = "car_id"  # the row id column in every layer (a hash of the declared id columns)
REASON = "reason"  # set on a landed record that could not become a row at all
STATUS = "status"  # a validated row is GOOD (has a target), UNLABELLED (no target) or REJECTED
GOOD, UNLABELLED, REJECTED = "good", "unlabelled", "rejected"
REJECTED_SCHEMA = pa.schema([(ID, pa.string()), ("line", pa.int64()), ("errors", pa.string())])
# What a landed file's content becomes: its path, kind and the bytes (Spark's binaryFile rows carry the same).
FILES_SCHEMA = pa.schema([("path", pa.string()), ("kind", pa.string()), ("content", pa.binary())])


def columns(dataset: Dataset) -> tuple[str, ...]:
    return (*dataset.features, dataset.target.name)


def bronze_schema(dataset: Dataset) -> pa.Schema:
    return pa.schema(
        [("bronze_id", pa.string()), (ID, pa.string()), ("source", pa.string()), ("line", pa.int64()),
         ("ingested_at", pa.timestamp("us", tz="UTC"))]
        + [(c, pa.string()) for c in columns(dataset)]
    )


def landed_schema(dataset: Dataset) -> pa.Schema:
    """Bronze rows plus `reason`: a record that could not become a row has only source, line and reason."""
    return bronze_schema(dataset).append(pa.field(REASON, pa.string()))


def _typed_field(dataset: Dataset, name: str) -> pa.Field:
    column = dataset.by_name.get(name)
    if column is None:
        return pa.field(name, pa.float64())  # the target
    kind = {"category": pa.string(), "integer": pa.int64(), "boolean": pa.bool_()}.get(column.type, pa.float64())
    return pa.field(name, kind)


def silver_schema(dataset: Dataset) -> pa.Schema:
    return pa.schema([pa.field(ID, pa.string()), *(_typed_field(dataset, c) for c in columns(dataset))])


def validated_schema(dataset: Dataset) -> pa.Schema:
    """A validated row: silver's columns plus where it came from, its status and (when rejected) the errors."""
    return silver_schema(dataset).insert(1, pa.field("line", pa.int64())).append(
        pa.field(STATUS, pa.string())).append(pa.field("errors", pa.string()))


# --- landed rows -> bronze rows ----------------------------------------------------------------------------
def bronze_rows(rows: Iterable[tuple[str, int, dict[str, str]]], dataset: Dataset, ingested_at: datetime,
                reasons: Iterable[tuple[str, int, str]] = ()) -> pa.Table:
    """(source, line, values) rows as bronze rows; a value is found under the column's name or its source
    header (feeds may spell it either way). `reasons` are (source, line, reason) records that are not rows."""
    ds = dataset
    names = columns(ds)
    out: dict[str, list[Any]] = {name: [] for name in ("bronze_id", ID, "source", "line", *names, REASON)}
    for source, line, values in rows:
        record = ds.source_values(values)  # source headers, the target's too, and one-hot columns
        rid = row_id(record, ds.id_columns)
        out["bronze_id"].append(hashlib.sha256(f"{source}\x1f{line}\x1f{rid}".encode()).hexdigest()[:24])
        out[ID].append(rid)
        out["source"].append(source)
        out["line"].append(line)
        for c in names:
            out[c].append(record[c])
        out[REASON].append(None)
    for source, line, reason in reasons:
        for name in ("bronze_id", ID, *names):
            out[name].append(None)
        out["source"].append(source)
        out["line"].append(line)
        out[REASON].append(reason)
    count = len(out["source"])
    stamp = pa.array([ingested_at] * count, pa.timestamp("us", tz="UTC"))
    return pa.Table.from_pydict({**out, "ingested_at": stamp}, schema=landed_schema(ds))


def parse_files(files: pa.RecordBatch | pa.Table, dataset: Dataset, ingested_at: datetime) -> pa.Table:
    """Landed files (`FILES_SCHEMA`: path relative to the bronze layer, kind, content) as bronze rows and
    unreadable records (`landed_schema`), numbered by line (feeds) or sequence number (capture)."""
    rows: list[tuple[str, int, dict[str, str]]] = []
    reasons: list[tuple[str, int, str]] = []
    for path, kind, content in zip(*(files.column(n).to_pylist() for n in ("path", "kind", "content")), strict=True):
        parsed = parse_capture(content) if kind == "capture" else parse_feed(PurePosixPath(path).name, content)
        rows.extend((path, line, values) for line, values in parsed.rows)
        reasons.extend((path, line, reason) for line, reason in parsed.rejected)
    return bronze_rows(rows, dataset, ingested_at, reasons)


# --- bronze rows -> validated rows -------------------------------------------------------------------------
def validate(bronze: pa.RecordBatch | pa.Table, dataset: Dataset) -> pa.Table:
    """Each (deduplicated) bronze row checked with the same row model the API uses: missing optional values
    stay null (the model imputes them); a row that fails is REJECTED with the reasons, so every row trained on
    is a row the API accepts; a valid row without a target is UNLABELLED."""
    ds = dataset
    target = ds.target
    missing = ds.spec.source.missing
    schema = validated_schema(ds)
    out: dict[str, list[Any]] = {name: [] for name in schema.names}
    features = ds.features
    for raw in bronze.select([ID, "line", *columns(ds)]).to_pylist():
        present = {c: raw[c] for c in features if raw[c] not in missing}
        parsed = ds.parse_row({c: ds.typed_value(c, v) for c, v in present.items()})
        problems = [e.model_dump() for e in parsed] if isinstance(parsed, list) else []
        label: float | None = None
        text = raw[target.name]
        if text not in missing:
            try:
                label = float(text)
            except ValueError:
                problems.append({"field": target.name, "reason": f"{text!r} is not a number"})
            else:
                if not target.min <= label <= target.max:
                    problems.append({"field": target.name,
                                     "reason": f"{label:g} is not between {target.min:g} and {target.max:g}"})
        out[ID].append(raw[ID])
        out["line"].append(raw["line"])
        if problems:
            for c in features:
                out[c].append(None)
            out[target.name].append(None)
            out[STATUS].append(REJECTED)
            out["errors"].append(json.dumps(problems))
            continue
        values = parsed.__dict__  # the validated row model's field values
        for c in features:
            out[c].append(values[c])
        out[target.name].append(label)
        out[STATUS].append(GOOD if label is not None else UNLABELLED)
        out["errors"].append(None)
    return pa.Table.from_pydict(out, schema=schema)


def split_validated(validated: pa.Table, dataset: Dataset) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(silver, unlabelled, rejected) of a validated table, each sorted by id (a stable table content)."""
    import pyarrow.compute as pc

    status = validated.column(STATUS)
    silver_names = silver_schema(dataset).names

    def part(value: str, names: list[str]) -> pa.Table:
        return validated.filter(pc.equal(status, value)).select(names).sort_by(ID)

    return (part(GOOD, silver_names), part(UNLABELLED, silver_names),
            part(REJECTED, REJECTED_SCHEMA.names))


def checksum(table: pa.Table) -> str:
    """An order-independent checksum of a table's rows: the sum of each row's SHA-256 (mod 2**128) with the
    row count, so two engines' outputs compare without sorting."""
    total = 0
    for row in table.select(sorted(table.column_names)).to_pylist():
        text = json.dumps(row, sort_keys=True, default=repr, allow_nan=True)
        total = (total + int.from_bytes(hashlib.sha256(text.encode()).digest()[:16], "big")) % 2**128
    return f"{table.num_rows}:{total:032x}"
