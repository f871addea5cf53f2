"""One quick model per test run, shared by every xdist worker (built by the first, under a file lock)."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest

from ml.carprice.schema import CarFeatures
from ml.carprice.training import build_model_artifacts

GOOD_CAR = {
    "make": "toyota", "body_style": "sedan", "fuel_type": "gas", "aspiration": "std", "num_of_doors": "four",
    "drive_wheels": "fwd", "engine_size": 98, "horsepower": 70, "curb_weight": 2100, "city_mpg": 30,
    "highway_mpg": 37,
}


@pytest.fixture(scope="session")
def ml_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Under xdist, the parent of a worker's basetemp is this run's folder, common to all its workers.
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "ml-shared"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session")
def model_dir(ml_workdir: Path) -> Path:
    model = ml_workdir / "model"
    with (ml_workdir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (model / "model_card.json").is_file():
            build_model_artifacts(model, lake_root=ml_workdir / "lake", quick=True, tracking_dir=ml_workdir / "mlruns")
    return model


@pytest.fixture()
def good_car() -> CarFeatures:
    return CarFeatures.model_validate(GOOD_CAR)
