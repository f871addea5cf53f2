"""A data set that is not the UCI cars, declared in one file and built by the tests (tests/ml/rentals.py), goes
through the same code: prep -> evaluate -> gate -> train -> ONNX -> score.py -> the batch contract."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import mlflow.sklearn
import numpy as np
import pytest

from ml.carprice import dataset as datasets
from ml.carprice import model as models
from ml.carprice.batch import output_columns, score_file
from ml.carprice.gate import read_metrics
from ml.carprice.prep import load_gold
from ml.carprice.pricer import Pricer
from ml.carprice.training import build_model_artifacts
from ml.scoring import score
from tests.ml.rentals import write_rentals
from tools.deploy import ml_gate

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
