"""Shared, expensive set-up for the app's tests: one real model (built once and cached across runs),
one Cosmos DB emulator, and a factory for app settings. All app tests share one xdist group."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from azure.cosmos import ContainerProxy, CosmosClient
from fastapi.testclient import TestClient

import contract
from app.main import create_app
from app.settings import Settings
from runtime.emulator import COSMOS_EMULATOR_KEY
from tests.app.fake_aml_endpoint import FakeAmlEndpoint
from tools.local.emulators import CosmosEmulator, free_port, port_is_open

ROOT = Path(__file__).resolve().parents[2]

AUDI = {
    "make": "audi", "body_style": "sedan", "fuel_type": "gas", "aspiration": "std", "num_of_doors": "four",
    "drive_wheels": "fwd", "engine_size": 109, "horsepower": 102, "curb_weight": 2337, "city_mpg": 24,
    "highway_mpg": 30,
}


def _model_inputs_digest() -> str:
    digest = hashlib.sha256()
    inputs = sorted((ROOT / "ml" / "carprice").glob("*.py")) + sorted((ROOT / "ml" / "carprice").glob("*.yml"))
    for path in inputs + sorted((ROOT / "ml" / "data").glob("*.yml")) + [ROOT / "ml" / "data" / "imports-85.csv"]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def model_dir() -> Path:
    """A real model from ml.carprice.training (quick mode), rebuilt only when the ML code or data change.

    Kept under the pytest temp root (not one run's basetemp) so repeated `make test` runs reuse it;
    a file lock makes concurrent xdist workers build it once."""
    # One cache per checkout: checkouts with different ML code never evict each other's model.
    checkout = hashlib.sha256(str(ROOT).encode()).hexdigest()[:12]
    pytest_root = Path(tempfile.gettempdir()) / f"pytest-of-{os.environ.get('USER', 'user')}"
    cache = pytest_root / f"carprice-app-model-{checkout}"
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / _model_inputs_digest()
    with (cache / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / "model_card.json").is_file():
            from ml.carprice.training import build_model_artifacts

            work = Path(tempfile.mkdtemp(prefix="model-build-", dir=cache))
            try:
                built = build_model_artifacts(
                    work / "model", lake_root=work / "lake", quick=True, tracking_dir=work / "mlruns"
                )
                for stale in cache.iterdir():  # models of older ML code
                    if stale.is_dir() and not stale.name.startswith("model-build-"):
                        shutil.rmtree(stale, ignore_errors=True)
                shutil.copytree(built, target)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return target


@pytest.fixture(scope="session")
def cosmos() -> Iterator[CosmosEmulator]:
    with CosmosEmulator() as emulator:
        yield emulator


def app_settings(*, model_dir: Path, outbox_dir: Path, cosmos_endpoint: str = "", **extra: object) -> Settings:
    """Settings exactly as App Service would pass them: by their environment variable names."""
    env = {
        contract.SETTING_MODEL_DIR: str(model_dir),
        contract.SETTING_OUTBOX_DIR: str(outbox_dir),
        contract.SETTING_COSMOS_ENDPOINT: cosmos_endpoint,
        contract.SETTING_REGION: "testregion",
    }
    return Settings(**env, **extra)


@pytest.fixture(scope="session")
def api(model_dir: Path, cosmos: CosmosEmulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app in-process (lifespan run) against the shared Cosmos emulator and the real model."""
    settings = app_settings(
        model_dir=model_dir, outbox_dir=tmp_path_factory.mktemp("outbox"), cosmos_endpoint=cosmos.endpoint
    )
    with TestClient(create_app(settings)) as client:
        yield client


def submit_form(client: TestClient, form: dict[str, str]) -> object:
    """POST the predictor form as a browser does: from the page, with the page's CSRF token and cookie."""
    page = client.get("/").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return client.post("/", data={**form, "csrf_token": token}, headers={"origin": str(client.base_url)})


def cosmos_container(emulator: CosmosEmulator, name: str = contract.HISTORY_CONTAINER) -> ContainerProxy:
    client = CosmosClient(emulator.endpoint, credential=COSMOS_EMULATOR_KEY, connection_verify=False)
    return client.get_database_client(contract.COSMOS_DATABASE).get_container_client(name)


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def batch_run(model_dir: Path, cosmos: CosmosEmulator, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The real batch scoring over a sample of the data set, published into the shared Cosmos emulator.

    A sample, because the emulator takes ~50-100 ms per write: every 6th car, the cars with unknown optional
    fields, and two cars with an impossible horsepower (so the run has rows the schema rejects)."""
    from app.store.cosmos import CosmosStore
    from ml.carprice.batch import score_file
    from ml.carprice.publish import publish_rows, read_predictions

    folder = tmp_path_factory.mktemp("batch")
    lines = (ROOT / "ml" / "data" / "imports-85.csv").read_text().splitlines()
    header = lines[0].split(",")
    unknown_optional = [header.index(c) for c in ("num-of-doors", "horsepower")]
    sample = [
        line for i, line in enumerate(lines[1:])
        if i % 6 == 0 or any(line.split(",")[c] == "?" for c in unknown_optional)
    ]
    for line in (lines[1], lines[100]):
        cells = line.split(",")
        cells[header.index("horsepower")] = "5000"
        sample.append(",".join(cells))
    (folder / "cars.csv").write_text("\n".join([lines[0], *sample]) + "\n")
    out = folder / "predictions.csv"
    score_file(model_dir, folder / "cars.csv", out)
    store = CosmosStore(app_settings(model_dir=model_dir, outbox_dir=out.parent, cosmos_endpoint=cosmos.endpoint))
    try:
        store.ensure_containers()
        report = publish_rows(store.upsert_batch_result, read_predictions(out))
    finally:
        store.close()
    return out, report


@pytest.fixture(scope="module")
def score_run(model_dir: Path) -> Iterator[Callable[[bytes], object]]:
    """The project's real score.py on the real model, as a FAKE Azure ML endpoint runs it."""
    from ml.scoring import score

    # Scoped to the requesting module: later tests in the same worker must not see an Azure ML model directory.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AZUREML_MODEL_DIR", str(model_dir))
        score.init()
        yield score.run


@pytest.fixture
def endpoint(score_run: Callable[[bytes], object]) -> Iterator[FakeAmlEndpoint]:
    """A FAKE Azure ML Kubernetes online endpoint (the Azure boundary) serving score_run."""
    with FakeAmlEndpoint(run=score_run) as fake:
        yield fake


@contextlib.contextmanager
def served(settings: Settings) -> Iterator[str]:
    """The app on uvicorn in a thread, on a free loopback port: its base URL, for a real browser."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not port_is_open(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
