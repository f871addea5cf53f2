"""`make serve`: the whole system on this machine, on real servers bound to 127.0.0.1.

1. Azurite (blob) holding the lake: the ML prep writes bronze/silver/gold Delta tables into it.
2. The Cosmos DB emulator (@vercel/cosmosdb-server) for prediction history and batch results.
3. The trained model at ml/outputs/model (trained first if missing, exactly like `make train`).
4. A batch scoring run over the gold table; predictions.csv is uploaded next to gold in Azurite and
   published into Cosmos DB (ml/carprice/publish.py, as in Azure), so the batch page has data.
5. The web app, started with the App Service start command (gunicorn + uvicorn workers).

It prints the URLs and runs until Ctrl-C, which stops every process it started.
"""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

import contract
from tools.emulators import (
    AZURITE_ACCOUNT,
    AZURITE_KEY,
    Azurite,
    CosmosEmulator,
    PortInUseError,
    ensure_port_free,
    port_is_open,
)

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


def prepare_lake(azurite: Azurite) -> None:
    from ml.carprice.prep import run_prep

    service = azurite.blob_service()
    existing = {c.name for c in service.list_containers()}
    for layer in contract.LAKE_LAYERS:
        if layer not in existing:
            service.create_container(layer)
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


def publish_batch(predictions: Path, cosmos: CosmosEmulator) -> None:
    from ml.carprice.publish import publish_folder

    say("publishing batch results into Cosmos DB (the emulator takes a few seconds)...")
    report = publish_folder(predictions, None, cosmos.endpoint)
    say(f"batch results in Cosmos DB: run {report.run_id}, {report.priced} priced, {report.failed} not priced")


def start_web_app(port: int, model_dir: Path, cosmos: CosmosEmulator, workers: int) -> subprocess.Popen[bytes]:
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


def run(port: int, model_dir: Path, workers: int) -> int:
    ensure_port_free(port, "the web app")
    with ExitStack() as stack:
        say("starting Azurite (blob, loopback only, telemetry off) ...")
        azurite = stack.enter_context(Azurite(location=STATE / "azurite"))
        say("starting the Cosmos DB emulator ...")
        cosmos = stack.enter_context(CosmosEmulator())
        prepare_lake(azurite)
        ensure_model(model_dir, azurite)
        publish_batch(batch_score(model_dir, azurite), cosmos)
        app = start_web_app(port, model_dir, cosmos, workers)
        stack.callback(stop, app)
        base = f"http://127.0.0.1:{port}"
        print(
            "\n  Car price desk is running (Ctrl-C stops everything):\n"
            f"    Predictor       {base}/\n"
            f"    Dashboard       {base}/dashboard\n"
            f"    Batch results   {base}/batch\n"
            f"    API docs        {base}/docs\n"
            f"    Probes          {base}{contract.HEALTH_PATH}  {base}{contract.READY_PATH}\n"
            f"    Azurite (blob)  {azurite.blob_endpoint}\n"
            f"    Cosmos DB       {cosmos.endpoint}\n",
            flush=True,
        )
        try:
            return app.wait()
        except KeyboardInterrupt:
            say("stopping the web app, Cosmos DB emulator and Azurite ...")
            return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="serve the local twin of the car-price platform")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--model-dir", type=Path, default=ROOT / "ml" / "outputs" / "model")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    try:
        return run(args.port, args.model_dir, args.workers)
    except PortInUseError as exc:
        print(f"[local twin] {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        say("interrupted during start-up; everything started so far has been stopped")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
