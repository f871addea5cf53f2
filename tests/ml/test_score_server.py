"""Microsoft's own inference server (azmlinfsrv) running our score.py on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from ml.carprice.pricer import Pricer
from tests.ml.conftest import GOOD_CAR
from tools.local.inference_server import SCORE_SCRIPT, InferenceServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ml-model")]


@pytest.fixture(scope="module")
def server(model_dir: Path):
    # Azure sets AZUREML_MODEL_DIR to the folder *above* the registered model folder; mirror that.
    with InferenceServer(SCORE_SCRIPT, model_dir.parent) as running:
        yield running


def test_prices_real_rows_like_the_in_process_pricer(server: InferenceServer, model_dir: Path) -> None:
    response = httpx.post(server.score_url, json={"data": [GOOD_CAR]}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    pricer = Pricer.load(model_dir)
    assert body["model_version"] == pricer.model_version
    expected = pricer.predict([pricer_input()])[0]
    assert body["predictions"] == [{"price": expected.price, "low": expected.low, "high": expected.high}]


def pricer_input():
    from ml.carprice.schema import CarFeatures

    return CarFeatures.model_validate(GOOD_CAR)


def test_bad_rows_get_per_row_errors_next_to_good_rows(server: InferenceServer) -> None:
    rows = [
        GOOD_CAR,
        {**GOOD_CAR, "make": "tesla"},
        {**GOOD_CAR, "horsepower": -10},
        {**GOOD_CAR, "horsepower": 9000},
        {k: v for k, v in GOOD_CAR.items() if k != "curb_weight"},
        {**GOOD_CAR, "engine_size": "big"},
        "not a car",
    ]
    response = httpx.post(server.score_url, content=json.dumps(rows), timeout=10,
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    results = response.json()["predictions"]
    assert results[0]["price"] > 0
    fields = [[e["field"] for e in r["errors"]] for r in results[1:]]
    assert fields == [["make"], ["horsepower"], ["horsepower"], ["curb_weight"], ["engine_size"], ["(row)"]]
    assert all("price" not in r for r in results[1:])


def test_a_body_that_is_not_json_is_a_400_with_the_reason(server: InferenceServer) -> None:
    response = httpx.post(server.score_url, content=b"{not json", timeout=10,
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "not JSON" in response.json()["error"]
