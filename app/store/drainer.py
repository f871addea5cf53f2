"""Copies outbox records to Cosmos DB in the background: at start-up, whenever new ones are committed,
and on a timer with exponential backoff while Cosmos is unreachable. A record leaves the outbox only
after Cosmos has accepted it; upserts by id make a repeated copy harmless.

Serving comes first, and the drainer keeps up with whatever capacity serving leaves. Its signal is the
worker's serving load (ServingLoad: the share of recent time a price request was in flight). While the
worker is mostly busy pricing (a burst), the drainer trickles (a couple of records, then a pause that new
commits do not cut short), so the burst is served at full speed and its records wait durably in the outbox.
Otherwise, at any steady rate the worker serves with room to spare, it drains at full concurrency, a few
records at a time, looking between them whether the load has risen. Each Cosmos DB call holds the
interpreter for about a millisecond, so the step is kept small: a request waits behind one step, never
behind a whole batch. Users see their own records meanwhile through the instance's pending view
(app/store/pending_view.py).

On shutdown (gunicorn's SIGTERM runs the app's lifespan shutdown) the drainer flushes what is left, for up
to FLUSH_S, so a stopped worker's records reach Cosmos DB now rather than when another worker adopts its
outbox a lease period later."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from app.store.outbox import Outbox

log = logging.getLogger(__name__)


class ServingLoad:
    """The share of recent time this worker had a price request in flight: an exponential moving average
    with a time constant of TIME_CONSTANT_S (a burst shows within a few tens of milliseconds; a steady
    trickle of quick requests stays near zero). Written on the event loop, read from the drainer's thread:
    a read that races a write is off by one request at most."""

    TIME_CONSTANT_S = 0.05

    def __init__(self) -> None:
        self._in_flight = 0
        self._share = 0.0
        self._at = time.monotonic()

    def started(self) -> None:
        self._settle()
        self._in_flight += 1

    def finished(self) -> None:
        self._settle()
        self._in_flight -= 1

    def share(self) -> float:
        share, busy = self._decayed(time.monotonic())
        return share + busy

    def _decayed(self, now: float) -> tuple[float, float]:
        """(the average decayed to `now`, what the time since the last change adds to it)."""
        decay = math.exp(min(0.0, self._at - now) / self.TIME_CONSTANT_S)
        return self._share * decay, (1.0 - decay) if self._in_flight > 0 else 0.0

    def _settle(self) -> None:
        now = time.monotonic()
        share, busy = self._decayed(now)
        self._share, self._at = share + busy, now


class Drainer:
    PARALLEL = 4  # concurrent upserts per worker
    BUSY_SHARE = 0.5  # serving load at which the worker counts as busy serving
    TRICKLE_RECORDS = 2  # while serving: this many records ...
    # ... then this pause: about 8 records/s per worker. Only a saturated worker trickles, and each upsert costs it
    # a millisecond or two of interpreter time (and the store as much): 32/s cost a burst over a tenth of its rate.
    TRICKLE_PAUSE_S = 0.25
    FLUSH_S = 10.0  # on stop: within gunicorn's graceful_timeout (20 s), leaving time for the rest of shutdown

    def __init__(
        self,
        outbox: Outbox,
        upsert: Callable[[dict], object],
        *,
        batch_size: int = 256,
        parallel: int = PARALLEL,
        idle_seconds: float = 5.0,
        max_backoff_seconds: float = 30.0,
        load: ServingLoad | None = None,
    ) -> None:
        self.outbox = outbox
        self.load = load or ServingLoad()
        self._upsert = upsert
        self._batch_size = batch_size
        self._parallel = parallel
        self._pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="outbox-drain")
        self._idle = idle_seconds
        self._max_backoff = max_backoff_seconds
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="outbox-drainer", daemon=True)
        self.last_error: str | None = None
        self._backoff: float | None = None

    def start(self) -> Drainer:
        self._wake.set()  # drain whatever an earlier run left behind, straight away
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def committed(self) -> None:
        """A request has just committed a record: drain it, at the pace the serving load allows."""
        self._wake.set()

    def _serving(self) -> bool:
        return self.load.share() >= self.BUSY_SHARE

    def stop(self, flush_seconds: float | None = None) -> int:
        """Stop draining in the background, then copy what is left until the outbox is empty, Cosmos DB
        fails, or `flush_seconds` (default FLUSH_S) pass. Returns how many records are still waiting."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=15)
        deadline = time.monotonic() + (self.FLUSH_S if flush_seconds is None else flush_seconds)
        try:
            while time.monotonic() < deadline:
                stored, failed = self.drain_once()
                if failed or not stored:
                    break
        except Exception:  # the outbox file itself: what is left stays for the worker that adopts it
            log.exception("outbox flush on shutdown failed")
        finally:
            self._pool.shutdown(wait=True, cancel_futures=True)
        left = self.outbox.count()
        if left:
            log.warning("%d record(s) left in the outbox at shutdown (%s); a live worker adopts them", left,
                        self.last_error or "out of time")
        return left

    def drain_once(self, limit: int | None = None, *, until: Callable[[], bool] | None = None) -> tuple[int, int]:
        """Copy one batch (the oldest `limit` records, default the batch size), `parallel` records per step,
        stopping early once `until()` is true; returns (stored, failed)."""
        docs = self.outbox.oldest(limit or self._batch_size)
        if not docs:
            return 0, 0
        results: list[str | None] = []
        for start in range(0, len(docs), self._parallel):
            if start and until is not None and until():
                docs = docs[:start]
                break
            results.extend(self._pool.map(self._try_upsert, docs[start:start + self._parallel]))
        stored = [d["id"] for d, err in zip(docs, results, strict=True) if err is None]
        failed = [(d["id"], err) for d, err in zip(docs, results, strict=True) if err is not None]
        if stored:
            self.outbox.remove(stored)
        if failed:
            self.last_error = failed[0][1]
            self.outbox.note_failure([i for i, _ in failed], failed[0][1] or "")
        else:
            self.last_error = None
        return len(stored), len(failed)

    def _try_upsert(self, doc: dict) -> str | None:
        try:
            self._upsert(doc)
            return None
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc)[:300]}"

    def _run(self) -> None:
        delay = self._idle
        while not self._stopping.is_set():
            self._wake.wait(timeout=delay)
            self._wake.clear()
            if not self._stopping.is_set():
                delay = self._drain_until_empty_or_failing()

    def _drain_until_empty_or_failing(self) -> float:
        """Returns how long to sleep: the idle interval, or the next backoff step while Cosmos fails."""
        while not self._stopping.is_set():
            serving = self._serving()
            try:
                stored, failed = (self.drain_once(self.TRICKLE_RECORDS) if serving
                                  else self.drain_once(until=self._serving))
            except Exception:  # the outbox file itself: log and retry later rather than kill the thread
                log.exception("outbox drain failed")
                failed, stored = 1, 0
            if failed:
                log.warning("Cosmos DB unavailable, record(s) kept in the outbox: %s", self.last_error)
                # First retry soon (a blip), then back off so a long outage costs little.
                self._backoff = 0.5 if self._backoff is None else min(self._backoff * 2, self._max_backoff)
                return self._backoff
            self._backoff = None
            if stored == 0:
                break
            if serving:
                self._stopping.wait(self.TRICKLE_PAUSE_S)  # commits only wake the drainer, never cut this short
        return self._idle
