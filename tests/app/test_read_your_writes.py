"""Read-your-writes across the workers of one instance: a prediction made on one worker is listed by the
next request to any other, while it still waits in its worker's outbox (Cosmos DB unreachable here, so
nothing drains). Two servers started with the App Service start command, one worker each, share the
outbox directory and the host: exactly two gunicorn workers of one instance, but each addressable."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

import contract
from tests.app.conftest import AUDI, ROOT
from tools.local.emulators import free_port, port_is_open

pytestmark = pytest.mark.xdist_group("app")


def _start(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    command = shlex.split(contract.APP_START_COMMAND)
    return subprocess.Popen(
        [str(Path(sys.executable).parent / command[0]), *command[1:]], cwd=ROOT,
        env={**env, "CARPRICE_BIND": f"127.0.0.1:{port}"}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def _wait_until_serving(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 120
    while not port_is_open(port):
        assert process.poll() is None and time.monotonic() < deadline, "the app did not start"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def two_workers(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    outbox = tmp_path_factory.mktemp("ryw-outbox")
    unreachable = f"https://127.0.0.1:{free_port()}/"  # nothing listens: every record stays pending
    env = {
        **os.environ, "WEB_CONCURRENCY": "1", "CARPRICE_LOG_LEVEL": "warning", "CARPRICE_DASHBOARD_WINDOW": "3",
        contract.SETTING_MODEL_DIR: str(model_dir), contract.SETTING_OUTBOX_DIR: str(outbox),
        contract.SETTING_COSMOS_ENDPOINT: unreachable, contract.SETTING_REGION: "ryw",
    }
    ports = free_port(), free_port()
    processes = [_start(port, env) for port in ports]
    try:
        for process, port in zip(processes, ports, strict=True):
            _wait_until_serving(process, port)
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_a_prediction_made_on_one_worker_is_read_on_the_other_at_once(two_workers: tuple[str, str]) -> None:
    one, other = two_workers
    made = [httpx.post(f"{base}/api/predictions", json=AUDI, timeout=20).json() for base in (one, other, one)]

    for base in (other, one):
        listed = httpx.get(f"{base}/api/predictions", params={"limit": 200}, timeout=20).json()
        assert {m["id"] for m in made} <= {p["id"] for p in listed["items"]}, base
        for prediction in made:
            read = httpx.get(f"{base}/api/predictions/{prediction['id']}", timeout=20)
            assert read.status_code == 200 and read.json()["price"] == prediction["price"]
    page = httpx.get(f"{other}/dashboard", timeout=20).text
    assert f'data-prediction-id="{made[0]["id"]}"' in page  # made on the other worker


def test_readiness_and_dashboard_count_the_whole_instance_backlog_uncapped(two_workers: tuple[str, str]) -> None:
    one, other = two_workers
    for base in (one, other, one, other, one):
        assert httpx.post(f"{base}/api/predictions", json=AUDI, timeout=20).status_code == 201
    time.sleep(1.1)  # readiness is cached for a second
    counts = {int(httpx.get(f"{base}{contract.READY_PATH}", timeout=20).json()["checks"]["outbox_pending"])
              for base in (one, other, one, other)}
    assert len(counts) == 1 and counts.pop() >= 5  # one instance-wide figure, whichever worker answers
    banner = re.search(r"Showing the ([\d,]+) prediction", httpx.get(f"{one}/dashboard", timeout=20).text)
    assert banner and int(banner.group(1).replace(",", "")) >= 5  # beyond the dashboard's window of 3
