"""Web app throughput and latency with wrk on loopback: POST /api/predictions (validate, score with the
in-process ONNX model, commit to the durable outbox) against GET /healthz (the floor: the same server
doing no work) in the same run, 8 connections, bounded duration each.

Target (issue 5): POST >= 0.5x the healthz rate, POST p99 <= 25 ms.
POST /api/predictions is served by its plain-ASGI lane (app/web/prediction_lane.py); /healthz goes through
FastAPI's full stack, so the floor includes framework overhead the POST no longer pays. The machine's
load average is printed with the results: wrk and the app share its cores with whatever else runs.
The app runs as App Service runs it (contract.APP_START_COMMAND: gunicorn + uvicorn workers) with the
Cosmos DB emulator behind the outbox.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import contract
from tools.emulators import CosmosEmulator, free_port, port_is_open

ROOT = Path(__file__).resolve().parent.parent
SECONDS = 5
CONNECTIONS = 8
CAR = {
    "make": "audi", "body_style": "sedan", "fuel_type": "gas", "aspiration": "std", "num_of_doors": "four",
    "drive_wheels": "fwd", "engine_size": 109, "horsepower": 102, "curb_weight": 2337, "city_mpg": 24,
    "highway_mpg": 30,
}
LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{body}'
"""


def _model_dir(work: Path) -> Path:
    from tools.app.local_twin import model_problem

    trained = ROOT / "ml" / "outputs" / "model"
    if model_problem(trained) is None:
        return trained
    from ml.carprice.training import build_model_artifacts

    return build_model_artifacts(work / "model", lake_root=work / "lake", quick=True, tracking_dir=work / "mlruns")


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url: str, script: Path | None = None) -> dict[str, float]:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "--latency", url]
    if script:
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "p50": _ms(re.search(r"\s50%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "p99": _ms(re.search(r"\s99%\s+(\S+)", out).group(1)),  # type: ignore[union-attr]
        "errors": float(non_2xx.group(1)) if non_2xx else 0.0,
    }


class _Server:
    """The app as App Service starts it, on a free loopback port."""

    def __init__(self, model_dir: Path, work: Path, cosmos_endpoint: str) -> None:
        self.port = free_port()
        self.workers = os.environ.get("BENCH_APP_WORKERS", "1")  # the other core runs wrk
        command = shlex.split(contract.APP_START_COMMAND)
        env = {
            **os.environ, "CARPRICE_BIND": f"127.0.0.1:{self.port}", "WEB_CONCURRENCY": self.workers,
            contract.SETTING_COSMOS_ENDPOINT: cosmos_endpoint, contract.SETTING_MODEL_DIR: str(model_dir),
            contract.SETTING_OUTBOX_DIR: str(work / f"outbox-{self.port}"), "CARPRICE_LOG_LEVEL": "warning",
        }
        executable = Path(sys.executable).parent / command[0]
        self.process = subprocess.Popen([str(executable), *command[1:]], cwd=ROOT, env=env)
        deadline = time.monotonic() + 30
        while not port_is_open(self.port) and time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app exited with code {self.process.returncode} before serving")
            time.sleep(0.1)
        self.base = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> _Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _line(label: str, r: dict[str, float], note: str = "") -> str:
    return f"  {label:<50}{r['rps']:>8,.0f} req/s  p50 {r['p50']:6.2f} ms  p99 {r['p99']:6.2f} ms  {note}"


def main() -> None:
    if not shutil.which("wrk"):
        raise RuntimeError("wrk is not installed (tools/setup.sh installs it)")
    work = Path(tempfile.mkdtemp(prefix="bench-app-"))
    script = work / "post.lua"
    script.write_text(LUA.format(body=json.dumps(CAR)))
    load_before = os.getloadavg()[0]
    try:
        model_dir = _model_dir(work)
        # Cosmos DB is out of the request path (records go to the outbox), so the app is measured without
        # it first; the emulator (CPU-bound, ~50-100 ms a write on this machine) is then added for context.
        with _Server(model_dir, work, cosmos_endpoint="") as server:
            wrk(server.base + contract.HEALTH_PATH)  # warm-up: connections, first ONNX run
            health = wrk(server.base + contract.HEALTH_PATH)
            post = wrk(server.base + "/api/predictions", script)
            workers = server.workers
        with CosmosEmulator() as cosmos, _Server(model_dir, work, cosmos_endpoint=cosmos.endpoint) as server:
            wrk(server.base + contract.HEALTH_PATH)
            post_cosmos = wrk(server.base + "/api/predictions", script)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    ratio = post["rps"] / health["rps"]
    load_after = os.getloadavg()[0]
    print(f"  wrk -c{CONNECTIONS} -d{SECONDS}s, loopback; app: {contract.APP_START_COMMAND!r}, {workers} worker(s)")
    print(_line(f"GET  {contract.HEALTH_PATH} (floor)", health))
    print(_line("POST /api/predictions", post, f"{ratio:.2f}x floor; non-2xx {post['errors']:.0f}"))
    print(_line("POST /api/predictions + Cosmos emulator draining", post_cosmos,
                f"{post_cosmos['rps'] / health['rps']:.2f}x floor; non-2xx {post_cosmos['errors']:.0f}"))
    print(f"  load average (1 min) {load_before:.2f} before, {load_after:.2f} after; {os.cpu_count()} cores")
    print(f"  target POST >= 0.50x floor: {'met' if ratio >= 0.5 else 'NOT met'} ({ratio:.2f}x); "
          f"POST p99 <= 25 ms: {'met' if post['p99'] <= 25 else 'NOT met'} ({post['p99']:.1f} ms)")


if __name__ == "__main__":
    main()
