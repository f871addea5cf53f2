"""Landed files -> bronze: dealer feeds (CSV or JSON, copied by Data Factory) and Event Hubs Capture Avro.

Both land as plain files in the bronze filesystem (contract.LAKE_FEEDS_FOLDER, LAKE_CAPTURE_FOLDER).
Each file is read once: the `ingested_files` table records its path, size, modification time and
SHA-256, so a re-run skips it without reading it, and the same content landed again under another
path (a replayed copy) is recognised by its hash and adds nothing. Rows go to the bronze table
through the writer prep passes in, which inserts only rows it has not seen; the file is recorded
after its rows, so a run that dies in between reads the file again next time and inserts nothing twice.

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
from datetime import UTC, datetime
from pathlib import PurePosixPath
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

# (source, line or sequence number, values) rows -> how many the bronze table did not hold yet
BronzeWriter = Callable[[Sequence[tuple[str, int, dict[str, str]]]], int]


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
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            items = json.loads(text)
        except ValueError as exc:
            parsed.rejected.append((0, f"not valid JSON: {exc}"))
            return parsed
        numbered = list(enumerate(items, start=1))
    else:
        numbered = []
        for line, raw in enumerate(text.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                numbered.append((line, json.loads(raw)))
            except ValueError as exc:
                parsed.rejected.append((line, f"not valid JSON: {exc}"))
    for line, item in numbered:
        if isinstance(item, dict):
            parsed.rows.append((line, _as_row(item)))
        else:
            parsed.rejected.append((line, f"expected a JSON object, got {type(item).__name__}"))
    return parsed


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


# --- the run ------------------------------------------------------------------------------------------
def _known_files(lake: Lake) -> tuple[dict[str, tuple[int, str]], dict[str, str]]:
    """(path -> (size, modified), sha256 -> first path) of every file already ingested."""
    if not lake.exists(LAYER, FILES_TABLE):
        return {}, {}
    done = lake.read(LAYER, FILES_TABLE).sort_values("ingested_at")
    by_path = {row.path: (int(row.size), row.modified) for row in done.itertuples()}
    by_hash: dict[str, str] = {}
    for row in done.itertuples():
        by_hash.setdefault(row.sha256, row.path)
    return by_path, by_hash


def _record(lake: Lake, rows: list[dict], layer_table: str, schema: pa.Schema, key: str) -> None:
    if rows:
        lake.append_new(LAYER, layer_table, pd.DataFrame.from_records(rows, columns=schema.names), schema, key=key)


def ingest_landed(lake: Lake, write_bronze: BronzeWriter, now: datetime | None = None) -> IngestReport:
    """Read every landed file not ingested yet into bronze; one bronze write and one bookkeeping write
    per run, however many files landed (Capture writes a file per partition every few minutes)."""
    filesystem, base = landing_area(lake)
    stamp = pd.Timestamp(now or datetime.now(UTC))
    by_path, by_hash = _known_files(lake)
    rows: list[tuple[str, int, dict[str, str]]] = []
    rejected: list[dict] = []
    entries: list[dict] = []
    seen = replayed = 0
    for kind, path, info in landed_files(filesystem, base):
        seen += 1
        modified = info.mtime.isoformat() if info.mtime else ""
        if by_path.get(path) == (int(info.size or 0), modified):
            continue
        with filesystem.open_input_stream(f"{base}/{path}") as stream:
            data = stream.read()
        digest = hashlib.sha256(data).hexdigest()
        entry = {
            # Keyed by path and content: a file rewritten in place is a new entry, a re-run adds none.
            "entry_id": hashlib.sha256(f"{path}\x1f{digest}\x1f{modified}".encode()).hexdigest()[:24],
            "path": path, "kind": kind, "size": len(data), "modified": modified, "sha256": digest,
            "records": 0, "rejected": 0, "duplicate_of": by_hash.get(digest), "ingested_at": stamp,
        }
        if entry["duplicate_of"] is None:
            parsed = parse_capture(data) if kind == "capture" else parse_feed(PurePosixPath(path).name, data)
            rows.extend((path, line, values) for line, values in parsed.rows)
            rejected.extend({"rejected_id": hashlib.sha256(f"{path}\x1f{line}".encode()).hexdigest()[:24],
                             "source": path, "line": line, "reason": reason, "ingested_at": stamp}
                            for line, reason in parsed.rejected)
            entry |= {"records": len(parsed.rows) + len(parsed.rejected), "rejected": len(parsed.rejected)}
            by_hash[digest] = path
        else:
            replayed += 1
        entries.append(entry)
        by_path[path] = (entry["size"], modified)
    # Rows first, bookkeeping last: a run that dies in between reads the files again and inserts nothing twice.
    inserted = write_bronze(rows) if rows else 0
    _record(lake, rejected, REJECTED_TABLE, REJECTED_SCHEMA, "rejected_id")
    _record(lake, entries, FILES_TABLE, FILES_SCHEMA, "entry_id")
    return IngestReport(seen, len(entries), replayed, len(rows) + len(rejected), inserted, len(rejected))
