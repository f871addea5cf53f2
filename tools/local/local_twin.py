"""`make serve`: the whole system on this machine, on real servers bound to 127.0.0.1.

1. Azurite (blob) holding the lake. A dealer feed lands in bronze/feeds/ (what Data Factory copies in
   Azure) and a burst of replayed listing events in bronze/capture/ (what Event Hubs Capture writes);
   the ML prep ingests both with the data set into bronze/silver/gold Delta tables.
2. The Cosmos DB emulator (@vercel/cosmosdb-server) for prediction history, batch results and the market.
3. The trained model at ml/outputs/model (trained first if missing, exactly like `make train`).
4. A batch scoring run over the gold table; predictions.csv is uploaded next to gold in Azurite and
   published into Cosmos DB (ml/carprice/publish.py, as in Azure), so the batch page has data.
5. The Azure OpenAI and Azure AI Search stand-ins (tools/local/standins/, HTTPS on loopback); the listings index
   created and filled from gold, as the deploy pipeline does.
6. The web app, started with the App Service start command (gunicorn + uvicorn workers).
7. The listing replayer (tools/local/replayer.py): listings as events at --replay-rate per second,
   scored by the function app's handler into the market container (the dashboard's live market panel)
   and the listings index, and captured into bronze for the next prep.

It prints the URLs and runs until Ctrl-C, which stops every process it started.
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import contract
from tools.local.emulators import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    Azurite,
    CosmosEmulator,
    PortInUseError,
    ensure_port_free,
    port_is_open,
)
from tools.local.standins.running import RunningStandIns, prepare_listings_index, running_stand_ins

if TYPE_CHECKING:
    from tools.local.replayer import Replayer

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".local" / "twin"
LAKE_ROOT = "az://{layer}"  # one blob container per medallion layer, as on the Data Lake
BATCH_BLOB = "batch/predictions.csv"


def say(message: str) -> None:
    print(f"[local twin] {message}", flush=True)


def lake_options(azurite: Azurite) -> dict[str, str]:
    return {
        "account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY,
        "azure_storage_endpoint": azurite.blob_endpoint, "allow_http": "true",
    }


def landing(azurite: Azurite) -> Callable[[str, bytes], None]:
    """Writes a file into the lake's bronze filesystem (the landing area of feeds and captures)."""
    service = azurite.blob_service()
    existing = {c.name for c in service.list_containers()}
    for layer in contract.LAKE_LAYERS:
        if layer not in existing:
            service.create_container(layer)

    def write(path: str, data: bytes) -> None:
        service.get_blob_client("bronze", path).upload_blob(data, overwrite=True)

    return write


def land_dealer_feed(write: Callable[[str, bytes], None]) -> None:
    """What Data Factory's copy does in Azure: a dealer's feed (here every third car of the data set, as
    JSON) under bronze/feeds/ingest_date=<today>/; a file already ingested is skipped by prep."""
    import csv
    import json
    from datetime import UTC, datetime

    from ml.carprice.prep import DEFAULT_SOURCE

    with DEFAULT_SOURCE.open(newline="") as handle:
        cars = [row for i, row in enumerate(csv.DictReader(handle)) if i % 3 == 0]
    path = f"{contract.LAKE_FEEDS_FOLDER}/ingest_date={datetime.now(UTC):%Y-%m-%d}/dealer-feed.json"
    write(path, json.dumps(cars).encode())
    say(f"dealer feed landed: bronze/{path} ({len(cars)} cars)")


def prepare_lake(azurite: Azurite) -> None:
    from ml.carprice.prep import run_prep

    report = run_prep(LAKE_ROOT, storage_options=lake_options(azurite))
    say(f"lake in Azurite: {report.gold_rows} gold rows (bronze -> silver -> gold Delta tables)")


def model_problem(model_dir: Path) -> str | None:
    """Why the app could not load this model directory (None: it loads)."""
    if not (model_dir / "model.onnx").is_file():
        return f"no model at {model_dir}"
    from ml.carprice.pricer import Pricer

    try:
        Pricer.load(model_dir)
    except Exception as exc:  # e.g. a model exported by an older version of the ML code
        return f"the model at {model_dir} does not load with the current scoring code ({type(exc).__name__}: {exc})"
    return None


def ensure_model(model_dir: Path, azurite: Azurite) -> None:
    problem = model_problem(model_dir)
    if problem is None:
        say(f"model: {model_dir}")
        return
    from ml.carprice.training import build_model_artifacts

    say(f"{problem}: training one from the Azurite lake (as `make train` does)")
    build_model_artifacts(model_dir, lake_root=LAKE_ROOT, storage_options=lake_options(azurite), progress=say)


def batch_score(model_dir: Path, azurite: Azurite) -> Path:
    from ml.carprice.batch import score_file
    from ml.carprice.prep import load_gold

    STATE.mkdir(parents=True, exist_ok=True)
    cars = STATE / "gold-cars.csv"
    load_gold(LAKE_ROOT, lake_options(azurite)).drop(columns=["price"], errors="ignore").to_csv(cars, index=False)
    predictions = STATE / "predictions.csv"
    rows = score_file(model_dir, cars, predictions)
    blob = azurite.blob_service().get_blob_client("gold", BATCH_BLOB)
    with predictions.open("rb") as handle:
        blob.upload_blob(handle, overwrite=True)
    say(f"batch scoring: {rows} cars priced -> gold/{BATCH_BLOB} in Azurite")
    return predictions


def load_gold_rows(azurite: Azurite) -> list[dict]:
    from ml.carprice.prep import load_gold

    return load_gold(LAKE_ROOT, lake_options(azurite)).to_dict("records")


def publish_batch(predictions: Path, cosmos: CosmosEmulator) -> None:
    from ml.carprice.publish import publish_folder

    say("publishing batch results into Cosmos DB (the emulator takes a few seconds)...")
    report = publish_folder(predictions, None, cosmos.endpoint, cosmos.key, emulator=True)
    say(f"batch results in Cosmos DB: run {report.run_id}, {report.priced} priced, {report.failed} not priced")


def start_web_app(port: int, model_dir: Path, cosmos: CosmosEmulator, workers: int,
                  assistant: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    command = shlex.split(contract.APP_START_COMMAND)
    executable = Path(sys.executable).parent / command[0]
    env = {
        **os.environ,
        "CARPRICE_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        contract.SETTING_COSMOS_ENDPOINT: cosmos.endpoint,
        contract.SETTING_MODEL_DIR: str(model_dir),
        contract.SETTING_OUTBOX_DIR: str(STATE / "outbox"),
        contract.SETTING_REGION: "local",
        **(assistant or {}),
    }
    process = subprocess.Popen([str(executable), *command[1:]], cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while not port_is_open(port):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the web app did not start on port {port} (exit code {process.poll()})")
        time.sleep(0.1)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def build_replayer(cosmos: CosmosEmulator, model_dir: Path, write: Callable[[str, bytes], None],
                   rate: float, stand_ins: RunningStandIns | None = None) -> Replayer:
    from functions.handlers import Runtime
    from functions.settings import FunctionSettings
    from tools.local.replayer import Replayer

    # The model loads on the first scored batch, so the replayer can capture before the model exists.
    # App settings by name, as the functions stack sets them (the stand-ins' endpoints under contract/genai.py's names).
    settings = {contract.SETTING_COSMOS_ENDPOINT: cosmos.endpoint, contract.SETTING_MODEL_DIR: str(model_dir),
                **(stand_ins.app_settings() if stand_ins else {})}
    runtime = Runtime.from_settings(FunctionSettings.from_environment(settings))
    return Replayer(runtime, write, rate=rate)


def stop_replayer(thread: threading.Thread, stop_event: threading.Event) -> None:
    stop_event.set()
    thread.join(30)


def run(port: int, model_dir: Path, workers: int, replay_rate: float = 1.0) -> int:
    ensure_port_free(port, "the web app")
    with ExitStack() as stack:
        say("starting Azurite (blob, loopback only, telemetry off) ...")
        azurite = stack.enter_context(Azurite(location=STATE / "azurite"))
        say("starting the Cosmos DB emulator ...")
        cosmos = stack.enter_context(CosmosEmulator())
        say("starting the Azure OpenAI and Azure AI Search stand-ins (HTTPS, loopback only) ...")
        stand_ins = stack.enter_context(running_stand_ins(STATE / "stand-ins"))
        os.environ["CARPRICE_ASSISTANT_CA_FILE"] = str(stand_ins.ca_file)  # the replayer's index writer trusts it
        write = landing(azurite)
        land_dealer_feed(write)
        replayer = build_replayer(cosmos, model_dir, write, replay_rate, stand_ins)
        stack.callback(replayer.runtime.store.close)
        replayer.capture_only(40)  # listings that streamed while the twin was down: Capture only
        say("captured events landed: 40 listings under bronze/capture/")
        prepare_lake(azurite)
        ensure_model(model_dir, azurite)
        publish_batch(batch_score(model_dir, azurite), cosmos)
        gold = load_gold_rows(azurite)
        say(f"listings index: {prepare_listings_index(stand_ins, gold, say)} gold listings in the search stand-in")
        app = start_web_app(port, model_dir, cosmos, workers, stand_ins.app_settings())
        stack.callback(stop, app)
        if replay_rate > 0:
            say(f"listing replayer: {replay_rate:g} listings/s through the function app's score_listings")
            stack.callback(stop_replayer, *replayer.start())
        base = f"http://127.0.0.1:{port}"
        print(
            "\n  Car price desk is running (Ctrl-C stops everything):\n"
            f"    Predictor       {base}/\n"
            f"    Dashboard       {base}/dashboard\n"
            f"    Batch results   {base}/batch\n"
            f"    Assistant       {base}/assistant\n"
            f"    API docs        {base}/docs\n"
            f"    Probes          {base}{contract.HEALTH_PATH}  {base}{contract.READY_PATH}\n"
            f"    Azurite (blob)  {azurite.blob_endpoint}\n"
            f"    Cosmos DB       {cosmos.endpoint}\n"
            f"    Azure OpenAI    {stand_ins.openai_server.endpoint} (stand-in; faults: POST /_stand-in/faults)\n"
            f"    AI Search       {stand_ins.search_server.endpoint} (stand-in)\n",
            flush=True,
        )
        try:
            return app.wait()
        except KeyboardInterrupt:
            say("stopping the web app, the stand-ins, Cosmos DB emulator and Azurite ...")
            return 0


def stop_on_sigterm() -> None:
    """`kill`, a service manager or a CI time-out stop the twin the way Ctrl-C does: every server it started
    is stopped on the way out, none is left running on its port."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve the local twin of the car-price platform")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "ml" / "outputs" / "model")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--replay-rate", type=float, default=1.0, help="stream listings per second (0: off)")
    args = parser.parse_args(argv)
    stop_on_sigterm()
    for chatty in ("azure", "httpx", "openai"):  # one log record per request would bury the twin's own output
        logging.getLogger(chatty).setLevel(logging.WARNING)
    try:
        return run(args.port, args.model_dir, args.workers, args.replay_rate)
    except PortInUseError as exc:
        print(f"[local twin] {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        say("interrupted during start-up; everything started so far has been stopped")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
