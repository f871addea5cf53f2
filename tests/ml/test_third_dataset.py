"""A used-car data set as a newcomer brings one (tests/ml/usedcars.py: a `Price` target header, make and body as
one-hot columns) goes through `make train-quick DATASET= OUT= GATE= JOBS=` without touching the checkout, then
prep -> gate (both baselines, grouped folds) -> ONNX -> score.py -> batch -> the web app's API and form, which
take one make and refuse two or none."""

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
import yaml

from contract import SETTING_MODEL_DIR
from ml.carprice import dataset as datasets
from ml.carprice import model as models
from ml.carprice.batch import score_file
from ml.carprice.gate import read_metrics
from ml.carprice.lake import Lake
from ml.carprice.pricer import Pricer
from ml.scoring import score
from tests.ml.usedcars import MAKES, write_usedcars
from tools.deploy.ml import gate as ml_gate

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ml-usedcars")]
CAR = {"make": "saab", "body": "sedan", "mileage": 20000, "liter": 2.0, "cylinders": 4, "cruise": True,
       "leather": False}


def _checkout_files() -> dict[str, float]:
    """Every file under ml/ and the checkout's top level, with its modification time."""
    files = {str(p.relative_to(ROOT)): p.stat().st_mtime for p in (ROOT / "ml").rglob("*") if p.is_file()}
    return files | {p.name: p.stat().st_mtime for p in ROOT.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def usedcars(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("usedcars")
    declaration = write_usedcars(work / "data")
    gate = work / "data" / "test.gate.yml"
    gate.write_text(yaml.safe_dump({"r2_floor": {"value": 0.8, "why": "the test's gate file"}}))
    before = _checkout_files()
    # -o: the test runs in a set-up checkout; never let make decide to re-run the set-up from here.
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/.setup-stamp", "train-quick", f"DATASET={declaration}",
         f"OUT={work / 'out'}", f"GATE={gate}", "JOBS=2"],
        cwd=ROOT, capture_output=True, text=True, timeout=900, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {"dataset": datasets.load(declaration), "model": work / "out" / "model", "lake": work / "out" / "lake",
            "out": work / "out", "stdout": result.stdout, "checkout_changed": _checkout_files() != before}


def test_make_train_with_an_output_folder_writes_nothing_into_the_checkout(usedcars: dict) -> None:
    assert not usedcars["checkout_changed"]
    assert {p.name for p in usedcars["out"].iterdir()} == {"model", "lake", "mlruns"}
    metrics = read_metrics(usedcars["model"])
    assert metrics.gate.thresholds["r2_floor"] == 0.8  # from GATE=, over the default 0.0
    assert "seeds from 2000" in usedcars["stdout"]


def test_prep_reads_the_price_header_and_one_hot_columns_and_refuses_two_makes_or_none(usedcars: dict) -> None:
    dataset, lake = usedcars["dataset"], Lake.at(usedcars["lake"])
    gold = lake.read("gold", dataset.gold_table)
    assert list(gold.columns) == ["car_id", *dataset.features, "price"]
    assert len(gold) == 257  # 260 rows: two makes at once and no make are rejected, one has no price
    assert set(gold["make"]) == set(MAKES) and gold["price"].between(1000, 150000).all()
    rejected = lake.read("silver", f"{dataset.table}_rejected").sort_values("line")
    reasons = [json.loads(text)[0] for text in rejected["errors"]]
    assert [r["field"] for r in reasons] == ["make", "make"]
    assert reasons[0]["reason"] == "one value expected, got 2 (buick, cadillac); a car has one make"
    assert reasons[1]["reason"].startswith("required field is missing (none of its one-hot columns Buick, Cadillac")


def test_the_gate_compares_both_baselines_on_plain_and_grouped_folds(usedcars: dict) -> None:
    metrics = read_metrics(usedcars["model"])
    ev = metrics.evaluation
    assert metrics.gate.promoted and ml_gate.main([str(usedcars["model"] / "metrics.json")]) == 0
    assert ev.grouped is not None and ev.grouped.label == "make-body pair" and ev.grouped.groups == 30
    assert ev.strong_mae_ratio.mean < 1 and ev.grouped.strong_mae_ratio.mean < 1
    card = (usedcars["model"] / "model_card.md").read_text()
    assert "strong baseline (random forest)" in card and "Grouped by make-body pair" in card
    assert "split-to-split noise only" in card


def test_onnx_and_scikit_learn_agree(usedcars: dict) -> None:
    dataset = usedcars["dataset"]
    gold = Lake.at(usedcars["lake"]).read("gold", dataset.gold_table)
    pricer = Pricer.load(usedcars["model"])
    sklearn_prices = mlflow.sklearn.load_model(str(usedcars["model"] / "mlflow")).predict(
        models.features_frame(gold, dataset))
    rows = [pricer.parse_row({k: v for k, v in r.items() if v is not None and v == v})
            for r in gold[list(dataset.features)].to_dict("records")]
    onnx_prices = pricer.predict_raw(rows)
    assert np.all(np.abs(onnx_prices - sklearn_prices) <= 0.001 * sklearn_prices)


def test_score_py_and_batch_take_one_make(usedcars: dict, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(usedcars["out"]))
    score.init()
    body = score.run(json.dumps({"data": [CAR, {**CAR, "make": "cadillac"}, {**CAR, "make": ["saab", "buick"]},
                                          {k: v for k, v in CAR.items() if k != "make"}]}))
    saab, cadillac, two, none = body["predictions"]
    assert saab["low"] <= saab["price"] <= saab["high"] and cadillac["price"] > saab["price"]
    assert two["errors"] == [{"field": "make", "reason": "one value expected, got 2 (saab, buick); a car has one make"}]
    assert none["errors"][0]["field"] == "make" and "none of its one-hot columns" in none["errors"][0]["reason"]
    # Batch scoring reads the source file's own headers: Price, Mileage and the one-hot columns.
    out = tmp_path / "predictions.csv"
    assert score_file(usedcars["model"], usedcars["dataset"].source_path, out) == 260
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sum(1 for r in rows if r["price"]) == 258 and rows[0]["make"] in MAKES
    assert "one value expected, got 2" in rows[3]["error"] and "required field is missing" in rows[4]["error"]


APP_PROBE = """
import json, re, sys
from pathlib import Path
from fastapi.testclient import TestClient
from app.main import create_app
from tests.app.conftest import app_settings

model_dir, outbox, car = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3])
without_make = {k: v for k, v in car.items() if k != "make"}
with TestClient(create_app(app_settings(model_dir=model_dir, outbox_dir=outbox))) as client:
    answers = [client.post("/api/predictions", json=body) for body in
               (car, {**car, "make": ["saab", "buick"]}, without_make, {**without_make, "Saab": 1, "Buick": 1})]
    def form(pairs):
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
        return client.post("/", content="&".join(f"{k}={v}" for k, v in [*pairs, ("csrf_token", token)]),
                           headers={"content-type": "application/x-www-form-urlencoded"})
    fields = [(k, str(v).lower() if isinstance(v, bool) else v) for k, v in without_make.items()]
    two = form([("make", "saab"), ("make", "buick"), *fields])
    good = form([("make", "saab"), *fields])
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Car"]
    dashboard = client.get("/dashboard").text
print(json.dumps({"api": [[a.status_code, a.json()] for a in answers], "two": [two.status_code, two.text],
                  "good": [good.status_code, good.text], "schema": schema, "dashboard": dashboard}))
"""


def test_the_web_app_takes_one_make_and_refuses_two_or_none(usedcars: dict, tmp_path: Path) -> None:
    env = {**os.environ, SETTING_MODEL_DIR: str(usedcars["model"])}
    env.pop(datasets.DATASET_ENV, None)
    result = subprocess.run([sys.executable, "-c", APP_PROBE, str(usedcars["model"]), str(tmp_path), json.dumps(CAR)],
                            capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    (good, body), (two, two_body), (none, none_body), (one_hot, one_hot_body) = seen["api"]
    assert good == 201 and body["price_low"] <= body["price"] <= body["price_high"] and body["make"] == "saab"
    assert two == 422 and [e["field"] for e in two_body["errors"]] == ["make"]
    assert none == 422 and [e["field"] for e in none_body["errors"]] == ["make"]
    assert one_hot == 422 and {e["field"] for e in one_hot_body["errors"]} == {"make", "Saab", "Buick"}
    status, page = seen["two"]
    assert status == 422 and "one value expected, got 2 (saab, buick)" in page
    status, page = seen["good"]
    assert status == 200 and 'data-testid="result-model-version"' in page
    assert set(seen["schema"]["properties"]) == set(CAR) and seen["schema"]["properties"]["make"]["enum"] == list(MAKES)
    assert "unseen make-body pairs" in seen["dashboard"] and "MAE vs strong baseline" in seen["dashboard"]
