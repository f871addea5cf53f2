"""App Service fit: dist/app.zip holds what App Service needs (root requirements.txt for Oryx, the app,
the contract, the scoring code and the model), and the start command App Service runs
(contract.APP_START_COMMAND: gunicorn with uvicorn workers) starts the app from the unpacked package."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import httpx
import pytest

import contract
from tests.app.conftest import AUDI, wait_for
from tools.deploy.app.package import ROOT, build_package
from tools.local.emulators import free_port, port_is_open

pytestmark = pytest.mark.xdist_group("app")

VENV_BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def unpacked(model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("package")
    archive = build_package(model_dir, folder / "app.zip")
    with zipfile.ZipFile(archive) as handle:
        handle.extractall(folder / "wwwroot")
    return folder / "wwwroot"


def test_package_has_requirements_at_root_app_contract_scoring_code_and_model(unpacked: Path) -> None:
    requirements = (unpacked / "requirements.txt").read_text()
    for package in ("fastapi", "gunicorn", "uvicorn-worker", "orjson", "azure-cosmos", "azure-identity", "onnxruntime"):
        assert package in requirements
    for path in ("app/main.py", "app/gunicorn.conf.py", "app/web/templates/predictor.html", "app/web/static/app.css",
                 "app/web/static/vendor/swagger-ui/LICENSE", "contract/__init__.py", "ml/carprice/schema.py",
                 "ml/carprice/pricer.py", "model/model.onnx", "model/model_card.json",
                 *(f"runtime/{p.name}" for p in (ROOT / "runtime").glob("*.py"))):
        assert (unpacked / path).is_file(), path
    assert not list(unpacked.rglob("__pycache__")) and not (unpacked / "tests").exists()
    # Only what runs on App Service: the twin launcher and the packager stay behind.
    assert not (unpacked / "tools").exists()
    for tool in ("local_twin.py", "package.py"):
        assert not list(unpacked.rglob(tool)), tool


def test_package_imports_resolve_inside_the_package(unpacked: Path) -> None:
    probe = "import app.main, contract, ml.carprice.pricer as p; print(app.main.__file__); print(p.__file__)"
    out = subprocess.run([sys.executable, "-c", probe], cwd=unpacked, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": "", contract.SETTING_OUTBOX_DIR: str(unpacked / "o")})
    for line in out.stdout.split():
        assert line.startswith(str(unpacked)), line


def test_start_command_serves_the_app_from_the_unpacked_package(unpacked: Path, tmp_path: Path) -> None:
    command = shlex.split(contract.APP_START_COMMAND)
    assert command[0] == "gunicorn"
    port = free_port()
    env = {
        **os.environ, "PYTHONPATH": "", "PATH": f"{VENV_BIN}:{os.environ['PATH']}",
        "CARPRICE_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
        contract.SETTING_OUTBOX_DIR: str(tmp_path / "outbox"), contract.SETTING_REGION: "packagetest",
    }
    env.pop(contract.SETTING_MODEL_DIR, None)  # the App stack doesn't set it: the packaged model is the default
    server = subprocess.Popen([str(VENV_BIN / command[0]), *command[1:]], cwd=unpacked, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not port_is_open(port) and time.monotonic() < deadline:
            assert server.poll() is None, server.stdout.read() if server.stdout else ""
            time.sleep(0.1)
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(base + contract.HEALTH_PATH, timeout=10).json() == {"status": "ok"}
        ready = httpx.get(base + contract.READY_PATH, timeout=10).json()
        assert ready["checks"]["model"] == "ok"  # store: not configured in this test
        priced = httpx.post(base + "/api/predictions", json=AUDI, timeout=10)
        assert priced.status_code == 201
        assert "server" not in priced.headers  # the software is not advertised
        card = json.loads((unpacked / "model" / "model_card.json").read_text())
        assert priced.json()["model_version"] == card["model_version"]
        # Each worker owns its outbox folder; nothing uses SQLite's WAL shared memory (unsafe on /home's SMB).
        wait_for(lambda: len([f for f in (tmp_path / "outbox").iterdir() if f.is_dir()]) == 2,
                 what="one outbox folder per worker")
        assert not list((tmp_path / "outbox").rglob("*-shm"))
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert "app.worker.AppWorker" in output  # the uvicorn-worker package's worker, not uvicorn's deprecated one
