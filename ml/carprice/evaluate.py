"""Repeated 5-fold cross-validation of candidate and baseline on the same folds, the price interval
from out-of-fold residuals, and the promotion gate."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.base import RegressorMixin, clone
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import RepeatedKFold

from ml.carprice.model import SEED

# The candidate's MAE must be at most this share of the baseline's (issue 4).
MAE_RATIO_LIMIT = 0.65
R2_TARGET = 0.94
INTERVAL_QUANTILES = (0.05, 0.95)  # a 90 % price range


@dataclass(frozen=True)
class Metrics:
    mae: float
    rmse: float
    r2: float
    mae_std: float
    folds: int

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Evaluation:
    candidate: Metrics
    baseline: Metrics
    interval_ratios: tuple[float, float]  # actual / predicted at the interval quantiles
    repeats: int


def _fold(model: RegressorMixin, x: pd.DataFrame, y: np.ndarray, train: np.ndarray, test: np.ndarray) -> np.ndarray:
    fitted = clone(model).fit(x.iloc[train], y[train])
    return np.asarray(fitted.predict(x.iloc[test]), dtype="float64")


def _summarise(y: np.ndarray, folds: list[np.ndarray], predictions: list[np.ndarray]) -> Metrics:
    maes = [mean_absolute_error(y[t], p) for t, p in zip(folds, predictions, strict=True)]
    rmses = [float(np.sqrt(mean_squared_error(y[t], p))) for t, p in zip(folds, predictions, strict=True)]
    r2s = [r2_score(y[t], p) for t, p in zip(folds, predictions, strict=True)]
    return Metrics(float(np.mean(maes)), float(np.mean(rmses)), float(np.mean(r2s)), float(np.std(maes)), len(folds))


def cross_validate(candidate: RegressorMixin, baseline: RegressorMixin, x: pd.DataFrame, y: np.ndarray, *,
                   repeats: int = 3, n_jobs: int | None = None) -> Evaluation:
    splits = [test for _, test in RepeatedKFold(n_splits=5, n_repeats=repeats, random_state=SEED).split(x)]
    trains = [train for train, _ in RepeatedKFold(n_splits=5, n_repeats=repeats, random_state=SEED).split(x)]
    jobs = n_jobs or min(4, os.cpu_count() or 1)
    work = [(m, tr, te) for m in (candidate, baseline) for tr, te in zip(trains, splits, strict=True)]
    results = Parallel(n_jobs=jobs)(delayed(_fold)(m, x, y, tr, te) for m, tr, te in work)
    cand_pred, base_pred = results[: len(splits)], results[len(splits):]
    ratios = np.concatenate([y[t] / np.maximum(p, 1.0) for t, p in zip(splits, cand_pred, strict=True)])
    low, high = np.quantile(ratios, INTERVAL_QUANTILES)
    return Evaluation(_summarise(y, splits, cand_pred), _summarise(y, splits, base_pred),
                      (float(low), float(high)), repeats)


@dataclass(frozen=True)
class GateDecision:
    promoted: bool
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        return {"promoted": self.promoted, "reasons": list(self.reasons)}


def gate(evaluation: Evaluation, champion_mae: float | None) -> GateDecision:
    cand, base = evaluation.candidate, evaluation.baseline
    ratio = cand.mae / base.mae
    reasons = [f"MAE {cand.mae:,.0f} is {ratio:.2f} x the baseline's {base.mae:,.0f} "
               f"({'<=' if ratio <= MAE_RATIO_LIMIT else '>'} {MAE_RATIO_LIMIT})"]
    ok = ratio <= MAE_RATIO_LIMIT
    if champion_mae is None:
        reasons.append("no current champion")
    else:
        # The champion's MAE comes from its card, rounded to 4 decimals: compare at that precision, or
        # retraining the same recipe on the same data would count as "worse" than itself.
        better = round(cand.mae, 4) <= champion_mae
        ok = ok and better
        reasons.append(f"champion's MAE {champion_mae:,.0f}: candidate is {'no worse' if better else 'worse'}")
    reasons.append(f"R² {cand.r2:.3f} ({'meets' if cand.r2 >= R2_TARGET else 'below'} the {R2_TARGET} target)")
    return GateDecision(ok, tuple(reasons))


ProgressFn = Callable[[str], None]
