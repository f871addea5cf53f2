"""One quick model per test session (shared by every ML test via the `ml-model` xdist group)."""

from __future__ import annotations

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
    return tmp_path_factory.mktemp("ml")


@pytest.fixture(scope="session")
def model_dir(ml_workdir: Path) -> Path:
    return build_model_artifacts(ml_workdir / "model", lake_root=ml_workdir / "lake", quick=True,
                                 tracking_dir=ml_workdir / "mlruns")


@pytest.fixture()
def good_car() -> CarFeatures:
    return CarFeatures.model_validate(GOOD_CAR)
