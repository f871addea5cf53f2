"""Repeated k-fold cross-validation of the candidate and both baselines on the same folds, summarised per
metric as mean, spread and a confidence interval over the repeats; the same on folds grouped by the declared
group columns; and the price interval from out-of-fold residuals. The gate (ml/carprice/gate.py) decides on
these figures.

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


def evaluate(dataset: Dataset, models: dict[str, RegressorMixin], x: pd.DataFrame, y: np.ndarray,
             config: GateConfig, *, quick: bool = False, n_jobs: int | None = None,
             recipe: str = "", descriptions: dict[str, str] | None = None) -> Evaluation:
    """The candidate and both baselines (`models`: candidate, baseline, strong_baseline) on the same folds,
    `repeats` times with fresh seeds; grouped folds too when the data set declares a group."""
    folds, confidence = int(config.value("folds")), config.value("confidence")
    seeds = config.seeds(quick)
    plain = _splits(x, folds, seeds, None)
    grouping = dataset.spec.grouped_evaluation
    groups = group_keys(x, grouping.columns) if grouping is not None else None
    grouped = _splits(x, folds, seeds, groups) if groups is not None and len(set(groups)) >= folds else None
    layouts = [plain] + ([grouped] if grouped is not None else [])
    names = ("candidate", "baseline", "strong_baseline")
    work = [(models[name], split) for layout in layouts for name in names for splits in layout for split in splits]
    jobs = n_jobs or min(2, os.cpu_count() or 1)
    results = iter(Parallel(n_jobs=jobs)(delayed(_fit_predict)(m, x, y, s) for m, s in work))
    figures = []
    for layout in layouts:
        size = sum(len(s) for s in layout)
        predictions = {name: [next(results) for _ in range(size)] for name in names}
        per_repeat = {name: _per_repeat(y, layout, predictions[name]) for name in names}
        cand = per_repeat["candidate"]
        ratios = {name: figure([c / b for c, b in zip(cand["mae"], per_repeat[name]["mae"], strict=True)],
                               confidence) for name in names[1:]}
        figures.append(({name: _model_figures(per_repeat[name], confidence) for name in names}, ratios,
                        predictions["candidate"]))
    plain_figures, plain_ratios, oof = figures[0]
    tests = [test for splits in plain for _, test in splits]
    residual_ratios = np.concatenate([y[t] / np.maximum(p, 1e-9) for t, p in zip(tests, oof, strict=True)])
    low, high = np.quantile(residual_ratios, INTERVAL_QUANTILES)
    grouped_figures = None
    if grouped is not None and grouping is not None and groups is not None:
        g_figures, g_ratios, _ = figures[1]
        grouped_figures = GroupedFigures(label=grouping.label, columns=grouping.columns, groups=len(set(groups)),
                                         **g_figures, mae_ratio=g_ratios["baseline"],
                                         strong_mae_ratio=g_ratios["strong_baseline"])
    return Evaluation(
        dataset=dataset.name, dataset_digest=dataset.digest, recipe=recipe, models=descriptions or {}, rows=len(x),
        cv=CrossValidation(folds=folds, repeats=len(seeds), seeds=tuple(seeds),
                           inspected_seeds=config.inspected_seeds.value, confidence=confidence, quick=quick),
        **plain_figures, mae_ratio=plain_ratios["baseline"], strong_mae_ratio=plain_ratios["strong_baseline"],
        grouped=grouped_figures,
        price_interval=PriceInterval(quantiles=INTERVAL_QUANTILES, ratio_low=float(low), ratio_high=float(high)),
    )
