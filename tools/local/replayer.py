"""The local twin's listing stream: real listings from the data set, replayed as Event Hubs events at a
set rate, delivered in batches to the function app's own handler (functions.handlers.score_listings) and
written out the way Event Hubs Capture writes them (Avro under the lake's bronze capture/ folder), so
the market panel fills and prep ingests what the stream carried, with the code that runs in Azure.

Every round through the data set gets new listing ids, so the stream keeps adding listings; cars the
shared schema rejects (the data set has some) go to the dead-letter container, as they would in Azure.
A batch that fails (no model, the Cosmos emulator down) is delivered again on the next tick, as the
function's retry policy redelivers it, and on its last attempt the handler dead-letters what it cannot price.
"""

from __future__ import annotations

import csv
import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import azure.functions as func

from contract import STREAM_EVENT_HUB
from functions.function_app import MAX_RETRIES
from functions.handlers import Runtime, ScoreReport, score_listings
from ml.carprice.capture import CapturedEvent, capture_bytes, capture_path
from ml.carprice.listing import listing_body
from ml.carprice.prep import DEFAULT_SOURCE
from runtime.pricing import ModelUnavailable

log = logging.getLogger(__name__)
NAMESPACE = "local-twin"  # stands in for the Event Hubs namespace in capture paths
PARTITION = "0"

# (path relative to the bronze filesystem, file content) -> None
CaptureWriter = Callable[[str, bytes], None]


def dataset_listings(round_number: int) -> Iterator[tuple[str, dict[str, object]]]:
    """(listing id, listing as a producer sends it) for every row of the data set."""
    with DEFAULT_SOURCE.open(newline="") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            values: dict[str, object] = {}
            for key, text in row.items():
                if text in ("", "?"):
                    continue
                name = key.replace("-", "_")
                try:
                    values[name] = int(text) if name == "symboling" else float(text)
                except ValueError:
                    values[name] = text
            yield f"uci-{line}-r{round_number}", values


@dataclass
class Replayer:
    runtime: Runtime
    capture: CaptureWriter
    rate: float = 2.0  # events per second
    batch_seconds: float = 2.0  # how often a batch is delivered (the trigger's wait time, scaled down)
    capture_seconds: float = 60.0  # one capture file per window, as Capture's time window
    sent: int = 0
    scored: int = 0
    dead_lettered: int = 0
    _sequence: Iterator[int] = field(default_factory=itertools.count, repr=False)
    _source: Iterator[tuple[str, dict[str, object]]] = field(init=False, repr=False)
    _window: list[CapturedEvent] = field(default_factory=list, repr=False)
    _window_start: datetime | None = field(default=None, repr=False)
    _failed: list[func.EventHubEvent] = field(default_factory=list, repr=False)  # the batch to deliver again
    _retries: int = field(default=0, repr=False)

    def __post_init__(self) -> None:
        rounds = itertools.count(1)
        self._source = itertools.chain.from_iterable(dataset_listings(r) for r in rounds)

    def next_events(self, count: int, now: datetime | None = None) -> list[func.EventHubEvent]:
        enqueued = now or datetime.now(UTC)
        events = []
        for _ in range(count):
            listing_id, listing = next(self._source)
            sequence = next(self._sequence)
            events.append(func.EventHubEvent(body=listing_body(listing_id, listing), sequence_number=sequence,
                                             offset=str(sequence), enqueued_time=enqueued, partition_key=None))
        self.sent += count
        return events

    def captured(self, events: list[func.EventHubEvent], *, flush: bool = False) -> None:
        """Add events to the current capture window; write the window's file when it closes."""
        now = datetime.now(UTC)
        if self._window_start is None:
            self._window_start = now
        self._window += [CapturedEvent(e.sequence_number or 0, e.offset or "", e.enqueued_time or now, e.get_body())
                         for e in events]
        if self._window and (flush or (now - self._window_start).total_seconds() >= self.capture_seconds):
            self.capture(capture_path(NAMESPACE, STREAM_EVENT_HUB, PARTITION, self._window_start),
                         capture_bytes(self._window))
            self._window, self._window_start = [], None

    def capture_only(self, count: int) -> None:
        """Events that arrived while nothing was scoring: they reach the lake through Capture only."""
        self.captured(self.next_events(count), flush=True)

    def deliver(self, count: int) -> ScoreReport | None:
        """One batch: new events are captured as they arrive (Capture does not wait for scoring), then scored
        by the function's handler. A batch that failed goes again, before any new event, until its last
        attempt (the function app's MAX_RETRIES), on which the handler dead-letters what it cannot price."""
        events = self._failed
        if not events:
            events = self.next_events(count)
            self.captured(events)
        final = self._retries >= MAX_RETRIES
        try:
            report = score_listings(events, self.runtime, final_attempt=final)
        except Exception as exc:  # no model, or the Cosmos emulator down: the same batch goes again next tick
            if final:  # as the Functions runtime does once its retries are spent; Capture already has the events
                log.exception("replayer: a batch failed %d retries; it reaches the lake only", MAX_RETRIES)
                self._failed, self._retries = [], 0
                return None
            self._failed, self._retries = events, self._retries + 1
            if isinstance(exc, ModelUnavailable):
                log.warning("replayer: %s; the batch goes again (retry %d of %d)", exc, self._retries, MAX_RETRIES)
            else:
                log.exception("replayer: batch failed; it goes again (retry %d of %d)", self._retries, MAX_RETRIES)
            return None
        self._failed, self._retries = [], 0
        self.scored += report.scored
        self.dead_lettered += report.dead_lettered
        return report

    def run(self, stop: threading.Event) -> None:
        """Deliver at `rate` until `stop` is set; a failed batch is logged and delivered again."""
        owed = 0.0
        while not stop.wait(self.batch_seconds):
            owed += self.rate * self.batch_seconds
            count, owed = int(owed), owed - int(owed)
            if count or self._failed:
                self.deliver(count)
        self.captured([], flush=True)

    def start(self) -> tuple[threading.Thread, threading.Event]:
        stop = threading.Event()
        thread = threading.Thread(target=self.run, args=(stop,), name="listing-replayer", daemon=True)
        thread.start()
        return thread, stop

