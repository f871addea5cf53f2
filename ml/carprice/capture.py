"""Event Hubs Capture's file format, for the local twin (which has no Event Hubs to capture its replayed
listings) and for tests: the same Avro record schema and archive path layout Capture writes in Azure,
so bronze ingest (ml/carprice/ingest.py) reads the twin's files and Azure's with one code path.

Record schema: Microsoft.ServiceBus.Messaging.EventData (SequenceNumber, Offset, EnqueuedTimeUtc,
SystemProperties, Properties, Body) as documented for Event Hubs Capture.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import fastavro

from contract import CAPTURE_ARCHIVE_NAME_FORMAT

CAPTURE_SCHEMA = fastavro.parse_schema({
    "type": "record", "name": "EventData", "namespace": "Microsoft.ServiceBus.Messaging",
    "fields": [
        {"name": "SequenceNumber", "type": "long"},
        {"name": "Offset", "type": "string"},
        {"name": "EnqueuedTimeUtc", "type": "string"},
        {"name": "SystemProperties", "type": {"type": "map", "values": ["long", "double", "string", "bytes"]}},
        {"name": "Properties", "type": {"type": "map", "values": ["long", "double", "string", "bytes", "null"]}},
        {"name": "Body", "type": ["null", "bytes"]},
    ],
})


@dataclass(frozen=True)
class CapturedEvent:
    sequence_number: int
    offset: str
    enqueued_time: datetime
    body: bytes | None
    properties: dict[str, str] = field(default_factory=dict)


def capture_bytes(events: Sequence[CapturedEvent]) -> bytes:
    """One capture file (Avro object container, deflate like Capture's) holding `events`."""
    records = [{
        "SequenceNumber": e.sequence_number, "Offset": e.offset,
        # Capture writes times as .NET's invariant culture does: "M/d/yyyy h:mm:ss tt".
        "EnqueuedTimeUtc": e.enqueued_time.strftime("%-m/%-d/%Y %-I:%M:%S %p"),
        "SystemProperties": {}, "Properties": dict(e.properties), "Body": e.body,
    } for e in events]
    out = io.BytesIO()
    fastavro.writer(out, CAPTURE_SCHEMA, records, codec="deflate")
    return out.getvalue()


def capture_path(namespace: str, event_hub: str, partition_id: str, window_start: datetime) -> str:
    """Where Capture puts a window's file, relative to the bronze filesystem (contract's format + .avro)."""
    return CAPTURE_ARCHIVE_NAME_FORMAT.format(
        Namespace=namespace, EventHub=event_hub, PartitionId=partition_id, Year=f"{window_start.year:04d}",
        Month=f"{window_start.month:02d}", Day=f"{window_start.day:02d}", Hour=f"{window_start.hour:02d}",
        Minute=f"{window_start.minute:02d}", Second=f"{window_start.second:02d}",
    ) + ".avro"
