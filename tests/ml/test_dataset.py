"""Data set declarations (ml/carprice/dataset.py): the shipped one, a broken one, the engineered expressions."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
import yaml

from ml.carprice import dataset as datasets
from ml.carprice.dataset import DatasetError
from ml.carprice.declaration import REFERENCE, reference_link
from tests.ml.rentals import DECLARATION

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, declaration: dict[str, Any]) -> Path:
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(declaration))
    return path


def _broken(**changes: Any) -> dict[str, Any]:
    declaration = copy.deepcopy(DECLARATION)
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        node = declaration
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    return declaration


def test_the_uci_declaration_is_the_default_and_the_only_place_naming_its_columns() -> None:
    ds = datasets.active()
    assert ds.name == "uci-automobile" and Path(ds.origin) == datasets.DEFAULT_DECLARATION
    assert ds.target.name == "price" and ds.spec.level_column == "make" and len(ds.features) == 25
    assert ds.by_name["engine_size"].source == "engine-size" and ds.by_name["make"].value_labels["bmw"] == "BMW"
    # No module outside the declaration names a UCI column.
    columns = {f'"{name}"' for name in ds.features if "_" in name or name in ("make", "horsepower")}
    for folder in ("ml/carprice", "ml/scoring"):
        for source in (ROOT / folder).rglob("*.py"):
            text = source.read_text()
            assert not [c for c in columns if c in text], source


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"columns__rooms__type": "count"}, r"columns.rooms.type: Input should be 'category', 'number'"),
        ({"columns__district__values": None}, r"columns.district.values: a category column lists its allowed"),
        ({"columns__floor_area__max": None}, r"columns.floor_area.max: a number column declares its range"),
        ({"columns__rooms__min": 12}, r"columns.rooms.max: 9 is not above min 12"),
        ({"columns__energy_class__numbers": {"Z": 9}}, r"columns.energy_class.numbers: Z not among"),
        ({"target__name": "rooms"}, r"target.name: 'rooms' is also declared as a column"),
        ({"level_column": "rooms"}, r"level_column: 'rooms' is not a category column"),
        ({"id": ["district", "rent"]}, r"id: 'rent' is not a declared column"),
        ({"colums": {}}, r"colums: Extra inputs are not permitted"),
        ({"engineered": {"per_station": "floor_area / minutes_to_station"}},
         r"engineered.per_station: divides by minutes_to_station, whose range 0 to 90 includes 0"),
        ({"engineered": {"log_walk": "log(minutes_to_station - 5)"}},
         r"engineered.log_walk: log of minutes_to_station - 5, whose range starts at -5"),
        ({"engineered": {"bad": "district * 2"}}, r"engineered.bad: 'district' is not a number column"),
        ({"engineered": {"bad": "__import__('os')"}}, r"engineered.bad: .* is not allowed"),
        ({"engineered": {"bad": "floor_area +"}}, r"engineered.bad: 'floor_area \+' is not an expression"),
        ({"target__name": "Rent"}, r"target.name: 'Rent' is not a lower-case name .* name the source header in "
                                   r"`source:` instead"),
        ({"columns__rooms__one_hot": {"one": "1 room", "two": "2 rooms"}},
         r"columns.rooms.one_hot: a category column's values -> their one-hot source headers"),
        ({"columns__district__one_hot": {"centre": "Centre", "north": "North"}},
         r"columns.district.one_hot: must name one source header for each of the column's values"),
    ],
)
def test_a_broken_declaration_fails_naming_the_file_and_the_key(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(DatasetError, match=r"^broken.yml: " + message) as raised:
        datasets.load(_write(tmp_path, _broken(**changes)))
    link = reference_link(raised.value.key or "")
    assert str(raised.value).endswith(f"(see {link})")  # where the reference describes the key
    headings = [line[3:].replace(" ", "-") for line in (ROOT / REFERENCE).read_text().splitlines()
                if line.startswith("## ")]
    assert link.split("#")[1] in headings


def test_an_unreadable_or_non_mapping_declaration_is_named(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="nowhere.yml: cannot read"):
        datasets.load(tmp_path / "nowhere.yml")
    (tmp_path / "list.yml").write_text("- a\n- b\n")
    with pytest.raises(DatasetError, match="list.yml: expected a mapping"):
        datasets.load(tmp_path / "list.yml")


def test_the_selected_declaration_comes_from_one_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _write(tmp_path, DECLARATION)
    monkeypatch.setenv(datasets.DATASET_ENV, str(path))
    assert datasets.active().name == "flat-rents"
    monkeypatch.delenv(datasets.DATASET_ENV)
    assert datasets.active().name == "uci-automobile"


def test_engineered_expressions_compute_the_declared_formulas() -> None:
    ds = datasets.from_mapping(DECLARATION, "rents.yml")
    names, inputs, compute = ds.engineered
    values = dict(zip(inputs, (60.0, 3.0, 4.0), strict=True))
    results = dict(zip(names, compute(*(values[n] for n in inputs)), strict=True))
    assert results == {"area_per_room": 20.0, "log_area": math.log(60.0), "energy_penalty": 4.0 * 60.0 / 100}


def test_rows_are_validated_by_the_declared_row_model() -> None:
    ds = datasets.from_mapping(DECLARATION, "rents.yml")
    ok = ds.parse_row({"district": "north", "floor_area": 55.5, "rooms": 2, "balcony": True})
    assert not isinstance(ok, list) and ok.energy_class is None  # optional fields stay optional
    errors = {e.field: e.reason for e in ds.parse_row({"district": "mars", "floor_area": "big", "rooms": 2.5,
                                                        "garden": True})}
    assert 'unknown value "mars"; allowed: centre, north' in errors["district"]
    assert errors["floor_area"] == "Input should be a valid number"
    assert "integer" in errors["rooms"] and errors["garden"].startswith("unknown field; allowed fields are district")
    assert ds.row_model.model_json_schema()["properties"]["floor_area"]["maximum"] == 300


def test_source_headers_and_one_hot_columns_map_to_the_declared_names() -> None:
    declaration = {**DECLARATION, "target": {**DECLARATION["target"], "source": "Rent (EUR)"},
                   "columns": {**DECLARATION["columns"],
                               "district": {"type": "category", "label": "District", "required": True,
                                            "one_hot": {"centre": "Centre", "north": "North"}}}}
    ds = datasets.from_mapping(declaration, "rents.yml")
    assert ds.allowed_values("district") == ("centre", "north")
    row = {"Rent (EUR)": "900", "Centre": "0", "North": "1", "Floor area (m2)": "50", "rooms": "2", "extra": "x"}
    values = ds.source_values(row)
    assert values["monthly_rent"] == "900" and values["district"] == "north" and values["floor_area"] == "50"
    assert "extra" not in values and values["balcony"] == ""
    assert ds.source_values(values) == values  # already mapped rows (bronze, feeds) map to themselves
    two = ds.parse_row({"district": ds.source_values({**row, "Centre": "1"})["district"], "floor_area": 50.0,
                        "rooms": 2})
    none = ds.parse_row({"floor_area": 50.0, "rooms": 2})
    assert [(e.field, e.reason) for e in two] == [
        ("district", "one value expected, got 2 (centre, north); a flat has one district")]
    assert [e.reason for e in none] == ["required field is missing (none of its one-hot columns Centre, North is set)"]


def test_the_declaration_reference_is_generated_from_the_models_and_linked_from_the_readme() -> None:
    from ml.carprice.reference import TARGET, render

    assert TARGET.read_text() == render(), "docs/dataset-reference.md is stale: run `make dataset-reference`"
    text = render()
    for key in ("one_hot", "source", "grouped_evaluation", "level_column", "max_strong_mae_ratio", "margin"):
        assert f"| `{key}` |" in text, key
    assert "docs/dataset-reference.md" in (ROOT / "README.md").read_text()
