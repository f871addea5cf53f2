"""A data set that is not the UCI cars, declared in one file and built by the tests (tests/ml/rentals.py), goes
through the same code: prep -> evaluate -> gate -> train -> ONNX -> score.py -> batch -> the web app's API,
form and dashboard."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import mlflow.sklearn
import numpy as np
import pytest

from contract import SETTING_MODEL_DIR
from ml.carprice import dataset as datasets
from ml.carprice import model as models
from ml.carprice.batch import output_columns, score_file
from ml.carprice.gate import read_metrics
from ml.carprice.prep import load_gold
from ml.carprice.pricer import Pricer
from ml.carprice.training import build_model_artifacts
from ml.scoring import score
from tests.ml.rentals import write_rentals
from tools.deploy.ml import gate as ml_gate

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ml-rentals")]
FLAT = {"district": "centre", "floor_area": 72.5, "rooms": 3, "balcony": True, "energy_class": "C",
        "minutes_to_station": 6}


@pytest.fixture(scope="module")
def rentals(tmp_path_factory: pytest.TempPathFactory) -> tuple[datasets.Dataset, Path, Path]:
    work = tmp_path_factory.mktemp("rentals")
    dataset = datasets.load(write_rentals(work / "data"))
    model_dir = build_model_artifacts(work / "model", lake_root=work / "lake", quick=True, dataset=dataset,
                                      tracking_dir=work / "mlruns")
    return dataset, model_dir, work / "lake"


def test_prep_types_validates_and_sets_rows_aside_by_the_declaration(rentals) -> None:
    dataset, _, lake = rentals
    gold = load_gold(lake, dataset=dataset)
    assert list(gold.columns) == ["car_id", *dataset.features, "monthly_rent"]
    assert len(gold) == 238  # 240 rows, one without a rent, one with 0 rooms (rejected)
    assert gold["balcony"].dropna().isin([True, False]).all() and gold["energy_class"].isna().any()
    # Every row trained on is a row the served model accepts, optional gaps included.
    pricer = Pricer.load(rentals[1])
    records = gold[list(dataset.features)].to_dict("records")
    rows = [{k: v for k, v in r.items() if v is not None and v == v} for r in records]
    assert not [e for e in map(pricer.parse_row, rows) if isinstance(e, list)]


def test_the_gate_judged_it_and_the_pipeline_gate_reads_the_same_file(rentals) -> None:
    _, model_dir, _ = rentals
    metrics = read_metrics(model_dir)
    assert metrics.evaluation.dataset == "flat-rents" and metrics.gate.promoted
    assert metrics.evaluation.grouped is None  # no group figure declared
    assert ml_gate.main([str(model_dir / "metrics.json")]) == 0


def test_onnx_and_scikit_learn_agree_on_the_declared_features(rentals) -> None:
    dataset, model_dir, lake = rentals
    gold = load_gold(lake, dataset=dataset)
    pricer = Pricer.load(model_dir)
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["dataset"]["name"] == "flat-rents" and set(card["features"]) == set(dataset.features)
    frame = models.features_frame(gold, dataset)
    sklearn_prices = mlflow.sklearn.load_model(str(model_dir / "mlflow")).predict(frame)
    rows = [pricer.parse_row({k: v for k, v in r.items() if v is not None and v == v})
            for r in gold[list(dataset.features)].to_dict("records")]
    onnx_prices = pricer.predict_raw(rows)
    assert np.all(np.abs(onnx_prices - sklearn_prices) <= 0.001 * sklearn_prices)


def test_score_py_serves_the_declared_rows_and_names_bad_fields(rentals, monkeypatch: pytest.MonkeyPatch) -> None:
    _, model_dir, _ = rentals
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir.parent))
    score.init()
    body = score.run(json.dumps({"data": [FLAT, {"district": "south", "floor_area": 30, "rooms": 1},
                                          {**FLAT, "district": "mars", "rooms": 0}]}))
    big, small, bad = body["predictions"]
    assert big["low"] <= big["price"] <= big["high"] and big["price"] > 2 * small["price"]
    assert {e["field"] for e in bad["errors"]} == {"district", "rooms"}


def test_batch_scoring_reads_the_source_headers_and_writes_the_declared_columns(rentals, tmp_path: Path) -> None:
    dataset, model_dir, _ = rentals
    out = tmp_path / "predictions.csv"
    assert score_file(model_dir, dataset.source_path, out) == 240
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == output_columns(dataset)
    assert sum(1 for r in rows if r["price"]) == 239 and rows[6]["error"]  # the 0-room flat


# The web app validates with the schema of the model it serves, decided when ml.carprice.schema is first
# imported; so it runs in a fresh interpreter pointed at the rentals model (as App Service would run it).
APP_PROBE = """
import json, re, sys
from pathlib import Path
from fastapi.testclient import TestClient
from app.main import create_app
from tests.app.conftest import app_settings

model_dir, outbox, flat = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
with TestClient(create_app(app_settings(model_dir=model_dir, outbox_dir=outbox))) as client:
    good = client.post("/api/predictions", json=flat)
    bad = client.post("/api/predictions", json={**flat, "district": "mars", "floor_area": 1000})
    form = client.get("/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # the page's own form
    submitted = client.post("/", data={"district": "north", "floor_area": "48", "rooms": "2", "balcony": "true",
                                       "csrf_token": token})
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Flat"]
    dashboard = client.get("/dashboard")
print(json.dumps({"good": [good.status_code, good.json()], "bad": [bad.status_code, bad.json()],
                  "form": form.text, "submitted": [submitted.status_code, submitted.text],
                  "schema": schema, "dashboard": dashboard.text}))
"""


def test_the_web_app_serves_the_declared_api_and_form(rentals, tmp_path: Path) -> None:
    _, model_dir, _ = rentals
    env = {**os.environ, SETTING_MODEL_DIR: str(model_dir)}
    env.pop(datasets.DATASET_ENV, None)
    result = subprocess.run([sys.executable, "-c", APP_PROBE, str(model_dir), str(tmp_path), json.dumps(FLAT)],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    status, body = seen["good"]
    assert status == 201 and body["price_low"] <= body["price"] <= body["price_high"]
    assert body["make"] == "centre" and body["features"]["floor_area"] == 72.5  # partitioned by the level column
    status, body = seen["bad"]
    assert status == 422 and {e["field"] for e in body["errors"]} == {"district", "floor_area"}
    form = seen["form"]
    assert "Price a flat" in form and "Floor area" in form and "(m²)" in form and 'value="harbour"' in form
    assert "Balcony" in form and 'name="make"' not in form
    status, page = seen["submitted"]
    assert status == 200 and 'data-testid="result-model-version"' in page
    assert set(seen["schema"]["properties"]) == set(FLAT) and seen["schema"]["required"] == ["district",
                                                                                           "floor_area", "rooms"]
    assert 'data-testid="model-quality"' in seen["dashboard"] and "Predictions per district" in seen["dashboard"]
