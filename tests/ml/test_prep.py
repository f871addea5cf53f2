from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from contract import LAKE_LAYERS
from ml.carprice.dataset import Dataset, load
from ml.carprice.lake import Lake
from ml.carprice.prep import (
    DEFAULT_SOURCE,
    GOLD_TABLE,
    REJECTED_TABLE,
    TABLE,
    UNPRICED_TABLE,
    NothingToTrainOn,
    run_prep,
)
from ml.carprice.schema import FEATURES, TARGET
from tests.ml.rentals import write_rentals
from tools.local.emulators import AZURITE_ACCOUNT, AZURITE_KEY, Azurite


def test_prep_builds_bronze_silver_gold_from_the_uci_file(tmp_path: Path) -> None:
    report = run_prep(tmp_path)
    lake = Lake.at(tmp_path)
    bronze = lake.read("bronze", TABLE)
    assert len(bronze) == report.source_rows == 205
    assert {"ingested_at", "source", "line"} <= set(bronze.columns)
    assert (bronze["source"] == DEFAULT_SOURCE.name).all()
    assert report.unpriced == 4 and len(lake.read("silver", UNPRICED_TABLE)) == 4
    gold = lake.read("gold", GOLD_TABLE)
    assert len(gold) == report.gold_rows == 201
    assert list(gold.columns) == ["car_id", *FEATURES, TARGET]
    assert gold[TARGET].gt(0).all() and gold["car_id"].is_unique
    assert gold["normalized_losses"].isna().any()  # "?" became null, not a string


def test_rerunning_prep_changes_no_table(tmp_path: Path) -> None:
    run_prep(tmp_path)
    lake = Lake.at(tmp_path)
    versions = {layer_table: lake.version(*layer_table) for layer_table in
                [("bronze", TABLE), ("silver", TABLE), ("gold", GOLD_TABLE)]}
    again = run_prep(tmp_path)
    assert again.bronze_inserted == 0 and again.bronze_rows == 205
    assert {k: lake.version(*k) for k in versions} == versions
    assert len(lake.read("gold", GOLD_TABLE)) == 201


def test_duplicates_are_removed_and_impossible_values_rejected_with_a_reason(tmp_path: Path) -> None:
    lines = DEFAULT_SOURCE.read_text().splitlines()
    header, first = lines[0], lines[1]
    absurd = first.split(",")
    absurd[header.split(",").index("horsepower")] = "5000"
    source = tmp_path / "cars.csv"
    source.write_text("\n".join([header, first, first, ",".join(absurd)]) + "\n")
    report = run_prep(tmp_path / "lake", source=source)
    assert (report.duplicates_removed, report.rejected, report.silver_rows) == (1, 1, 1)
    rejected = Lake.at(tmp_path / "lake").read("silver", REJECTED_TABLE)
    errors = json.loads(rejected.loc[0, "errors"])
    assert errors[0]["field"] == "horsepower" and "400" in errors[0]["reason"]


def test_unknown_lake_layer_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bronze"):
        Lake.at(tmp_path).uri("platinum", TABLE)


@pytest.mark.slow
@pytest.mark.xdist_group("ml-azurite")
def test_prep_runs_against_azurite_blob_storage_with_layer_containers() -> None:
    with Azurite() as azurite:
        service = azurite.blob_service()
        for layer in LAKE_LAYERS:
            service.create_container(layer)
        options = {"account_name": AZURITE_ACCOUNT, "account_key": AZURITE_KEY,
                   "azure_storage_endpoint": azurite.blob_endpoint, "allow_http": "true"}
        report = run_prep("az://{layer}", storage_options=options)
        assert report.gold_rows == 201
        assert run_prep("az://{layer}", storage_options=options).bronze_inserted == 0
        gold_blobs = [b.name for b in service.get_container_client("gold").list_blobs()]
        assert any(name.startswith(f"{GOLD_TABLE}/_delta_log/") for name in gold_blobs)


def _rentals_with(tmp_path: Path, **changes: object) -> Dataset:
    """The test-built rentals (tests/ml/rentals.py) under a declaration changed by `changes` (dotted keys)."""
    path = write_rentals(tmp_path / "data")
    declaration = yaml.safe_load(path.read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = declaration
        for key in parents:
            node = node[key]
        node[last] = value
    path.write_text(yaml.safe_dump(declaration))
    return load(path)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # No target: the header the declaration names is not in the file.
        ({"target.source": "Rent"}, r"flat-rents.yml: target.source: prep set every row aside: 239 rows without a "
                                    r"target value, 1 rejected; expected a column 'Rent' in the source \(the file's "
                                  r"headers: listing_ref, district, Floor area \(m2\)"),
        # Wrong name: a required column's header is not in the file.
        ({"columns.floor_area.source": "Area (m2)"},
         r"flat-rents.yml: columns.floor_area.source: prep set every row aside: 240 rejected, 240 of them for "
         r"floor_area \(required field is missing\); expected a column 'Area \(m2\)' in the source; a number from "
         r"15 to 300"),
        # Every row invalid: a range no row fits.
        ({"columns.floor_area.max": 16},
         r"flat-rents.yml: columns.floor_area: prep set every row aside: 240 rejected, 240 of them for floor_area "
         r"\(Input should be less than or equal to 16\); expected a number from 15 to 16"),
    ],
)
def test_prep_that_sets_every_row_aside_stops_naming_the_file_the_key_and_what_was_expected(
        tmp_path: Path, changes: dict, message: str) -> None:
    dataset = _rentals_with(tmp_path, **changes)
    with pytest.raises(NothingToTrainOn, match=message) as raised:
        run_prep(tmp_path / "lake", dataset=dataset)
    assert "(see docs/dataset-reference.md#" in str(raised.value)
