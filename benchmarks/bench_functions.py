"""Function app benchmark: events scored per second by score_listings (batches of 100 real listings)
against the floor of the pricer's own batch throughput (100 already-validated cars per ONNX call),
both measured in this run on this machine. Target: score_listings >= 0.5x the pricer. A breakdown per
event follows: the libraries' steps (orjson, the pydantic row model, the pricer) each timed alone, and the
handler's own remainder.

score_listings is measured with its documents kept in memory (the Cosmos DB round trips are Azure's
latency, not the handler's cost), then once against the local Cosmos DB emulator for information:
the in-memory emulator is far slower per write than Cosmos DB, so that number is the emulator's.
"""

from __future__ import annotations

import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import azure.functions as func
import orjson

from functions.handlers import Runtime, score_listings
from functions.settings import FunctionSettings
from functions.store import MarketStore
from ml.carprice.listing import LISTING_ID, listing_body, parse_listing
from ml.carprice.pricer import Pricer
from ml.carprice.schema import served_dataset
from ml.carprice.training import build_model_artifacts
from runtime.pricing import LocalModel
from tools.local.emulators import CosmosEmulator
from tools.local.replayer import dataset_listings

BATCH = 100
ROUNDS = 7
TARGET_RATIO = 0.5


class InMemoryStore:
    """Keeps upserted documents by id (the Cosmos DB boundary left out of the handler's own cost)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, dict]] = {}

    def upsert(self, role: str, docs: list[dict]) -> None:
        self.docs.setdefault(role, {}).update((d["id"], d) for d in docs)


def listings() -> list[dict[str, object]]:
    """The data set's cars the schema accepts, as listings (a replayer round)."""
    out = [{"listing_id": listing_id, **listing} for listing_id, listing in dataset_listings(1)]
    return [item for item in out if not isinstance(parse_listing(item), list)]


def batch_of_events(items: list[dict[str, object]]) -> list[func.EventHubEvent]:
    now = datetime.now(UTC)
    return [func.EventHubEvent(body=listing_body(str(item["listing_id"]),
                                                 {k: v for k, v in item.items() if k != "listing_id"}),
                               sequence_number=i, offset=str(i), enqueued_time=now)
            for i, item in enumerate((items * (BATCH // len(items) + 1))[:BATCH])]


def rates(fn, items: int, repeats: int) -> float:
    start = time.perf_counter()
    for _ in range(repeats):
        fn()
    return items * repeats / (time.perf_counter() - start)


def interleaved(floor_fn, measured_fn, items: int) -> tuple[float, float, float]:
    """Best floor rate, best measured rate and their ratio. The two are measured back to back in every
    round, and each keeps its least disturbed round (as benchmarks/measure.py's best_of does): on a
    shared machine the median mostly measures the neighbours."""
    floor_fn(), measured_fn()  # warm-up
    floors, measured = [], []
    for _ in range(ROUNDS):
        floors.append(rates(floor_fn, items, 40))
        measured.append(rates(measured_fn, items, 20))
    return max(floors), max(measured), max(measured) / max(floors)


def print_breakdown(events: list[func.EventHubEvent], runtime: Runtime, handler_rate: float) -> None:
    """Where an event's time goes: the libraries' own steps timed alone, the handler's remainder after them."""
    bodies = [event.get_body() for event in events]
    raws = [orjson.loads(body) for body in bodies]
    listed = [parse_listing(raw, runtime.dataset) for raw in raws]
    row_model = runtime.dataset.row_model
    features = [{k: v for k, v in raw.items() if k not in (LISTING_ID, runtime.dataset.target.name)} for raw in raws]
    cars = [item.car for item in listed]  # type: ignore[union-attr]
    steps = {
        "JSON decode (orjson)": lambda: [orjson.loads(body) for body in bodies],
        "row validation (pydantic row model)": lambda: [row_model.model_validate(f) for f in features],
        "pricing (Pricer: encode + ONNX)": lambda: runtime.model.quote_many(cars),
    }
    micros = {name: 1e6 / max(rates(step, BATCH, 200) for _ in range(3)) for name, step in steps.items()}
    total = 1e6 / handler_rate
    micros["the handler's own (listing checks, records, loop)"] = total - sum(micros.values())
    print(f"  per event, {total:.1f} us: " + "; ".join(f"{name} {us:.1f}" for name, us in micros.items()))


def main() -> None:
    one, five, fifteen = os.getloadavg()
    print(f"load average at start (1/5/15 min): {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores")
    work = Path(tempfile.mkdtemp(prefix="bench-functions-"))
    model_dir = build_model_artifacts(work / "model", lake_root=work / "lake", quick=True, tracking_dir=work / "mlruns")
    items = listings()
    events = batch_of_events(items)
    pricer = Pricer.load(model_dir)
    cars = [parse_listing(item).car for item in (items * 2)[:BATCH]]  # type: ignore[union-attr]
    settings = FunctionSettings(cosmos_endpoint="https://127.0.0.1:1/", model_dir=model_dir)
    memory = Runtime(settings, InMemoryStore(), LocalModel(model_dir), served_dataset(model_dir))  # type: ignore[arg-type]
    floor, handler, ratio = interleaved(lambda: pricer.predict(cars), lambda: score_listings(events, memory), BATCH)
    print(f"pricer batch throughput (floor): {floor:,.0f} cars/s ({BATCH} per call)")
    verdict = "meets" if ratio >= TARGET_RATIO else "MISSES"
    print(f"score_listings (decode, validate, price, build records): {handler:,.0f} events/s = {ratio:.2f}x "
          f"the pricer ({verdict} the {TARGET_RATIO}x target)")
    print_breakdown(events, memory, handler)

    with CosmosEmulator() as emulator:
        settings = FunctionSettings(cosmos_endpoint=emulator.endpoint, model_dir=model_dir)
        store = MarketStore(settings)
        try:
            emulated = Runtime(settings, store, LocalModel(model_dir), served_dataset(model_dir))
            score_listings(events, emulated)  # warm-up: containers, connections
            rate = rates(lambda: score_listings(events, emulated), BATCH, 3)
        finally:
            store.close()
    print(f"score_listings writing to the Cosmos DB emulator: {rate:,.0f} events/s (emulator-bound, information)")


if __name__ == "__main__":
    main()
