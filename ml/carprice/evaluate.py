"""Repeated k-fold cross-validation of candidate and baseline on the same folds, summarised per metric as mean,
spread and a confidence interval over the repeats; the same on folds grouped by the declared group columns;
and the price interval from out-of-fold residuals. The gate (ml/carprice/gate.py) decides on these figures.

What the interval covers: the split-to-split noise of this data (which folds the rows fall into). It does
not cover how another sample of rows would change the figures; the grouped figure is the harsher view of
rows unlike any in training.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats
from sklearn.base import RegressorMixin, clone
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import GroupKFold, KFold

from ml.carprice.dataset import Dataset
from ml.carprice.features import category
from ml.carprice.gate import (
    CrossValidation,
    Evaluation,
    Figure,
    GateConfig,
    GroupedFigures,
    ModelFigures,
    PriceInterval,
)

INTERVAL_QUANTILES = (0.05, 0.95)  # a 90 % price range
Split = tuple[np.ndarray, np.ndarray]


def figure(values: Sequence[float], confidence: float) -> Figure:
    """Mean, standard deviation and the two-sided t interval of the mean over independent repeats."""
    data = np.asarray(values, dtype="float64")
    mean = float(data.mean())
    std = float(data.std(ddof=1)) if len(data) > 1 else 0.0
    half = float(stats.t.ppf((1 + confidence) / 2, len(data) - 1)) * std / np.sqrt(len(data)) if len(data) > 1 else 0.0
    return Figure(mean=mean, std=std, low=mean - half, high=mean + half, repeats=tuple(float(v) for v in data))


def _fit_predict(model: RegressorMixin, x: pd.DataFrame, y: np.ndarray, split: Split) -> np.ndarray:
    train, test = split
    fitted = clone(model).fit(x.iloc[train], y[train])
    return np.asarray(fitted.predict(x.iloc[test]), dtype="float64")


def group_keys(x: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    """One key per row from the group columns (missing values form their own group)."""
    return np.array(["\x1f".join(category(v) for v in row) for row in x[list(columns)].itertuples(index=False)])


def _splits(x: pd.DataFrame, folds: int, seeds: Sequence[int], groups: np.ndarray | None) -> list[list[Split]]:
    if groups is None:
        return [list(KFold(folds, shuffle=True, random_state=s).split(x)) for s in seeds]
    return [list(GroupKFold(folds, shuffle=True, random_state=s).split(x, groups=groups)) for s in seeds]


def _per_repeat(y: np.ndarray, repeats: list[list[Split]], predictions: list[np.ndarray]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"mae": [], "rmse": [], "r2": []}
    position = 0
    for splits in repeats:
        maes, rmses, r2s = [], [], []
        for _, test in splits:
            truth, predicted = y[test], predictions[position]
            position += 1
            maes.append(mean_absolute_error(truth, predicted))
            rmses.append(float(np.sqrt(mean_squared_error(truth, predicted))))
            r2s.append(r2_score(truth, predicted))
        out["mae"].append(float(np.mean(maes)))
        out["rmse"].append(float(np.mean(rmses)))
        out["r2"].append(float(np.mean(r2s)))
    return out


def _model_figures(values: dict[str, list[float]], confidence: float) -> ModelFigures:
    return ModelFigures(**{name: figure(v, confidence) for name, v in values.items()})


def evaluate(dataset: Dataset, candidate: RegressorMixin, baseline: RegressorMixin, x: pd.DataFrame,
             y: np.ndarray, config: GateConfig, *, quick: bool = False, n_jobs: int | None = None) -> Evaluation:
    """Both models on the same folds, `repeats` times with fresh seeds; grouped folds too when declared."""
    repeats = int(config.value("quick_repeats" if quick else "repeats"))
    folds, confidence = int(config.value("folds")), config.value("confidence")
    seeds = [int(config.value("first_seed")) + i for i in range(repeats)]
    plain = _splits(x, folds, seeds, None)
    grouping = dataset.spec.grouped_evaluation
    groups = group_keys(x, grouping.columns) if grouping is not None else None
    grouped = _splits(x, folds, seeds, groups) if groups is not None and len(set(groups)) >= folds else None
    layouts = [plain] + ([grouped] if grouped is not None else [])
    work = [(model, split) for layout in layouts for model in (candidate, baseline)
            for splits in layout for split in splits]
    jobs = n_jobs or min(2, os.cpu_count() or 1)
    results = iter(Parallel(n_jobs=jobs)(delayed(_fit_predict)(m, x, y, s) for m, s in work))
    figures = []
    for layout in layouts:
        size = sum(len(s) for s in layout)
        candidate_predictions = [next(results) for _ in range(size)]
        baseline_predictions = [next(results) for _ in range(size)]
        cand, base = _per_repeat(y, layout, candidate_predictions), _per_repeat(y, layout, baseline_predictions)
        ratio = [c / b for c, b in zip(cand["mae"], base["mae"], strict=True)]
        figures.append((_model_figures(cand, confidence), _model_figures(base, confidence),
                        figure(ratio, confidence), candidate_predictions))
    cand_figures, base_figures, ratio_figure, oof = figures[0]
    tests = [test for splits in plain for _, test in splits]
    ratios = np.concatenate([y[t] / np.maximum(p, 1e-9) for t, p in zip(tests, oof, strict=True)])
    low, high = np.quantile(ratios, INTERVAL_QUANTILES)
    grouped_figures = None
    if grouped is not None and grouping is not None and groups is not None:
        g_cand, g_base, g_ratio, _ = figures[1]
        grouped_figures = GroupedFigures(label=grouping.label, columns=grouping.columns, groups=len(set(groups)),
                                         candidate=g_cand, baseline=g_base, mae_ratio=g_ratio)
    return Evaluation(
        dataset=dataset.name, dataset_digest=dataset.digest, rows=len(x),
        cv=CrossValidation(folds=folds, repeats=repeats, seeds=tuple(seeds), confidence=confidence, quick=quick),
        candidate=cand_figures, baseline=base_figures, mae_ratio=ratio_figure, grouped=grouped_figures,
        price_interval=PriceInterval(quantiles=INTERVAL_QUANTILES, ratio_low=float(low), ratio_high=float(high)),
    )
