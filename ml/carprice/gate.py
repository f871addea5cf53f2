"""The promotion gate and its one artifact, metrics.json: written by the evaluate step (and by `make train`
into the model folder), read strictly by the pipeline's gate (tools/deploy/ml/gate.py), the register step
and the rollout. A file that is not exactly this shape is an error naming the file and the key, never a
guess: a rollout never happens by default.

The decision is taken on confidence intervals over repeated cross-validation, not on one draw:
promote when the candidate's MAE ratio to the baseline is below the limit at the interval's upper end, its
R² reaches the floor at the interval's lower end, and it is not worse than the champion beyond noise.
Every threshold comes from gate.yml, with its reason. Only the standard library and pydantic are needed, so
the deploy tools read the file without the ML stack.
"""

from __future__ import annotations

import math
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

GATE_CONFIG = Path(__file__).with_name("gate.yml")
METRICS_FILE = "metrics.json"
FORMAT = "carprice-metrics/1"


class GateFileError(ValueError):
    """A gate config or metrics file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Setting(_Strict):
    value: float
    why: str


class GateConfig(_Strict):
    repeats: Setting
    quick_repeats: Setting
    folds: Setting
    first_seed: Setting
    confidence: Setting
    max_mae_ratio: Setting
    r2_floor: Setting
    champion_tolerance: Setting
    goal_mae_ratio: Setting
    goal_r2: Setting

    def value(self, name: str) -> float:
        return float(getattr(self, name).value)


def _error(path: Path | str, error: ValidationError) -> GateFileError:
    first = error.errors()[0]
    key = ".".join(str(p) for p in first["loc"]) or "(top level)"
    return GateFileError(f"{path}: {key}: {first['msg']}")


def load_config(path: Path = GATE_CONFIG) -> GateConfig:
    import yaml

    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GateFileError(f"{path}: cannot read the gate config ({exc})") from None
    try:
        config = GateConfig.model_validate(raw, strict=False)
    except ValidationError as exc:
        raise _error(path, exc) from None
    for name in ("repeats", "quick_repeats", "folds"):
        if config.value(name) < 2 or not config.value(name).is_integer():
            raise GateFileError(f"{path}: {name}.value: a whole number of at least 2")
    if not 0.5 <= config.value("confidence") < 1:
        raise GateFileError(f"{path}: confidence.value: a probability between 0.5 and 1")
    return config


class Figure(_Strict):
    """One metric over the repeats: mean, spread (standard deviation) and the confidence interval of the mean."""

    mean: float
    std: float
    low: float
    high: float
    repeats: tuple[float, ...]


class ModelFigures(_Strict):
    mae: Figure
    rmse: Figure
    r2: Figure


class GroupedFigures(_Strict):
    """The same comparison with rows of one group (e.g. a car platform) kept in one fold."""

    label: str
    columns: tuple[str, ...]
    groups: int
    candidate: ModelFigures
    baseline: ModelFigures
    mae_ratio: Figure


class CrossValidation(_Strict):
    folds: int
    repeats: int
    seeds: tuple[int, ...]
    confidence: float
    quick: bool


class PriceInterval(_Strict):
    quantiles: tuple[float, float]
    ratio_low: float
    ratio_high: float


class Evaluation(_Strict):
    dataset: str
    dataset_digest: str
    rows: int
    cv: CrossValidation
    candidate: ModelFigures
    baseline: ModelFigures
    mae_ratio: Figure
    grouped: GroupedFigures | None
    price_interval: PriceInterval


def quality_rows(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The honest figures as (label, value) rows for a reader (the dashboard): mean ± spread [interval]."""
    ev, confidence = evaluation, f"{evaluation.cv.confidence:.0%} CI"
    rows = [("Evaluation", f"{ev.cv.repeats}x repeated {ev.cv.folds}-fold CV on {ev.rows} rows; mean ± sd "
                           f"[{confidence}]"),
            ("MAE", _money(ev.candidate.mae)), ("RMSE", _money(ev.candidate.rmse)), ("R²", _ratio(ev.candidate.r2)),
            ("MAE vs linear baseline", _ratio(ev.mae_ratio))]
    if ev.grouped is not None:
        rows.append((f"R², unseen {ev.grouped.label}s", _ratio(ev.grouped.candidate.r2)))
    return rows


class GateDecision(_Strict):
    promoted: bool
    reasons: tuple[str, ...]
    thresholds: dict[str, float]


class MetricsFile(_Strict):
    format: Literal["carprice-metrics/1"]
    evaluation: Evaluation
    gate: GateDecision

    def summary(self) -> str:
        ev = self.evaluation
        lines = [f"{ev.dataset}: {ev.cv.repeats}x repeated {ev.cv.folds}-fold CV on {ev.rows} rows; "
                 f"mean ± sd [{ev.cv.confidence:.0%} CI of the mean]",
                 f"{'':<10} {'MAE':<28} {'RMSE':<28} R²"]
        for name, figures in (("candidate", ev.candidate), ("baseline", ev.baseline)):
            lines.append(f"{name:<10} {_money(figures.mae):<28} {_money(figures.rmse):<28} {_ratio(figures.r2)}")
        lines.append(f"MAE ratio {_ratio(ev.mae_ratio)}")
        if ev.grouped is not None:
            g = ev.grouped
            lines.append(f"grouped by {g.label} ({', '.join(g.columns)}; {g.groups} groups): candidate R² "
                         f"{_ratio(g.candidate.r2)}, MAE ratio {_ratio(g.mae_ratio)}")
        verdict = "PROMOTED" if self.gate.promoted else "REJECTED"
        return "\n".join([*lines, f"gate: {verdict}", *(f"  - {reason}" for reason in self.gate.reasons)])

    def as_tags(self) -> dict[str, str]:
        """Model registry tags: the numbers that let this version through."""
        ev = self.evaluation
        tags = {f"{who}_{metric}": f"{getattr(getattr(ev, who), metric).mean:.6g}"
                for who in ("candidate", "baseline") for metric in ("mae", "rmse", "r2")}
        tags.update(mae_ratio=f"{ev.mae_ratio.mean:.4g}", mae_ratio_high=f"{ev.mae_ratio.high:.4g}",
                    r2_low=f"{ev.candidate.r2.low:.4g}", dataset=ev.dataset,
                    gate="passed" if self.gate.promoted else "rejected")
        return tags


def _money(f: Figure) -> str:
    return f"{f.mean:,.0f} ± {f.std:,.0f} [{f.low:,.0f}, {f.high:,.0f}]"


def _ratio(f: Figure) -> str:
    return f"{f.mean:.3f} ± {f.std:.3f} [{f.low:.3f}, {f.high:.3f}]"


class GateRejected(RuntimeError):
    """The candidate did not pass the gate; nothing is registered or deployed and the champion stays."""

    def __init__(self, decision: GateDecision) -> None:
        super().__init__("candidate not promoted: " + "; ".join(decision.reasons))
        self.decision = decision


def decide(evaluation: Evaluation, config: GateConfig, champion: Evaluation | None = None) -> GateDecision:
    limit, floor = config.value("max_mae_ratio"), config.value("r2_floor")
    tolerance, confidence = config.value("champion_tolerance"), evaluation.cv.confidence
    ratio, r2 = evaluation.mae_ratio, evaluation.candidate.r2
    beats_baseline = ratio.high <= limit
    meets_floor = r2.low >= floor
    reasons = [
        f"MAE ratio to the baseline {ratio.mean:.3f}, {confidence:.0%} CI [{ratio.low:.3f}, {ratio.high:.3f}]: "
        f"upper end {'<=' if beats_baseline else '>'} {limit:g}",
        f"R² {r2.mean:.3f}, {confidence:.0%} CI [{r2.low:.3f}, {r2.high:.3f}]: lower end "
        f"{'>=' if meets_floor else '<'} the floor {floor:g}",
    ]
    no_regression = True
    if champion is None:
        reasons.append("no current champion")
    elif champion.dataset_digest != evaluation.dataset_digest:
        reasons.append(f"the champion was trained on another declaration of the data set ({champion.dataset}); "
                       "not compared")
    else:
        mine, theirs = evaluation.candidate.mae, champion.candidate.mae
        noise = math.hypot(mine.std / math.sqrt(len(mine.repeats)), theirs.std / math.sqrt(len(theirs.repeats)))
        z = NormalDist().inv_cdf((1 + confidence) / 2)
        surely_worse_by = (mine.mean - theirs.mean) - z * noise  # the smallest regression the data supports
        no_regression = surely_worse_by <= tolerance * theirs.mean
        reasons.append(
            f"champion's MAE {theirs.mean:,.0f}, candidate's {mine.mean:,.0f} (noise ±{z * noise:,.0f}): "
            + ("not worse beyond noise" if no_regression else
               f"worse by at least {surely_worse_by:,.0f}, over the {tolerance:.0%} tolerance"))
    goal_ratio, goal_r2 = config.value("goal_mae_ratio"), config.value("goal_r2")
    reasons.append(f"goals (not enforced): mean MAE ratio <= {goal_ratio:g} "
                   f"{'reached' if ratio.mean <= goal_ratio else 'not reached'}, mean R² >= {goal_r2:g} "
                   f"{'reached' if r2.mean >= goal_r2 else 'not reached'}")
    thresholds = {name: config.value(name) for name in ("max_mae_ratio", "r2_floor", "champion_tolerance",
                                                          "confidence")}
    return GateDecision(promoted=beats_baseline and meets_floor and no_regression, reasons=tuple(reasons),
                        thresholds=thresholds)


def write_metrics(folder: Path, evaluation: Evaluation, decision: GateDecision) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / METRICS_FILE
    document = MetricsFile(format=FORMAT, evaluation=evaluation, gate=decision)
    path.write_text(document.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return path


def read_metrics(path: Path) -> MetricsFile:
    """The metrics file at `path`, or in the folder `path` (searched below it, as a downloaded job output)."""
    path = Path(path)
    if path.is_dir():
        found = sorted(path.rglob(METRICS_FILE))
        if not found:
            raise GateFileError(f"no {METRICS_FILE} under {path}")
        path = found[0]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GateFileError(f"{path}: cannot read the evaluation metrics ({exc.strerror})") from None
    try:
        return MetricsFile.model_validate_json(text)
    except ValidationError as exc:
        raise _error(path, exc) from None


def evaluation_of(document: Any) -> Evaluation:
    """An Evaluation from plain data (a model card's `evaluation` block), strictly."""
    return Evaluation.model_validate(document, strict=False)
