"""Turn rows into the model's float matrix — the one encoding both training and serving run.

Why in plain Python and not in the ONNX graph: a graph with one input per field, string one-hot encoders
and imputers costs far more per request than the trees themselves. Here a row becomes floats (imputed
numbers, the declared engineered features, the level column's learned target level, one-hot categories)
in a few microseconds, and the ONNX graph is just the models on a single float tensor.

What is encoded comes from the data set's declaration (ml/carprice/dataset.py); what was learned
(`Encoding`) is plain JSON saved in the model card, so serving needs only this module and numpy. Training
and serving call the same `encode_row`, so both compute bit-identical floats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ml.carprice.dataset import Dataset

MISSING = "missing"  # the category an absent optional category value becomes
SMOOTHING = 5.0  # rows' worth of weight the overall mean gets when a level value has few rows


def _fields(row: Any) -> Mapping[str, Any]:
    # A pydantic model keeps its field values in __dict__: reading it directly is the cheap path.
    return row if isinstance(row, Mapping) else row.__dict__


def category(value: Any) -> str:
    if value is None or value != value:  # None, or NaN from a pandas frame
        return MISSING
    return str(value)


def level_feature(dataset: Dataset) -> str | None:
    column = dataset.spec.level_column
    return f"{column}_target_level" if column else None


def dense_width(dataset: Dataset) -> int:
    """The first columns (numbers, engineered, level) are the dense block the tree models use; the one-hot
    block after it is only for the linear model (trees split worse on many sparse columns)."""
    return len(dataset.numeric) + len(dataset.engineered[0]) + (1 if dataset.spec.level_column else 0)


@dataclass
class Encoding:
    """What encoding learned from the training rows (JSON-serialisable apart from the data set)."""

    dataset: Dataset
    medians: dict[str, float]  # number columns, and category columns that declare numbers
    categories: dict[str, list[str]]
    levels: dict[str, float]
    overall_level: float
    width: int = field(init=False)

    def __post_init__(self) -> None:
        ds = self.dataset
        self._numeric = [(name, self.medians[name]) for name in ds.numeric]
        position = {name: i for i, name in enumerate(ds.numeric)}
        _, inputs, self._engineered = ds.engineered
        # An expression input is a number column (its imputed value) or a category column's declared number.
        self._inputs = [(position.get(name), name, ds.by_name[name].numbers, self.medians.get(name, 0.0))
                        for name in inputs]
        self._level_column = ds.spec.level_column
        start = 0
        self._onehot_tables: list[tuple[str, dict[str, int]]] = []
        for name in ds.categorical:
            table = {value: start + i for i, value in enumerate(self.categories[name])}
            start += len(table)
            self._onehot_tables.append((name, table))
        self.onehot_width = start
        self.dense_width = dense_width(ds)
        self.width = self.dense_width + start

    def feature_names(self) -> list[str]:
        ds = self.dataset
        level = level_feature(ds)
        onehot = [f"{n}={v}" for n in ds.categorical for v in self.categories[n]]
        return [*ds.numeric, *ds.engineered[0], *([level] if level else []), *onehot]

    def to_dict(self) -> dict[str, Any]:
        return {"medians": self.medians, "categories": self.categories, "levels": self.levels,
                "overall_level": self.overall_level}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], dataset: Dataset) -> Encoding:
        return cls(dataset, {k: float(v) for k, v in data["medians"].items()},
                   {k: list(v) for k, v in data["categories"].items()},
                   {k: float(v) for k, v in data["levels"].items()}, float(data["overall_level"]))


def target_levels(values: Sequence[str], targets: np.ndarray) -> tuple[dict[str, float], float]:
    """Each value's mean (transformed) target, shrunk towards the overall mean when it has few rows."""
    overall = float(np.mean(targets))
    totals: dict[str, list[float]] = {}
    for value, target in zip(values, targets, strict=True):
        totals.setdefault(value, []).append(float(target))
    levels = {v: (sum(t) + SMOOTHING * overall) / (len(t) + SMOOTHING) for v, t in totals.items()}
    return levels, overall


def learn(dataset: Dataset, rows: Sequence[Any], targets: np.ndarray) -> Encoding:
    records = [_fields(r) for r in rows]
    medians = {}
    for name in dataset.numeric:
        values = [float(v) for v in (r.get(name) for r in records) if v is not None and v == v]
        # 1.0 for a column training never saw: a positive number keeps logs and ratios finite.
        medians[name] = float(np.median(values)) if values else 1.0
    for column in dataset.columns:
        if column.numbers:
            known = [column.numbers[c] for c in (category(r.get(column.name)) for r in records) if c in column.numbers]
            medians[column.name] = float(np.median(known)) if known else float(np.median(list(column.numbers.values())))
    categories = {name: sorted({category(r.get(name)) for r in records}) for name in dataset.categorical}
    level_column = dataset.spec.level_column
    keys = [category(r.get(level_column)) for r in records] if level_column else ["" for _ in records]
    levels, overall = target_levels(keys, np.asarray(targets))
    return Encoding(dataset, medians, categories, levels if level_column else {}, overall)


def encode_row(row: Any, encoding: Encoding, level: float | None = None) -> list[float]:
    """One row (a validated row model, a dict or a pandas record) as the model's floats. `level` overrides the
    learned level (training passes an out-of-fold level so the trees do not learn from a leaked target).
    Plain Python on purpose: for one row this is several times faster than numpy."""
    values = _fields(row)
    out = [median if (v := values.get(name)) is None or v != v else float(v) for name, median in encoding._numeric]
    # A str is the common case for a category: look it up directly (category() only for None, NaN, others).
    arguments = [out[index] if index is not None
                 else numbers.get(v if (v := values.get(name)).__class__ is str else category(v), median)
                 for index, name, numbers, median in encoding._inputs]
    out += encoding._engineered(*arguments)
    if encoding._level_column is not None:
        if level is None:
            v = values.get(encoding._level_column)
            level = encoding.levels.get(v if v.__class__ is str else category(v), encoding.overall_level)
        out.append(level)
    onehot = [0.0] * encoding.onehot_width
    for name, table in encoding._onehot_tables:
        v = values.get(name)
        position = table.get(v if v.__class__ is str else category(v))
        if position is not None:  # an unseen category is all zeros, like OneHotEncoder(handle_unknown="ignore")
            onehot[position] = 1.0
    return out + onehot


def encode(rows: Iterable[Any], encoding: Encoding,
           levels_override: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    encoded = [encode_row(row, encoding, None if levels_override is None else levels_override[i])
               for i, row in enumerate(rows)]
    return np.asarray(encoded, dtype=np.float64).reshape(len(encoded), encoding.width)
