"""The candidate model and the baseline, as scikit-learn pipelines over the schema's raw columns.

Candidate: impute + one-hot, then an average of gradient boosting, extra trees and a ridge
regression, all on log(price) — car prices are multiplicative (a make's premium is a percentage), so
errors are more even across cheap and expensive cars. Every step has an ONNX converter (see export.py).
Baseline: Azure ML designer's automobile sample — ordinary linear regression on the same features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer, TransformedTargetRegressor
from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, VotingRegressor
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from ml.carprice.schema import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES, TARGET

MISSING = "missing"  # the category an absent optional categorical value becomes
SEED = 0


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


def _preprocessing() -> ColumnTransformer:
    return ColumnTransformer([
        # No scaling: trees compare raw float32 values, so ONNX and sklearn take identical splits.
        ("numeric", SimpleImputer(strategy="median"), list(NUMERIC_FEATURES)),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
    ])


def candidate(n_estimators: int = 600) -> TransformedTargetRegressor:
    ensemble = VotingRegressor([
        ("boosting", GradientBoostingRegressor(
            n_estimators=n_estimators, learning_rate=0.03, max_depth=3, subsample=0.8, random_state=SEED)),
        ("extra_trees", ExtraTreesRegressor(n_estimators=200, max_features=0.5, random_state=SEED)),
        ("ridge", Ridge(alpha=1.0)),
    ])
    pipeline = Pipeline([("prep", _preprocessing()), ("ensemble", ensemble)])
    return TransformedTargetRegressor(regressor=pipeline, func=np.log, inverse_func=np.exp, check_inverse=False)


def baseline() -> Pipeline:
    # As the designer sample: one-hot categories, no scaling (ordinary least squares does not need it).
    prep = ColumnTransformer([
        ("numeric", SimpleImputer(strategy="median"), list(NUMERIC_FEATURES)),
        ("categorical", OneHotEncoder(handle_unknown="ignore"), list(CATEGORICAL_FEATURES)),
    ])
    return Pipeline([("prep", prep), ("linear", LinearRegression())])
