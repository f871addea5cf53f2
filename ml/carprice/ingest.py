"""Landed files -> bronze: dealer feeds (CSV or JSON, copied by Data Factory) and Event Hubs Capture Avro.

Both land as plain files in the bronze filesystem (contract.LAKE_FEEDS_FOLDER, LAKE_CAPTURE_FOLDER).
Each file is read once: the `ingested_files` table records its path, size, modification time and
SHA-256, so a re-run skips it without reading it, and the same content landed again under another
path (a replayed copy) is recognised by its hash and adds nothing. The prep engine (ml/carprice/engines/)
lists, hashes and parses the files and inserts their rows into bronze (only rows it has not seen); this
module decides which files to parse and records them, after their rows, so a run that dies in between
reads the file again next time and inserts nothing twice.

A record that cannot become a row at all (an event body that is not a JSON object, a feed that is
not CSV or JSON) is kept in `ingest_rejected` with the reason; rows with bad values go on to prep's
validation and its rejection table like every other row.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import fastavro
import pandas as pd
import pyarrow as pa
from pyarrow import fs as pafs

from contract import LAKE_CAPTURE_FOLDER, LAKE_FEEDS_FOLDER
from ml.carprice.lake import Lake

LAYER = "bronze"
FILES_TABLE = "ingested_files"
REJECTED_TABLE = "ingest_rejected"
FEED_SUFFIXES = (".csv", ".json", ".jsonl")
CAPTURE_SUFFIX = ".avro"

FILES_SCHEMA = pa.schema([
    ("entry_id", pa.string()), ("path", pa.string()), ("kind", pa.string()), ("size", pa.int64()),
    ("modified", pa.string()),
    ("sha256", pa.string()), ("records", pa.int64()), ("rejected", pa.int64()),
    ("duplicate_of", pa.string()), ("ingested_at", pa.timestamp("us", tz="UTC")),
])
REJECTED_SCHEMA = pa.schema([
    ("rejected_id", pa.string()), ("source", pa.string()), ("line", pa.int64()), ("reason", pa.string()),
    ("ingested_at", pa.timestamp("us", tz="UTC")),
])

@dataclass(frozen=True)
class IngestReport:
    files_seen: int
    files_read: int
    files_replayed: int  # same content as a file already ingested: nothing added
    records: int
    inserted: int
    rejected: int

    def line(self) -> str:
        return (f"landed files: {self.files_read} read, {self.files_seen - self.files_read} already ingested "
                f"({self.files_replayed} replays); {self.records} records, {self.inserted} new in bronze, "
                f"{self.rejected} unreadable")


@dataclass
class ParsedFile:
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)


# --- where landed files are -------------------------------------------------------------------------
def landing_area(lake: Lake) -> tuple[pafs.FileSystem, str]:
    """The filesystem and base path of the bronze layer: a folder, Azurite (`az://`, the local twin) or
    ADLS Gen2 (`abfss://bronze@<account>.dfs.core.windows.net`, the identity's DefaultAzureCredential)."""
    base = lake.uri(LAYER, "_").rsplit("/", 1)[0]
    if lake.is_local:
        return pafs.LocalFileSystem(), base
    parts = urlsplit(base)
    options = lake.storage_options
    if parts.scheme in ("abfs", "abfss") and "@" in parts.netloc:
        container, host = parts.netloc.split("@", 1)
        account = host.split(".", 1)[0]
    elif parts.scheme in ("az", "abfs", "abfss"):
        container, account = parts.netloc, options.get("account_name", "")
    else:
        raise ValueError(f"cannot list landed files under {base!r}: expected a folder, az:// or abfss:// URI")
    if not account:
        raise ValueError(f"cannot list landed files under {base!r}: the storage account name is unknown")
    kwargs: dict[str, str] = {}
    if options.get("account_key"):
        kwargs["account_key"] = options["account_key"]
    if options.get("client_id"):
        kwargs["client_id"] = options["client_id"]
    endpoint = options.get("azure_storage_endpoint")
    if endpoint:  # an emulator: blob API only, at host:port
        endpoint_parts = urlsplit(endpoint)
        kwargs |= {"blob_storage_authority": endpoint_parts.netloc, "blob_storage_scheme": endpoint_parts.scheme,
                   "dfs_storage_authority": endpoint_parts.netloc, "dfs_storage_scheme": endpoint_parts.scheme}
    return pafs.AzureFileSystem(account, **kwargs), f"{container}{parts.path}".rstrip("/")


def landed_files(filesystem: pafs.FileSystem, base: str) -> Iterator[tuple[str, str, pafs.FileInfo]]:
    """(kind, path relative to the layer, file info) of every landed feed and capture file."""
    for kind, folder, suffixes in (("feed", LAKE_FEEDS_FOLDER, FEED_SUFFIXES),
                                   ("capture", LAKE_CAPTURE_FOLDER, (CAPTURE_SUFFIX,))):
        root = f"{base}/{folder}"
        if filesystem.get_file_info(root).type != pafs.FileType.Directory:
            continue
        selector = pafs.FileSelector(root, recursive=True, allow_not_found=True)
        for info in sorted(filesystem.get_file_info(selector), key=lambda i: i.path):
            if info.type == pafs.FileType.File and info.path.lower().endswith(suffixes):
                yield kind, info.path[len(base) + 1:], info


# --- reading one file ---------------------------------------------------------------------------------
def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value).strip()


def _as_row(values: dict) -> dict[str, str]:
    return {str(k).strip().replace("-", "_"): _cell(v) for k, v in values.items() if k is not None}


def parse_feed(name: str, data: bytes) -> ParsedFile:
    """A dealer feed: CSV with a header row, a JSON array of objects, or JSON Lines."""
    parsed = ParsedFile()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        parsed.rejected.append((0, f"not UTF-8 text: {exc}"))
        return parsed
    if name.lower().endswith(".csv"):
        for line, values in enumerate(csv.DictReader(io.StringIO(text, newline="")), start=2):
            parsed.rows.append((line, _as_row(values)))
        return parsed
    numbered = _json_array(text, parsed) if text.lstrip().startswith("[") else _json_lines(text, parsed)
    for line, item in numbered:
        if isinstance(item, dict):
            parsed.rows.append((line, _as_row(item)))
        else:
            parsed.rejected.append((line, f"expected a JSON object, got {type(item).__name__}"))
    return parsed


def _json_array(text: str, parsed: ParsedFile) -> list[tuple[int, Any]]:
    """The items of a JSON array, numbered from 1 (none when the text is not JSON: the file is rejected)."""
    try:
        items = json.loads(text)
    except ValueError as exc:
        parsed.rejected.append((0, f"not valid JSON: {exc}"))
        return []
    return list(enumerate(items, start=1))


def _json_lines(text: str, parsed: ParsedFile) -> list[tuple[int, Any]]:
    """The values of JSON Lines, numbered by line; a line that is not JSON is rejected, blank lines skipped."""
    numbered = []
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            numbered.append((line, json.loads(raw)))
        except ValueError as exc:
            parsed.rejected.append((line, f"not valid JSON: {exc}"))
    return numbered


def parse_capture(data: bytes) -> ParsedFile:
    """An Event Hubs Capture file: Avro records whose Body holds one listing as JSON; a row is numbered
    by the event's SequenceNumber (unique within the partition, which the path names)."""
    parsed = ParsedFile()
    try:
        records = list(fastavro.reader(io.BytesIO(data)))
    except (ValueError, EOFError, fastavro.read.SchemaResolutionError) as exc:
        parsed.rejected.append((0, f"not an Avro capture file: {exc}"))
        return parsed
    for record in records:
        if not isinstance(record, dict):  # a Capture file's schema is a record: anything else is not Capture's
            parsed.rejected.append((0, f"not an Event Hubs Capture record: {type(record).__name__}"))
            continue
        sequence = int(record.get("SequenceNumber", 0))
        body = record.get("Body")
        try:
            item = json.loads(body) if body is not None else None
        except (UnicodeDecodeError, ValueError) as exc:
            parsed.rejected.append((sequence, f"event body is not valid JSON: {exc}"))
            continue
        if isinstance(item, dict):
            parsed.rows.append((sequence, _as_row(item)))
        else:
            parsed.rejected.append((sequence, f"event body: expected a JSON object, got {type(item).__name__}"))
    return parsed


# --- the run (shared by both prep engines: the engine lists, hashes and parses; this decides and records) ---
@dataclass(frozen=True)
class LandedFile:
    kind: str  # "feed" or "capture"
    path: str  # relative to the bronze layer
    size: int
    modified: str


@dataclass
class LandedPlan:
    """Which landed files to parse (`to_parse`) and the bookkeeping entry of every file read this run."""

    seen: int
    to_parse: list[LandedFile] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    replayed: int = 0


def plan_landed(listing: Sequence[LandedFile], known: pa.Table | None,
                digests: Callable[[list[LandedFile]], dict[str, str]], stamp: datetime) -> LandedPlan:
    """Skip files already ingested (same path, size and modification time) without reading them; of the rest,
    parse a file only when its content (SHA-256) was never ingested under another path."""
    by_path: dict[str, tuple[int, str]] = {}
    by_hash: dict[str, str] = {}
    if known is not None and known.num_rows:
        done = known.to_pandas().sort_values("ingested_at")
        by_path = {row.path: (int(row.size), row.modified) for row in done.itertuples()}
        for row in done.itertuples():
            by_hash.setdefault(row.sha256, row.path)
    plan = LandedPlan(seen=len(listing))
    new = [f for f in listing if by_path.get(f.path) != (f.size, f.modified)]
    hashes = digests(new) if new else {}
    for landed in new:
        digest = hashes[landed.path]
        entry = {
            # Keyed by path and content: a file rewritten in place is a new entry, a re-run adds none.
            "entry_id": hashlib.sha256(f"{landed.path}\x1f{digest}\x1f{landed.modified}".encode()).hexdigest()[:24],
            "path": landed.path, "kind": landed.kind, "size": landed.size, "modified": landed.modified,
            "sha256": digest, "records": 0, "rejected": 0, "duplicate_of": by_hash.get(digest),
            "ingested_at": pd.Timestamp(stamp),
        }
        if entry["duplicate_of"] is None:
            plan.to_parse.append(landed)
            by_hash[digest] = landed.path
        else:
            plan.replayed += 1
        plan.entries.append(entry)
        by_path[landed.path] = (landed.size, landed.modified)
    return plan


def landed_records(plan: LandedPlan, counts: dict[str, tuple[int, int]], rejected: Sequence[tuple[str, int, str]],
                   stamp: datetime) -> tuple[pa.Table, pa.Table]:
    """(ingest_rejected rows, ingested_files rows) of a run, from each parsed file's (records, unreadable)."""
    for entry in plan.entries:
        if entry["duplicate_of"] is None:
            records, unreadable = counts.get(entry["path"], (0, 0))
            entry |= {"records": records, "rejected": unreadable}
    reasons = [{"rejected_id": hashlib.sha256(f"{path}\x1f{line}".encode()).hexdigest()[:24],
                "source": path, "line": line, "reason": reason, "ingested_at": pd.Timestamp(stamp)}
               for path, line, reason in rejected]
    return (pa.Table.from_pylist(reasons, schema=REJECTED_SCHEMA),
            pa.Table.from_pylist(plan.entries, schema=FILES_SCHEMA))


def read_landed(lake: Lake, files: Sequence[LandedFile]) -> Iterator[tuple[LandedFile, bytes]]:
    """Each landed file's content, read through the lake's filesystem (the single-node engine's reader)."""
    filesystem, base = landing_area(lake)
    for landed in files:
        with filesystem.open_input_stream(f"{base}/{landed.path}") as stream:
            yield landed, stream.read()


def list_landed(lake: Lake) -> list[LandedFile]:
    filesystem, base = landing_area(lake)
    return [LandedFile(kind, path, int(info.size or 0), info.mtime.isoformat() if info.mtime else "")
            for kind, path, info in landed_files(filesystem, base)]


def ingest_report(plan: LandedPlan, records: int, inserted: int, rejected: int) -> IngestReport:
    return IngestReport(plan.seen, len(plan.entries), plan.replayed, records, inserted, rejected)
