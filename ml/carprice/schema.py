"""The input schema of the served data set, for the deployables that import it (the web app, the function
app): one row model, so a bad row gets the same error as in training, online and batch scoring. Nothing here
names a column: the declaration does (ml/carprice/dataset.py).

Which declaration (`served_dataset`): CARPRICE_DATASET when set; else the one in the model card of the model
the deployable serves, so a packaged app validates exactly what its model was trained on; else the selected
declaration file. Nothing is read at import: a composition root (app.main.create_app, the function app's
Runtime) calls `served_dataset(model_dir)` and passes the Dataset down. The module-level names (DATASET,
CarFeatures, FEATURES, ...) resolve on first use, for the ML project's code and tests.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from contract import SETTING_MODEL_DIR
from ml.carprice.dataset import DATASET_ENV, Dataset, RowError, active, from_card

PACKAGED_MODEL_DIR = Path(__file__).resolve().parents[2] / "model"  # app and function packages ship it here

# Resolved on first use (module __getattr__): DATASET, Row, CarFeatures, FEATURES, REQUIRED_FEATURES,
# CATEGORICAL_FEATURES, NUMERIC_FEATURES, INTEGER_FEATURES, TARGET, LEVEL_COLUMN, LevelValue.
__all__ = ["Dataset", "RowError", "allowed_values", "level_value_type", "parse_row", "partition_of", "row_errors",
           "served_dataset"]


def served_dataset(model_dir: Path | None = None) -> Dataset:
    """The data set a deployable serving the model in `model_dir` validates (CARPRICE_MODEL_DIR, then the
    packaged model/ folder, when no folder is given)."""
    if os.environ.get(DATASET_ENV):
        return active()
    if model_dir is None:
        configured = os.environ.get(SETTING_MODEL_DIR)
        folders = ([Path(configured)] if configured else []) + [PACKAGED_MODEL_DIR]
    else:
        folders = [Path(model_dir)]
    for folder in folders:
        card = folder / "model_card.json"
        if card.is_file():
            return from_card(json.loads(card.read_text(encoding="utf-8"))["dataset"])
    return active()


def level_value_type(dataset: Dataset) -> Any:
    """The type of the level column's values (a Literal of them), for request parameters that filter by it."""
    level = dataset.spec.level_column
    return Literal[dataset.allowed_values(level)] if level else str  # type: ignore[valid-type]


@cache
def _default() -> Dataset:
    return served_dataset()


_DERIVED = {
    "DATASET": lambda d: d,
    "Row": lambda d: d.row_model,
    "CarFeatures": lambda d: d.row_model,  # the name the web app imports; the served data set's row model
    "FEATURES": lambda d: d.features,
    "REQUIRED_FEATURES": lambda d: d.required,
    "CATEGORICAL_FEATURES": lambda d: d.categorical,
    "NUMERIC_FEATURES": lambda d: d.numeric,
    "INTEGER_FEATURES": lambda d: tuple(c.name for c in d.columns if c.type == "integer"),
    "TARGET": lambda d: d.target.name,
    # The column the model learns a level for (the web app filters its history by it).
    "LEVEL_COLUMN": lambda d: d.spec.level_column,
    "LevelValue": level_value_type,
}


def __getattr__(name: str) -> Any:
    if name in _DERIVED:
        return _DERIVED[name](_default())
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def partition_of(row: BaseModel, dataset: Dataset | None = None) -> str:
    """The value a stored record is partitioned and filtered by: the level column's (the whole data set's
    name when it declares none)."""
    dataset = dataset or _default()
    level = dataset.spec.level_column
    return str(getattr(row, level)) if level else dataset.name


def allowed_values(feature: str, dataset: Dataset | None = None) -> tuple[str, ...]:
    """The values a category column accepts (for dropdowns and error messages)."""
    return (dataset or _default()).allowed_values(feature)


def row_errors(error: ValidationError, dataset: Dataset | None = None) -> list[RowError]:
    return (dataset or _default()).row_errors(error)


def parse_row(raw: Any, dataset: Dataset | None = None) -> BaseModel | list[RowError]:
    """Validate one row; return the row or the list of per-field errors (never raises for bad data)."""
    return (dataset or _default()).parse_row(raw)
