"""The app's use cases, shared by the JSON API and the HTML pages: price a car (and keep the record
durably), read history, read batch results, report readiness."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from app.records import Prediction, prediction_from_document
from app.settings import Settings
from app.store.cosmos import CosmosStore
from app.store.drainer import Drainer, ServingLoad
from app.store.outbox import Outbox, OutboxWriter
from app.store.owners import LeaseKeeper, Owner
from app.store.pending_view import PendingView
from ml.carprice.dataset import Dataset
from runtime.predictions import new_prediction
from runtime.pricing import PriceModel

if TYPE_CHECKING:
    from ml.carprice.schema import CarFeatures

log = logging.getLogger(__name__)


class RecordNotKept(RuntimeError):
    """Neither the outbox nor Cosmos DB accepted the record: the price is withheld rather than lost."""


@dataclass
class History:
    items: list[Prediction]
    store_ok: bool
    pending: int = 0


@dataclass
class BatchView:
    run: dict | None
    items: list[dict]
    store_ok: bool


@dataclass
class MarketView:
    listings: list[dict]
    store_ok: bool


@dataclass
class PredictionService:
    settings: Settings
    model: PriceModel
    dataset: Dataset  # what the served model was trained on: requests are validated against it
    outbox: Outbox
    store: CosmosStore | None
    owner: Owner | None = None  # set when the outbox is this process's folder under settings.outbox_dir
    drainer: Drainer | None = None
    lease: LeaseKeeper | None = field(default=None, init=False)
    load: ServingLoad = field(default_factory=ServingLoad, init=False)  # paces the drainers (app/store/drainer.py)
    writer: OutboxWriter | None = field(default=None, init=False)
    _ready_cache: tuple[float, dict] | None = field(default=None, init=False)
    _ping: asyncio.Future | None = field(default=None, init=False)
    # One history query per worker at a time: a store that is slow to answer (an emulator scanning a large
    # container) is not handed more queries it would go on running after the app stopped waiting.
    _history_reads: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(1), init=False)

    def start(self) -> None:
        if self.owner is not None:
            # Before the drainer starts: records of workers and instances that are gone join this outbox.
            self.lease = LeaseKeeper(
                self.settings.outbox_dir, self.owner, self.outbox,
                lease_seconds=self.settings.outbox_lease_s, on_adopted=self._wake_drainer,
            )
            self.lease.adopt_and_republish()
        if self.store is not None:
            try:
                self.store.ensure_containers()
            except Exception as exc:  # start anyway: the outbox keeps predictions until Cosmos is back
                log.warning("Cosmos DB not reachable at start-up: %s", exc)
            self.drainer = Drainer(
                self.outbox, self.store.upsert_prediction, max_backoff_seconds=self.settings.outbox_retry_max_s,
                load=self.load,
            ).start()
        self.writer = OutboxWriter(
            self.outbox, on_committed=self.drainer.committed if self.drainer else _nothing,
            offload=self.settings.outbox_fsync_each_commit,
        )
        if self.lease is not None:
            self.lease.start()

    def _wake_drainer(self) -> None:
        if self.drainer is not None:
            self.drainer.wake()

    async def stop(self) -> None:
        if self.writer:
            self.writer.close()
        if self.drainer:  # flushes what is left, while this worker still holds its outbox's lease
            await run_in_threadpool(self.drainer.stop)
        if self.lease:
            self.lease.stop()
        await self.model.aclose()
        if self.store:
            self.store.close()
        self.outbox.close()

    async def predict(self, car: CarFeatures) -> dict:
        """The new prediction (shaped like records.Prediction), once it is safely in the outbox."""
        self.load.started()
        try:
            return await self._price_and_keep(car)
        finally:
            self.load.finished()

    async def _price_and_keep(self, car: CarFeatures) -> dict:
        quote = await self.model.quote(car)
        doc = new_prediction(car, quote, self.settings.region, self.dataset)
        if self.writer is None:
            raise RuntimeError("PredictionService.start() was not called")
        try:
            await self.writer.put(doc)
        except Exception as exc:
            log.error("outbox write failed (%s); writing to Cosmos DB directly", exc)
            if self.store is None:
                raise RecordNotKept(str(exc)) from exc
            try:
                await run_in_threadpool(self.store.upsert_prediction, doc)
            except Exception as store_exc:
                raise RecordNotKept(f"{exc}; {store_exc}") from store_exc
        return doc

    @property
    def _pending(self) -> Outbox | PendingView:
        """Records not yet in Cosmos DB: the instance's pending view (every worker's), else this outbox."""
        return self.outbox.view or self.outbox

    async def history(self, limit: int, make: str | None = None) -> History:
        """Newest first: Cosmos DB plus every record of this instance still waiting in an outbox, so a user
        sees their prediction on the next request whichever worker answers it."""
        pending = await run_in_threadpool(self._pending.newest, limit, make)
        waiting = await run_in_threadpool(self._pending.count)
        stored: list[dict] = []
        store_ok = self.store is not None
        if self.store is not None:
            stored, store_ok = await self._stored_history(self.store, limit, make)
        by_id = {d["id"]: d for d in stored}
        by_id.update({d["id"]: d for d in pending})
        docs = sorted(by_id.values(), key=lambda d: d["created_at"], reverse=True)[:limit]
        return History([prediction_from_document(d) for d in docs], store_ok, waiting)

    async def _stored_history(self, store: CosmosStore, limit: int, make: str | None) -> tuple[list[dict], bool]:
        try:
            await asyncio.wait_for(self._history_reads.acquire(), timeout=self.settings.store_timeout_s)
        except TimeoutError:
            log.warning("history read skipped: the previous one has not finished in %ss", self.settings.store_timeout_s)
            return [], False
        try:
            return await run_in_threadpool(store.recent_predictions, limit, make), True
        except Exception as exc:
            log.warning("history read from Cosmos DB failed: %s", exc)
            return [], False
        finally:
            self._history_reads.release()

    async def prediction(self, prediction_id: str) -> Prediction | None:
        """One prediction by id: still pending on this instance, else from Cosmos DB (None: not found)."""
        doc = await run_in_threadpool(self._pending.get, prediction_id)
        if doc is None and self.store is not None:
            doc = await run_in_threadpool(self.store.prediction, prediction_id)
        return None if doc is None else prediction_from_document(doc)

    async def batch(self, make: str | None, limit: int = 1000) -> BatchView:
        if self.store is None:
            return BatchView(None, [], False)
        try:
            run = await run_in_threadpool(self.store.latest_batch_run)
            items = [] if run is None else await run_in_threadpool(
                self.store.batch_results, run["run_id"], limit, make
            )
        except Exception as exc:
            log.warning("batch results read from Cosmos DB failed: %s", exc)
            return BatchView(None, [], False)
        return BatchView(run, [{k: v for k, v in d.items() if not k.startswith("_")} for d in items], True)

    async def market(self, limit: int) -> MarketView:
        if self.store is None:
            return MarketView([], False)
        try:
            docs = await run_in_threadpool(self.store.recent_listings, limit)
        except Exception as exc:
            log.warning("market read from Cosmos DB failed: %s", exc)
            return MarketView([], False)
        return MarketView([{k: v for k, v in d.items() if not k.startswith("_")} for d in docs], True)

    async def readiness(self) -> dict:
        """Model loaded and store reachable; cached for 1 s so frequent probes cost Cosmos nothing extra. A store
        that is reachable but slow to answer (busy) leaves the app ready: the outbox keeps every prediction
        until it catches up, so only a store that refuses or cannot be reached sends traffic elsewhere."""
        now = time.monotonic()
        if self._ready_cache and now - self._ready_cache[0] < 1.0:
            return self._ready_cache[1]
        checks = {"model": "ok" if self.model.is_ready() else "not loaded"}
        checks["store"] = "not configured" if self.store is None else await self._store_status(self.store)
        checks["outbox_pending"] = str(await run_in_threadpool(self._pending.count))
        store_serves = checks["store"] == "ok" or checks["store"].startswith("slow")
        result = {"ready": checks["model"] == "ok" and store_serves, "checks": checks}
        self._ready_cache = (now, result)
        return result


    async def _store_status(self, store: CosmosStore, wait_s: float = 1.0) -> str:
        # One ping at a time: a probe that finds the last one still running waits for it, never adds another.
        if self._ping is None or self._ping.done():
            self._ping = asyncio.ensure_future(run_in_threadpool(store.ping))
            self._ping.add_done_callback(lambda done: done.cancelled() or done.exception())  # retrieved here
        try:
            await asyncio.wait_for(asyncio.shield(self._ping), timeout=wait_s)
        except TimeoutError:
            return f"slow: no answer within {wait_s:g} s (predictions wait in the outbox)"
        except Exception as exc:
            if "Timeout" in type(exc).__name__:
                return f"slow: {type(exc).__name__} (predictions wait in the outbox)"
            return f"unreachable: {type(exc).__name__}"
        return "ok"


def _nothing() -> None:
    return None
