"""The candidate model and the baseline, as scikit-learn pipelines over the schema's raw columns.

Candidate: `CarEncoder` (ml/carprice/features.py: imputed numbers, engineered ratios and logs, the
make's out-of-fold price level, one-hot categories) into a weighted average of gradient boosting and
extra trees on the dense block and a ridge regression (alpha by inner leave-one-out CV) on everything,
all on log(price) — car prices are multiplicative (a make's premium is a percentage), so errors are
more even across cheap and expensive cars. Every step after the encoder has an ONNX converter.

How the recipe was chosen: candidates (engineered features, out-of-fold make level, SVR, lasso, random
forest, stacking, tree counts and depths, vote weights) were compared on 3x repeated 5-fold CV with a
different fold seed (7) from the reported one (SEED 0), so the reported CV is not the one the choice was
tuned on. On those selection folds this recipe measures MAE 0.663 x the baseline (R² 0.938), on the
reported folds 0.636 (R² 0.940): with 201 cars, fold-to-fold spread is ~±0.02. The ridge's alpha is
chosen inside each training fold (RidgeCV's leave-one-out), so it is nested.
Baseline: Azure ML designer's automobile sample — ordinary linear regression on the same features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, VotingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, RidgeCV
from sklearn.model_selection import KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ml.carprice import features
from ml.carprice.features import DENSE_WIDTH, MISSING
from ml.carprice.schema import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, TARGET

__all__ = ["MISSING", "SEED", "CarEncoder", "baseline", "candidate", "features_frame", "target"]
SEED = 0
RIDGE_ALPHAS = tuple(float(a) for a in np.logspace(-1, 3, 25))
VOTE_WEIGHTS = (1.0, 1.0, 2.0)  # boosting, extra trees, ridge: the linear part generalises best on 201 cars


def features_frame(rows: pd.DataFrame) -> pd.DataFrame:
    """The model's input frame: schema columns in order, floats for numbers, strings for categories."""
    frame = pd.DataFrame({name: rows.get(name) for name in FEATURES})
    for name in NUMERIC_FEATURES:
        frame[name] = pd.to_numeric(frame[name], errors="coerce").astype("float64")
    for name in CATEGORICAL_FEATURES:
        frame[name] = frame[name].astype(object).where(frame[name].notna(), MISSING)
    return frame


def target(rows: pd.DataFrame) -> np.ndarray:
    return rows[TARGET].to_numpy(dtype="float64")


class CarEncoder(TransformerMixin, BaseEstimator):
    """scikit-learn face of ml.carprice.features: learns the encoding (medians, categories, make levels
    from log price) and encodes a frame of cars. The fitted state is a plain dict, so the MLflow model
    stays loadable with skops, and serving rebuilds the same encoding from the model card."""

    def __init__(self, folds: int = 5) -> None:
        self.folds = folds

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> CarEncoder:
        self.encoding_ = features.learn(_records(x), np.asarray(y, dtype="float64")).to_dict()
        return self

    def transform(self, x: pd.DataFrame) -> np.ndarray:
        return features.encode(_records(x), features.Encoding.from_dict(self.encoding_))

    def fit_transform(self, x: pd.DataFrame, y: np.ndarray | None = None, **_: object) -> np.ndarray:
        # The rows the models train on get their make's level from the other folds only: a make level
        # that includes the car's own price would let the trees learn from the target itself.
        assert y is not None, "CarEncoder learns make levels from the target"
        log_prices = np.asarray(y, dtype="float64")
        self.fit(x, log_prices)
        records = _records(x)
        makes = [features.category(r.get("make")) for r in records]
        levels = np.empty(len(records))
        for train, test in KFold(self.folds, shuffle=True, random_state=SEED).split(records):
            fold_levels, overall = features.make_levels([makes[i] for i in train], log_prices[train])
            for i in test:
                levels[i] = fold_levels.get(makes[i], overall)
        return features.encode(records, features.Encoding.from_dict(self.encoding_), levels)


def _records(x: pd.DataFrame) -> list[dict[str, object]]:
    return x.to_dict("records") if isinstance(x, pd.DataFrame) else list(x)


def _dense(estimator: object) -> Pipeline:
    """The estimator on the dense block only (numbers, engineered features, make level)."""
    return Pipeline([("dense", ColumnTransformer([("dense", "passthrough", list(range(DENSE_WIDTH)))])),
                     ("model", estimator)])


def candidate(n_estimators: int = 200) -> TransformedTargetRegressor:
    ensemble = VotingRegressor([
        ("boosting", _dense(GradientBoostingRegressor(
            n_estimators=n_estimators, learning_rate=0.07, max_depth=3, subsample=0.8, random_state=SEED))),
        ("extra_trees", _dense(ExtraTreesRegressor(n_estimators=60, max_features=0.5, random_state=SEED))),
        ("ridge", Pipeline([("scale", StandardScaler()), ("model", RidgeCV(alphas=RIDGE_ALPHAS))])),
    ], weights=np.array(VOTE_WEIGHTS))  # an array: the ONNX converter divides by weights.sum()
    pipeline = Pipeline([("encode", CarEncoder()), ("ensemble", ensemble)])
    return TransformedTargetRegressor(regressor=pipeline, func=np.log, inverse_func=np.exp, check_inverse=False)


def baseline() -> Pipeline:
    # As the designer sample: one-hot categories, no scaling (ordinary least squares does not need it).
    prep = ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median"), list(NUMERIC_FEATURES)),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
    ])
    return Pipeline([("prep", prep), ("linear", LinearRegression())])
