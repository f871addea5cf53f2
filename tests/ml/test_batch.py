from __future__ import annotations

import csv
import json
from datetime import datetime
from pathlib import Path

import pytest

from ml.carprice.batch import output_columns, score_file
from ml.carprice.prep import DEFAULT_SOURCE
from ml.carprice.schema import DATASET
from ml.scoring import batch_driver

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("ml-model")]


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_scoring_the_uci_file_writes_the_predictions_contract(model_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"
    assert score_file(model_dir, DEFAULT_SOURCE, out) == 205
    rows = _read(out)
    assert tuple(rows[0]) == output_columns(DATASET)
    priced = [r for r in rows if r["price"]]
    assert len(priced) == 205  # rows without horsepower or a door count are priced: both fields are optional
    assert all(float(r["price_low"]) <= float(r["price"]) <= float(r["price_high"]) for r in priced)
    assert datetime.fromisoformat(rows[0]["scored_at"]).utcoffset().total_seconds() == 0
    again = tmp_path / "again.csv"
    score_file(model_dir, DEFAULT_SOURCE, again)
    assert [r["car_id"] for r in _read(again)] == [r["car_id"] for r in rows]  # ids are stable


def test_bad_rows_get_errors_and_no_price(model_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "cars.csv"
    source.write_text(
        "make,body-style,fuel-type,aspiration,num-of-doors,drive-wheels,engine-size,horsepower,curb-weight,"
        "city-mpg,highway-mpg\n"
        "tesla,sedan,gas,std,four,fwd,98,70,2100,30,37\n"
        "toyota,sedan,gas,std,four,fwd,98,-5,2100,30,37\n"
        "toyota,sedan,gas,std,four,fwd,98,lots,2100,30,\n"
    )
    rows = _read_scored(model_dir, source, tmp_path / "out.csv")
    assert all(r["price"] == "" for r in rows)
    errors = [{e["field"]: e["reason"] for e in json.loads(r["error"])} for r in rows]
    assert 'unknown value "tesla"' in errors[0]["make"]
    assert "greater than or equal to 30" in errors[1]["horsepower"]
    assert errors[2]["horsepower"] == "Input should be a valid number"
    assert errors[2]["highway_mpg"] == "required field is missing"


def _read_scored(model_dir: Path, source: Path, out: Path) -> list[dict[str, str]]:
    score_file(model_dir, source, out)
    return _read(out)


def test_batch_endpoint_driver_writes_one_predictions_file_per_input(model_dir: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(model_dir.parent))  # Azure: the model folder is one level down
    monkeypatch.setenv(batch_driver.OUTPUT_ENV, str(tmp_path))
    batch_driver.init()
    summary = batch_driver.run([str(DEFAULT_SOURCE)])
    assert summary and "205 rows" in summary[0]
    assert len(_read(tmp_path / DEFAULT_SOURCE.stem / "predictions.csv")) == 205
