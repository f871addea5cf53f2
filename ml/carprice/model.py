"""The candidate model and the baseline, as scikit-learn pipelines over the declared data set's columns.

Candidate: `RowEncoder` (ml/carprice/features.py: imputed numbers, the declared engineered features, the
level column's out-of-fold target level, one-hot categories) into a weighted average of gradient boosting on
the dense block and a ridge regression (alpha by inner leave-one-out CV, so nested) on everything, on
log(target) when the declaration says so — prices are multiplicative (a make's premium is a percentage), so
errors are more even across cheap and expensive rows. Every step after the encoder has an ONNX converter.

How the recipe was chosen: variants (engineered features, out-of-fold level, SVR, lasso, random forest,
stacking, tree counts and depths, vote weights) were compared on repeated 5-fold CV of the UCI cars with
fold seed 7; the platform-grouped variants (extra trees or not, vote weights, grouped inner folds for the
level, level smoothing) on seeds 1000-1009. Those seeds are listed as inspected in gate.yml; the figures
that decide use others (see the model card).
Baselines, on the same folds: Azure ML designer's automobile sample (ordinary least squares on the same
columns) and a random forest with scikit-learn's defaults (the strong baseline).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import GradientBoostingRegressor, RandomForestRegressor, VotingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ml.carprice import dataset as datasets
from ml.carprice import features
from ml.carprice.dataset import Dataset
from ml.carprice.features import MISSING

__all__ = ["MISSING", "MODELS", "SEED", "RowEncoder", "baseline", "candidate", "features_frame", "recipe",
           "strong_baseline", "target"]
SEED = 0
STRONG_TREES = 200
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-1, 3, 25))
VOTE_WEIGHTS = (1.0, 2.0)  # boosting, ridge: the linear part generalises best to cars unlike those trained on


def features_frame(rows: pd.DataFrame, dataset: Dataset | None = None) -> pd.DataFrame:
    """The model's input frame: declared columns in order, floats for numbers, strings for categories."""
    ds = dataset or datasets.active()
    frame = pd.DataFrame({name: rows.get(name) for name in ds.features}, index=rows.index)
    for name in ds.numeric:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in ds.categorical:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), MISSING)
    return frame.reset_index(drop=True)


def target(rows: pd.DataFrame, dataset: Dataset | None = None) -> np.ndarray:
    return rows[(dataset or datasets.active()).target.name].to_numpy(dtype="float64")


class RowEncoder(TransformerMixin, BaseEstimator):
    """scikit-learn face of ml.carprice.features: learns the encoding (medians, categories, target levels)
    and encodes a frame of rows. The declaration and the fitted state are plain dicts, so the MLflow model
    stays loadable with skops, and serving rebuilds the same encoding from the model card."""

    def __init__(self, declaration: dict | None = None, folds: int = 5) -> None:
        self.declaration = declaration
        self.folds = folds

    def _dataset(self) -> Dataset:
        return datasets.from_card(self.declaration) if self.declaration else datasets.active()

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> RowEncoder:
        self.encoding_ = features.learn(self._dataset(), _records(x), np.asarray(y, dtype="float64")).to_dict()
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        return features.encode(_records(x), features.Encoding.from_dict(self.encoding_, self._dataset()))

    def fit_transform(self, x: pd.DataFrame, y: np.ndarray | None = None, **_: object) -> np.ndarray:
        # The rows the models train on get their level from the other folds only: a level that includes
        # the row's own target would let the trees learn from the target itself.
        assert y is not None, "RowEncoder learns target levels from the target"
        targets = np.asarray(y, dtype="float64")
        self.fit(x, targets)
        records = _records(x)
        encoding = features.Encoding.from_dict(self.encoding_, self._dataset())
        column = encoding.dataset.spec.level_column
        if column is None:
            return features.encode(records, encoding)
        keys = [features.category(r.get(column)) for r in records]
        levels = np.empty(len(records))
        for train, test in KFold(self.folds, shuffle=True, random_state=SEED).split(records):
            fold_levels, overall = features.target_levels([keys[i] for i in train], targets[train])
            for i in test:
                levels[i] = fold_levels.get(keys[i], overall)
        return features.encode(records, encoding, levels)


def _records(x: pd.DataFrame) -> list[dict[str, object]]:
    return x.to_dict("records") if isinstance(x, pd.DataFrame) else list(x)


def _dense(estimator: object, width: int) -> Pipeline:
    """The estimator on the dense block only (numbers, engineered features, target level)."""
    return Pipeline([("dense", ColumnTransformer([("dense", "passthrough", list(range(width)))])),
                     ("model", estimator)])


def candidate(dataset: Dataset | None = None, n_estimators: int = 200, seed: int = SEED) -> TransformedTargetRegressor:
    ds = dataset or datasets.active()
    width = features.dense_width(ds)
    # No extra trees: they added nothing on plain folds (R² 0.9407 with, 0.9402 without, seeds 1000-1009) and
    # cost 0.009 of R² on unseen platforms (0.892 with, 0.9005 without): they memorise platforms.
    ensemble = VotingRegressor([
        ("boosting", _dense(GradientBoostingRegressor(
            n_estimators=n_estimators, learning_rate=0.07, max_depth=3, subsample=0.8, random_state=seed), width)),
        ("ridge", Pipeline([("scale", StandardScaler()), ("model", RidgeCV(alphas=RIDGE_ALPHAS))])),
    ], weights=np.array(VOTE_WEIGHTS))  # an array: the ONNX converter divides by weights.sum()
    pipeline = Pipeline([("encode", RowEncoder(ds.card())), ("ensemble", ensemble)])
    if not ds.target.log:
        return TransformedTargetRegressor(regressor=pipeline, check_inverse=False)
    return TransformedTargetRegressor(regressor=pipeline, func=np.log, inverse_func=np.exp, check_inverse=False)


def _columns(ds: Dataset) -> ColumnTransformer:
    return ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median", keep_empty_features=True), list(ds.numeric)),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(ds.categorical)),
    ])


def baseline(dataset: Dataset | None = None) -> Pipeline:
    # As the designer sample: one-hot categories, no scaling (ordinary least squares does not need it).
    return Pipeline([("prep", _columns(dataset or datasets.active())), ("linear", LinearRegression())])


def strong_baseline(dataset: Dataset | None = None) -> TransformedTargetRegressor | Pipeline:
    """A random forest with scikit-learn's defaults on the baseline's columns, on log(target) when declared:
    strong without tuning, so beating it means the recipe earns its complexity."""
    ds = dataset or datasets.active()
    forest = Pipeline([("prep", _columns(ds)),
                       ("forest", RandomForestRegressor(n_estimators=STRONG_TREES, random_state=SEED, n_jobs=1))])
    if not ds.target.log:
        return forest
    return TransformedTargetRegressor(regressor=forest, func=np.log, inverse_func=np.exp, check_inverse=False)


MODELS = {
    "candidate": "gradient boosting (weight 1) + ridge (weight 2) on the declared and engineered features",
    "baseline": "ordinary least squares on the declared columns (the Azure ML designer sample)",
    "strong_baseline": f"random forest ({STRONG_TREES} trees, scikit-learn defaults) on the declared columns",
}


def recipe(dataset: Dataset | None = None) -> str:
    """A digest of the three models' settings: figures computed with another recipe are stale."""
    ds = dataset or datasets.active()

    def plain(value: object) -> object:
        if isinstance(value, bool | int | float | str | type(None)):
            return value
        if isinstance(value, np.ndarray | list | tuple):
            return [plain(v) for v in value]
        return type(value).__name__

    settings = {name: {k: plain(v) for k, v in sorted(build(ds).get_params(deep=True).items())}
                for name, build in (("candidate", candidate), ("baseline", baseline),
                                    ("strong_baseline", strong_baseline))}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:12]
