from __future__ import annotations

import json
from pathlib import Path

import mlflow.sklearn
import numpy as np
import pandas as pd
import pytest

from contract import ML_MODEL_NAME
from ml.carprice import dataset as datasets
from ml.carprice import model as models
from ml.carprice.export import SKOPS_TRUSTED_TYPES
from ml.carprice.gate import load_config, read_metrics
from ml.carprice.lake import Lake
from ml.carprice.prep import GOLD_TABLE
from ml.carprice.pricer import Pricer
from ml.carprice.schema import FEATURES, CarFeatures, parse_row

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ml-model")]


def test_model_dir_holds_onnx_card_and_mlflow_model(model_dir: Path) -> None:
    assert (model_dir / "model.onnx").stat().st_size > 0
    assert (model_dir / "mlflow" / "MLmodel").exists()
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["model_name"] == ML_MODEL_NAME
    assert set(card["features"]) == set(FEATURES)
    assert "toyota" in card["features"]["make"]["allowed"]
    assert card["features"]["horsepower"]["min"] == 30 and card["features"]["horsepower"]["max"] == 400
    assert card["dataset"]["name"] == "uci-automobile"
    assert card["price_interval"]["ratio_low"] < 1 < card["price_interval"]["ratio_high"]


def test_the_model_folder_carries_the_gates_metrics_file_with_spread_and_intervals(model_dir: Path) -> None:
    metrics = read_metrics(model_dir)
    ev, config = metrics.evaluation, load_config(dataset=datasets.active())
    assert metrics.gate.promoted and ev.cv.quick and ev.cv.repeats == config.value("quick_repeats")
    assert ev.mae_ratio.high <= config.value("max_mae_ratio") and ev.candidate.r2.low >= config.value("r2_floor")
    assert ev.strong_mae_ratio.high <= config.value("max_strong_mae_ratio")
    assert ev.grouped is not None and ev.grouped.label == "platform"
    for figure in (ev.candidate.mae, ev.candidate.r2, ev.baseline.mae, ev.strong_baseline.mae, ev.mae_ratio,
                   ev.strong_mae_ratio, ev.grouped.candidate.r2, ev.grouped.strong_mae_ratio):
        assert len(figure.repeats) == ev.cv.repeats and figure.std > 0 and figure.low < figure.mean < figure.high
    assert ev.grouped.candidate.r2.mean < ev.candidate.r2.mean  # unseen platforms are harder
    # The deciding seeds are none of those inspected while choosing the recipe.
    assert not [s for s in ev.cv.seeds if any(a <= s <= b for a, b in ev.cv.inspected_seeds)]
    card = json.loads((model_dir / "model_card.json").read_text())
    assert card["evaluation"] == json.loads(ev.model_dump_json()) and card["gate"]["promoted"] is True
    assert "split-to-split noise only" in card["notes"]["intervals"]


def test_the_model_card_shows_plain_and_grouped_figures_against_both_baselines(model_dir: Path) -> None:
    text = (model_dir / "model_card.md").read_text()
    plain, grouped = text.split("Grouped by platform (make, wheel_base, engine_size;")
    for part in (plain, grouped):
        for row in ("| candidate |", "| linear baseline (OLS) |", "| strong baseline (random forest) |",
                    "| MAE ratio to OLS |", "| MAE ratio to the forest |"):
            assert row in part, row
    assert "Gate: promoted." in grouped and "split-to-split noise only" in grouped


def test_onnx_and_mlflow_models_predict_the_same_prices(model_dir: Path, ml_workdir: Path) -> None:
    gold = Lake.at(ml_workdir / "lake").read("gold", GOLD_TABLE)
    parsed = [parse_row({k: v for k, v in row.items() if not pd.isna(v)})
              for row in gold[list(FEATURES)].to_dict("records")]
    scorable = [i for i, car in enumerate(parsed) if isinstance(car, CarFeatures)]
    assert len(scorable) == len(gold) == 201  # every car trained on is a car the API accepts
    frame = models.features_frame(gold.iloc[scorable])
    sklearn_prices = mlflow.sklearn.load_model(str(model_dir / "mlflow")).predict(frame)
    onnx_prices = Pricer.load(model_dir).predict_raw([parsed[i] for i in scorable])
    gap = np.abs(onnx_prices - sklearn_prices)
    assert np.all((gap <= 1.0) | (gap <= 0.001 * sklearn_prices))


def test_mlflow_model_is_skops_with_only_the_listed_types_trusted(model_dir: Path) -> None:
    import skops.io
    import yaml

    flavor = yaml.safe_load((model_dir / "mlflow" / "MLmodel").read_text())["flavors"]["sklearn"]
    assert flavor["serialization_format"] == "skops"
    assert flavor["skops_trusted_types"] == list(SKOPS_TRUSTED_TYPES)
    model_file = model_dir / "mlflow" / flavor["pickled_model"]
    # Everything the file holds beyond scikit-learn's defaults is on the list; nothing else would load.
    assert set(skops.io.get_untrusted_types(file=model_file)) == set(SKOPS_TRUSTED_TYPES)
    assert (model_dir / "mlflow" / "code" / "ml" / "carprice" / "features.py").exists()  # CarEncoder ships along


def test_mlflow_run_records_both_models_metrics(model_dir: Path, ml_workdir: Path) -> None:
    metric_files = {p.name for p in (ml_workdir / "mlruns").rglob("metrics/*")}
    assert {"candidate_mae", "baseline_mae", "candidate_r2", "baseline_rmse", "mae_ratio", "strong_baseline_mae",
            "strong_mae_ratio", "grouped_candidate_r2"} <= metric_files
