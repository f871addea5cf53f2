"""Turn cars into the model's float matrix — the one encoding both training and serving run.

Why in plain Python and not in the ONNX graph: a graph with one input per field, string one-hot
encoders and imputers costs far more per request than the trees themselves. Here a car becomes one
row of floats (imputed numbers, engineered ratios and logs, one-hot categories, the make's learned
price level) in a few microseconds, and the ONNX graph is just the trees on a single float tensor.

The learned state (`Encoding`) is plain JSON, saved in the model card, so the serving side needs only
this module and numpy. Training and serving call the same `encode_row`, so both compute bit-identical
floats and the ONNX trees take the same splits as the scikit-learn ones.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ml.carprice.schema import CATEGORICAL_FEATURES, NUMERIC_FEATURES

MISSING = "missing"  # the category an absent optional categorical value becomes
CYLINDERS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "twelve": 12}
DEFAULT_CYLINDERS = 4  # the data set's most common engine, for a car without the field
# Engineered features: ratios and logs trees cannot build from raw splits, and that make the
# log-price linear part of the ensemble nearly additive.
ENGINEERED = (
    "log_engine_size", "log_horsepower", "log_curb_weight", "log_length", "log_width", "log_wheel_base",
    "power_to_weight", "displacement_per_cylinder", "horsepower_per_displacement", "gallons_per_100_city_miles",
    "gallons_per_100_highway_miles", "footprint", "weight_per_footprint", "cylinders",
)
MAKE_LEVEL = "make_log_price_level"
# The first columns (numbers, engineered, make level) are the dense block the tree models use; the
# one-hot block after it is only for the linear model (trees split worse on many sparse columns here).
DENSE_WIDTH = len(NUMERIC_FEATURES) + len(ENGINEERED) + 1
SMOOTHING = 5.0  # cars' worth of weight the overall mean gets when a make has few cars


_NUMERIC_INDEX = {name: i for i, name in enumerate(NUMERIC_FEATURES)}


def _fields(car: Any) -> Mapping[str, Any]:
    # A pydantic model keeps its field values in __dict__: reading it directly is the cheap path.
    return car if isinstance(car, Mapping) else car.__dict__


def category(value: Any) -> str:
    if value is None or value != value:  # None, or NaN from a pandas frame
        return MISSING
    return str(value)


@dataclass
class Encoding:
    """What encoding learned from the training rows (JSON-serialisable)."""

    medians: dict[str, float]
    categories: dict[str, list[str]]
    make_levels: dict[str, float]
    overall_level: float

    def __post_init__(self) -> None:
        self._numeric_defaults = [(name, self.medians[name]) for name in NUMERIC_FEATURES]
        position = 0
        self._onehot_tables: list[tuple[str, dict[str, int]]] = []
        for name in CATEGORICAL_FEATURES:
            table = {}
            for value in self.categories[name]:
                table[value] = position
                position += 1
            self._onehot_tables.append((name, table))
        self.onehot_width = position
        self.width = DENSE_WIDTH + position

    def feature_names(self) -> list[str]:
        onehot = [f"{n}={v}" for n in CATEGORICAL_FEATURES for v in self.categories[n]]
        return [*NUMERIC_FEATURES, *ENGINEERED, MAKE_LEVEL, *onehot]

    def to_dict(self) -> dict[str, Any]:
        return {"medians": self.medians, "categories": self.categories, "make_levels": self.make_levels,
                "overall_level": self.overall_level}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Encoding:
        return cls({k: float(v) for k, v in data["medians"].items()},
                   {k: list(v) for k, v in data["categories"].items()},
                   {k: float(v) for k, v in data["make_levels"].items()}, float(data["overall_level"]))


def make_levels(makes: Sequence[str], log_prices: np.ndarray) -> tuple[dict[str, float], float]:
    """Each make's mean log price, shrunk towards the overall mean when the make has few cars."""
    overall = float(np.mean(log_prices))
    totals: dict[str, list[float]] = {}
    for make, value in zip(makes, log_prices, strict=True):
        totals.setdefault(make, []).append(float(value))
    levels = {m: (sum(v) + SMOOTHING * overall) / (len(v) + SMOOTHING) for m, v in totals.items()}
    return levels, overall


def learn(cars: Sequence[Any], log_prices: np.ndarray) -> Encoding:
    rows = [_fields(c) for c in cars]
    medians = {}
    for name in NUMERIC_FEATURES:
        values = [float(v) for v in (r.get(name) for r in rows) if v is not None and v == v]
        # 1.0 for a column training never saw: a positive number keeps the logs and ratios finite.
        medians[name] = float(np.median(values)) if values else 1.0
    categories = {name: sorted({category(r.get(name)) for r in rows}) for name in CATEGORICAL_FEATURES}
    levels, overall = make_levels([category(r.get("make")) for r in rows], np.asarray(log_prices))
    return Encoding(medians, categories, levels, overall)


def encode_row(car: Any, encoding: Encoding, make_level: float | None = None) -> list[float]:
    """One car (a CarFeatures, a dict or a pandas record) as the model's floats. `make_level` overrides the
    learned level (training passes an out-of-fold level so the trees do not learn from a leaked target).
    Written as plain Python on purpose: for one car this is several times faster than numpy."""
    values = _fields(car)
    row: list[float] = []
    for name, median in encoding._numeric_defaults:
        value = values.get(name)
        row.append(median if value is None or value != value else float(value))
    i = _NUMERIC_INDEX
    engine, power, weight = row[i["engine_size"]], row[i["horsepower"]], row[i["curb_weight"]]
    length, width, wheel_base = row[i["length"]], row[i["width"]], row[i["wheel_base"]]
    cylinders = CYLINDERS.get(category(values.get("num_of_cylinders")), DEFAULT_CYLINDERS)
    footprint = length * width
    row += [
        math.log(engine), math.log(power), math.log(weight), math.log(length), math.log(width),
        math.log(wheel_base), power / weight * 1000.0, engine / cylinders, power / engine,
        100.0 / row[i["city_mpg"]], 100.0 / row[i["highway_mpg"]], footprint, weight / footprint, float(cylinders),
    ]
    if make_level is None:
        make_level = encoding.make_levels.get(category(values.get("make")), encoding.overall_level)
    row.append(make_level)
    onehot = [0.0] * encoding.onehot_width
    for name, table in encoding._onehot_tables:
        position = table.get(category(values.get(name)))
        if position is not None:  # an unseen category is all zeros, like OneHotEncoder(handle_unknown="ignore")
            onehot[position] = 1.0
    return row + onehot


def encode(cars: Iterable[Any], encoding: Encoding, make_levels_override: Sequence[float] | None = None
           ) -> np.ndarray:
    rows = [encode_row(car, encoding, None if make_levels_override is None else make_levels_override[i])
            for i, car in enumerate(cars)]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), encoding.width)
