"""The assistant's own overhead per answer, against the prediction API's own latency in the same run.

The app runs in its own process under uvicorn (HTTP on loopback; the stand-ins stay in this one, so they do not
share the app's interpreter lock) against both stand-ins over HTTPS, with the listings index filled from gold and
the stream. Questions from the golden set are asked one at a time; an answer's
overhead is its wall time (request to the last NDJSON line) minus the time the stand-ins spent serving it, i.e.
retrieval, tool calls (scoring and the outbox write included), orchestration, the SDKs, TLS and streaming. The
floor is POST /api/predictions over the same client: validation, scoring, the outbox commit.
Reported: p50/p95 of both and their ratio (the assistant makes several calls and a prediction per answer, so
a few times the floor is the expectation).
"""

from __future__ import annotations

import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from benchmarks.bench_app import CAR, ROOT, _model_dir
from tools.local.emulators import free_port, port_is_open

if TYPE_CHECKING:
    from tools.local.standins.running import RunningStandIns

QUESTIONS = 60
PREDICTIONS = 300


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def _serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1", "--port",
                                str(port), "--log-level", "warning"], cwd=ROOT, env={**os.environ, **env})
    deadline = time.monotonic() + 60
    while not port_is_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        time.sleep(0.05)
    return process, f"http://127.0.0.1:{port}"


def _measure(client: httpx.Client, questions: list[str],
             stand_ins: RunningStandIns) -> tuple[list[float], list[float], list[float]]:
    """Seconds per prediction (the floor), per answer without the stand-ins' own time, and the stand-ins' time."""
    for _ in range(20):  # warm-up: model session, SDK clients, connection pools
        client.post("/api/predictions", json=CAR)
    client.post("/api/assistant/messages", json={"message": questions[0]}).raise_for_status()
    floor = []
    for _ in range(PREDICTIONS):
        started = time.perf_counter()
        client.post("/api/predictions", json=CAR).raise_for_status()
        floor.append(time.perf_counter() - started)
    overhead, stand_in_share = [], []
    for question in questions:
        served = stand_ins.openai.seconds_serving + stand_ins.search.seconds_serving
        started = time.perf_counter()
        with client.stream("POST", "/api/assistant/messages", json={"message": question}) as response:
            response.raise_for_status()
            for _ in response.iter_lines():
                pass
        wall = time.perf_counter() - started
        spent = stand_ins.openai.seconds_serving + stand_ins.search.seconds_serving - served
        overhead.append(wall - spent)
        stand_in_share.append(spent)
    return floor, overhead, stand_in_share


def main() -> None:
    from functions.listing_index import from_gold_row
    from ml.carprice.prep import load_gold, run_prep
    from tools.checks.genai.evaluate import market_documents
    from tools.checks.genai.golden import golden_set
    from tools.deploy.genai.search_index import create_or_update_index, credential_for, listing_writer
    from tools.local.standins.running import EMBEDDING_DEPLOYMENT, running_stand_ins

    for noisy in ("httpx", "azure", "openai", "app"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-assistant-") as folder:
        work = Path(folder)
        model_dir = _model_dir(work)
        run_prep(work / "lake")
        gold = load_gold(work / "lake").to_dict("records")
        with running_stand_ins(work / "stand-ins") as stand_ins:
            search, openai = stand_ins.search_server.endpoint, stand_ins.openai_server.endpoint
            credential = credential_for(search, openai)
            create_or_update_index(search, credential, str(stand_ins.ca_file))
            docs = [from_gold_row(row) for row in gold] + market_documents(gold, model_dir)
            writer = listing_writer(search, openai, EMBEDDING_DEPLOYMENT, credential, str(stand_ins.ca_file))
            writer.upsert(docs)
            writer.close()
            questions = [q for q in golden_set(gold, docs) if q.car is not None][:QUESTIONS]
            process, base = _serve({**stand_ins.app_settings(), "CARPRICE_MODEL_DIR": str(model_dir),
                                    "CARPRICE_OUTBOX_DIR": str(work / "outbox")})
            try:
                with httpx.Client(base_url=base, timeout=60) as client:
                    floor, overhead, stand_in_share = _measure(client, [q.question for q in questions], stand_ins)
            finally:
                process.terminate()
                process.wait(20)
    a50, a95 = _percentiles(overhead)
    p50, p95 = _percentiles(floor)
    s50, _ = _percentiles(stand_in_share)
    print(f"  assistant overhead per answer ({len(overhead)} answers, stand-ins excluded): "
          f"p50 {a50:.1f} ms, p95 {a95:.1f} ms  (stand-in time p50 {s50:.1f} ms, not counted)")
    print(f"  prediction API, same run ({len(floor)} requests):                p50 {p50:.1f} ms, p95 {p95:.1f} ms")
    print(f"  ratio assistant / prediction: p50 {a50 / p50:.1f}x, p95 {a95 / p95:.1f}x")
    print(f"  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (the stand-ins share them)")


if __name__ == "__main__":
    main()
