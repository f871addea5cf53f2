"""The input schema of the served data set, for the deployables that import it (the web app, the function
app): one row model, so a bad row gets the same error as in training, online and batch scoring. Nothing here
names a column: the declaration does (ml/carprice/dataset.py).

Which declaration: CARPRICE_DATASET when set; else the one in the model card of the model the deployable
serves (CARPRICE_MODEL_DIR, or the `model/` folder a package ships at its root), so a packaged app
validates exactly what its model was trained on; else the selected declaration file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from contract import SETTING_MODEL_DIR
from ml.carprice.dataset import DATASET_ENV, Dataset, RowError, active, from_card

PACKAGED_MODEL_DIR = Path(__file__).resolve().parents[2] / "model"  # app and function packages ship it here


def served_dataset() -> Dataset:
    if not os.environ.get(DATASET_ENV):
        configured = os.environ.get(SETTING_MODEL_DIR)
        for folder in ([Path(configured)] if configured else []) + [PACKAGED_MODEL_DIR]:
            card = folder / "model_card.json"
            if card.is_file():
                return from_card(json.loads(card.read_text(encoding="utf-8"))["dataset"])
    return active()

__all__ = ["CATEGORICAL_FEATURES", "DATASET", "FEATURES", "LEVEL_COLUMN", "NUMERIC_FEATURES", "REQUIRED_FEATURES",
           "TARGET", "CarFeatures", "Dataset", "LevelValue", "Row", "RowError", "allowed_values",
           "parse_row", "partition_of", "row_errors", "served_dataset"]

DATASET: Dataset = served_dataset()
Row: type[BaseModel] = DATASET.row_model
CarFeatures = Row  # the name the web app imports; it is the selected data set's row model
FEATURES: tuple[str, ...] = DATASET.features
REQUIRED_FEATURES: tuple[str, ...] = DATASET.required
CATEGORICAL_FEATURES: tuple[str, ...] = DATASET.categorical
NUMERIC_FEATURES: tuple[str, ...] = DATASET.numeric
INTEGER_FEATURES: tuple[str, ...] = tuple(c.name for c in DATASET.columns if c.type == "integer")
TARGET: str = DATASET.target.name
# The values of the column the model learns a level for (the web app filters its history by it).
LEVEL_COLUMN: str | None = DATASET.spec.level_column
LevelValue: Any = Literal[DATASET.allowed_values(LEVEL_COLUMN)] if LEVEL_COLUMN else str  # type: ignore[valid-type]


def partition_of(row: BaseModel) -> str:
    """The value a stored record is partitioned and filtered by: the level column's (the whole data set's
    name when it declares none)."""
    return str(getattr(row, LEVEL_COLUMN)) if LEVEL_COLUMN else DATASET.name


def allowed_values(feature: str) -> tuple[str, ...]:
    """The values a category column accepts (for dropdowns and error messages)."""
    return DATASET.allowed_values(feature)


def row_errors(error: ValidationError) -> list[RowError]:
    return DATASET.row_errors(error)


def parse_row(raw: Any) -> BaseModel | list[RowError]:
    """Validate one row; return the row or the list of per-field errors (never raises for bad data)."""
    return DATASET.parse_row(raw)
