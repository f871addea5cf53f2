"""The promotion gate and its one artifact, metrics.json: written by the evaluate step (and by `make train`
into the model folder), read strictly by the pipeline's gate (tools/deploy/ml/gate.py), the register step
and the rollout. A file that is not exactly this shape is an error naming the file and the key, never a
guess: a rollout never happens by default.

The decision compares the candidate with two baselines on the same folds (ordinary least squares and a
random forest) over repeated cross-validation, and with rows of one declared group kept in one fold where
the data set declares a group. Each limit is met at the pessimistic end: the confidence interval's far end
or the mean moved by a fixed margin, whichever is worse (the interval narrows with repeats, the margin does
not). The champion must not be beaten beyond noise. The defaults and their reasons are in gate.yml; a data
set's declaration (or a gate file) sets its own. Only the standard library, PyYAML and pydantic are needed,
so the deploy tools read the file without the ML stack.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from statistics import NormalDist
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

GATE_CONFIG = Path(__file__).with_name("gate.yml")
METRICS_FILE = "metrics.json"
FORMAT = "carprice-metrics/2"


class GateFileError(ValueError):
    """A gate config or metrics file that cannot be used; the message names the file and the key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Setting(_Strict):
    value: float
    why: str


class Flag(_Strict):
    value: bool
    why: str


class Seeds(_Strict):
    value: tuple[tuple[int, int], ...]  # inclusive ranges [first, last]
    why: str

    def covers(self, seed: int) -> bool:
        return any(first <= seed <= last for first, last in self.value)


class GateConfig(_Strict):
    repeats: Setting
    quick_repeats: Setting
    folds: Setting
    first_seed: Setting
    inspected_seeds: Seeds
    confidence: Setting
    margin: Setting
    r2_margin: Setting
    max_mae_ratio: Setting
    max_strong_mae_ratio: Setting
    r2_floor: Setting
    grouped_required: Flag
    grouped_max_strong_mae_ratio: Setting
    grouped_r2_floor: Setting
    champion_tolerance: Setting
    goal_mae_ratio: Setting
    goal_r2: Setting
    goal_grouped_r2: Setting

    def value(self, name: str) -> float:
        return float(getattr(self, name).value)

    def seeds(self, quick: bool) -> list[int]:
        first = int(self.value("first_seed"))
        return list(range(first, first + int(self.value("quick_repeats" if quick else "repeats"))))


def _error(path: Path | str, error: ValidationError, prefix: str = "") -> GateFileError:
    first = error.errors()[0]
    key = (prefix + ".".join(str(p) for p in first["loc"])).rstrip(".") or "(top level)"
    return GateFileError(f"{path}: {key}: {first['msg']}")


def _read_yaml(path: Path, what: str) -> Any:
    import yaml

    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise GateFileError(f"{path}: cannot read the {what} ({exc})") from None


def _layer(raw: Any, where: str, prefix: str) -> dict[str, Any]:
    """One partial layer of settings, each key checked on its own so the error names the file that set it."""
    if not isinstance(raw, Mapping):
        raise GateFileError(f"{where}: {prefix or '(top level)'}: expected a mapping of gate settings")
    fields = GateConfig.model_fields
    for key, value in raw.items():
        if key not in fields:
            raise GateFileError(f"{where}: {prefix}{key}: not a gate setting; the settings are "
                                f"{', '.join(fields)} (see docs/dataset-reference.md#gate)")
        try:
            fields[key].annotation.model_validate(value, strict=False)  # type: ignore[union-attr]
        except ValidationError as exc:
            raise _error(where, exc, f"{prefix}{key}.") from None
    return dict(raw)


def load_config(path: Path = GATE_CONFIG, *, dataset: Any = None, override: Path | None = None) -> GateConfig:
    """The gate's settings: the defaults in `path`, then the data set declaration's `gate:` (a mapping, or a
    gate file beside the declaration), then `override` (a gate file, `make train GATE=...`). Each later layer
    sets only the keys it names; an error names the file (and key) that set the bad value."""
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for raw, where, prefix in _layers(path, dataset, override):
        for key, value in _layer(raw, where, prefix).items():
            merged[key], origin[key] = value, f"{where}: {prefix}{key}"
    try:
        config = GateConfig.model_validate(merged, strict=False)
    except ValidationError as exc:
        raise _error(path, exc) from None
    _check_values(config, origin)
    return config


def _layers(path: Path, dataset: Any, override: Path | None) -> list[tuple[Any, str, str]]:
    """(settings, where they come from, key prefix) of each layer, in the order they apply."""
    layers: list[tuple[Any, str, str]] = [(_read_yaml(path, "gate config"), str(path), "")]
    declared = getattr(getattr(dataset, "spec", None), "gate", None)
    if isinstance(declared, str):
        beside = Path(dataset.origin).parent / declared
        layers.append((_read_yaml(beside, "gate file named by the declaration's gate key"), str(beside), ""))
    elif declared is not None:
        layers.append((declared, Path(dataset.origin).name, "gate."))
    if override is not None:
        layers.append((_read_yaml(override, "gate file"), str(override), ""))
    return layers


def _check_values(config: GateConfig, origin: dict[str, str]) -> None:
    """What the types alone do not refuse, named by the file and key that set it."""

    def fail(key: str, message: str) -> GateFileError:
        return GateFileError(f"{origin[key]}.value: {message}")

    for name in ("repeats", "quick_repeats", "folds"):
        if config.value(name) < 2 or not config.value(name).is_integer():
            raise fail(name, "a whole number of at least 2")
    if not 0.5 <= config.value("confidence") < 1:
        raise fail("confidence", "a probability between 0.5 and 1")
    for quick in (False, True):
        seen = [s for s in config.seeds(quick) if config.inspected_seeds.covers(s)]
        if seen:
            raise fail("first_seed", f"the deciding seeds include {', '.join(map(str, seen[:5]))}, which "
                                     f"inspected_seeds ({origin['inspected_seeds']}) lists as already looked at; "
                                     "choose a first_seed whose seeds were not")


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
    strong_baseline: ModelFigures
    mae_ratio: Figure
    strong_mae_ratio: Figure


class CrossValidation(_Strict):
    folds: int
    repeats: int
    seeds: tuple[int, ...]
    inspected_seeds: tuple[tuple[int, int], ...]
    confidence: float
    quick: bool


class PriceInterval(_Strict):
    quantiles: tuple[float, float]
    ratio_low: float
    ratio_high: float


class Evaluation(_Strict):
    dataset: str
    dataset_digest: str
    recipe: str  # a digest of the three models' settings: figures of another recipe are stale
    models: dict[str, str]  # candidate, baseline, strong_baseline -> what each is
    rows: int
    cv: CrossValidation
    candidate: ModelFigures
    baseline: ModelFigures
    strong_baseline: ModelFigures
    mae_ratio: Figure
    strong_mae_ratio: Figure
    grouped: GroupedFigures | None
    price_interval: PriceInterval


INTERVAL_NOTE = ("The intervals measure split-to-split noise only (which folds the rows fall into): they narrow "
                 "with more repeats on the same rows and do not cover how another sample of rows would score. "
                 "The gate therefore also keeps a fixed margin that more repeats cannot shrink.")


def quality_rows(evaluation: Evaluation) -> list[tuple[str, str]]:
    """The honest figures as (label, value) rows for a reader (the dashboard): mean ± spread [interval]."""
    ev, confidence = evaluation, f"{evaluation.cv.confidence:.0%} CI"
    rows = [("Evaluation", f"{ev.cv.repeats}x repeated {ev.cv.folds}-fold CV on {ev.rows} rows; mean ± sd "
                           f"[{confidence}, split-to-split noise only]"),
            ("MAE", _money(ev.candidate.mae)), ("RMSE", _money(ev.candidate.rmse)), ("R²", _ratio(ev.candidate.r2)),
            ("MAE vs linear baseline", _ratio(ev.mae_ratio)),
            ("MAE vs strong baseline", _ratio(ev.strong_mae_ratio))]
    if ev.grouped is not None:
        g = ev.grouped
        rows += [(f"R², unseen {g.label}s", _ratio(g.candidate.r2)),
                 (f"MAE vs linear baseline, unseen {g.label}s", _ratio(g.mae_ratio)),
                 (f"MAE vs strong baseline, unseen {g.label}s", _ratio(g.strong_mae_ratio))]
    return rows


class GateDecision(_Strict):
    promoted: bool
    reasons: tuple[str, ...]
    thresholds: dict[str, float]


class MetricsFile(_Strict):
    format: Literal["carprice-metrics/2"]
    evaluation: Evaluation
    gate: GateDecision

    def summary(self) -> str:
        ev = self.evaluation
        lines = [f"{ev.dataset}: {ev.cv.repeats}x repeated {ev.cv.folds}-fold CV on {ev.rows} rows; "
                 f"mean ± sd [{ev.cv.confidence:.0%} CI of the mean: split-to-split noise only]",
                 f"{'':<16} {'MAE':<28} {'RMSE':<28} R²"]
        for name, figures in (("candidate", ev.candidate), ("linear baseline", ev.baseline),
                              ("strong baseline", ev.strong_baseline)):
            lines.append(f"{name:<16} {_money(figures.mae):<28} {_money(figures.rmse):<28} {_ratio(figures.r2)}")
        lines.append(f"MAE ratio to the linear baseline {_ratio(ev.mae_ratio)}, to the strong baseline "
                     f"{_ratio(ev.strong_mae_ratio)}")
        if ev.grouped is not None:
            g = ev.grouped
            lines.append(f"grouped by {g.label} ({', '.join(g.columns)}; {g.groups} groups): candidate R² "
                         f"{_ratio(g.candidate.r2)}, MAE ratio to linear {_ratio(g.mae_ratio)}, to strong "
                         f"{_ratio(g.strong_mae_ratio)}")
        verdict = "PROMOTED" if self.gate.promoted else "REJECTED"
        return "\n".join([*lines, f"gate: {verdict}", *(f"  - {reason}" for reason in self.gate.reasons)])

    def as_tags(self) -> dict[str, str]:
        """Model registry tags: the numbers that let this version through."""
        ev = self.evaluation
        tags = {f"{who}_{metric}": f"{getattr(getattr(ev, who), metric).mean:.6g}"
                for who in ("candidate", "baseline", "strong_baseline") for metric in ("mae", "rmse", "r2")}
        tags.update(mae_ratio=f"{ev.mae_ratio.mean:.4g}", mae_ratio_high=f"{ev.mae_ratio.high:.4g}",
                    strong_mae_ratio=f"{ev.strong_mae_ratio.mean:.4g}", r2_low=f"{ev.candidate.r2.low:.4g}",
                    dataset=ev.dataset, gate="passed" if self.gate.promoted else "rejected")
        if ev.grouped is not None:
            tags.update(grouped_r2=f"{ev.grouped.candidate.r2.mean:.4g}",
                        grouped_strong_mae_ratio=f"{ev.grouped.strong_mae_ratio.mean:.4g}")
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


def _at_most(what: str, f: Figure, limit: float, margin: float, confidence: float) -> tuple[bool, str]:
    """A ratio passes when its pessimistic end, the larger of the interval's upper end and mean + margin, is at
    most the limit: more repeats narrow the interval but never the margin."""
    worst = max(f.high, f.mean + margin)
    ok = worst <= limit
    return ok, (f"{what} {f.mean:.3f}, {confidence:.0%} CI [{f.low:.3f}, {f.high:.3f}]: pessimistic end "
                f"{worst:.3f} (CI or mean + {margin:g}) {'<=' if ok else '>'} {limit:g}")


def _at_least(what: str, f: Figure, floor: float, margin: float, confidence: float) -> tuple[bool, str]:
    worst = min(f.low, f.mean - margin)
    ok = worst >= floor
    return ok, (f"{what} {f.mean:.3f}, {confidence:.0%} CI [{f.low:.3f}, {f.high:.3f}]: pessimistic end "
                f"{worst:.3f} (CI or mean - {margin:g}) {'>=' if ok else '<'} the floor {floor:g}")


def decide(evaluation: Evaluation, config: GateConfig, champion: Evaluation | None = None) -> GateDecision:
    ev, value, confidence = evaluation, config.value, evaluation.cv.confidence
    margin, r2_margin = value("margin"), value("r2_margin")
    checks = [
        _at_most("MAE ratio to the linear baseline", ev.mae_ratio, value("max_mae_ratio"), margin, confidence),
        _at_most("MAE ratio to the strong baseline", ev.strong_mae_ratio, value("max_strong_mae_ratio"), margin,
                 confidence),
        _at_least("R²", ev.candidate.r2, value("r2_floor"), r2_margin, confidence),
    ]
    if not config.grouped_required.value:
        checks.append((True, "grouped evaluation reported, not required (grouped_required: false)"))
    elif ev.grouped is None:
        checks.append((True, "no grouped evaluation (the data set declares no group, or has fewer groups than "
                             "folds): nothing to require"))
    else:
        label = ev.grouped.label
        checks += [
            _at_most(f"MAE ratio to the strong baseline, unseen {label}s", ev.grouped.strong_mae_ratio,
                     value("grouped_max_strong_mae_ratio"), margin, confidence),
            _at_least(f"R², unseen {label}s", ev.grouped.candidate.r2, value("grouped_r2_floor"), r2_margin,
                      confidence),
        ]
    reasons = [text for _, text in checks]
    no_regression = True
    if champion is None:
        reasons.append("no current champion")
    elif champion.dataset_digest != ev.dataset_digest:
        reasons.append(f"the champion was trained on another declaration of the data set ({champion.dataset}); "
                       "not compared")
    else:
        tolerance = value("champion_tolerance")
        mine, theirs = ev.candidate.mae, champion.candidate.mae
        noise = math.hypot(mine.std / math.sqrt(len(mine.repeats)), theirs.std / math.sqrt(len(theirs.repeats)))
        z = NormalDist().inv_cdf((1 + confidence) / 2)
        surely_worse_by = (mine.mean - theirs.mean) - z * noise  # the smallest regression the data supports
        no_regression = surely_worse_by <= tolerance * theirs.mean
        reasons.append(
            f"champion's MAE {theirs.mean:,.0f}, candidate's {mine.mean:,.0f} (noise ±{z * noise:,.0f}): "
            + ("not worse beyond noise" if no_regression else
               f"worse by at least {surely_worse_by:,.0f}, over the {tolerance:.0%} tolerance"))
    goals = [(f"mean MAE ratio <= {value('goal_mae_ratio'):g}", ev.mae_ratio.mean <= value("goal_mae_ratio")),
             (f"mean R² >= {value('goal_r2'):g}", ev.candidate.r2.mean >= value("goal_r2"))]
    if ev.grouped is not None:
        goals.append((f"mean R² on unseen {ev.grouped.label}s >= {value('goal_grouped_r2'):g}",
                      ev.grouped.candidate.r2.mean >= value("goal_grouped_r2")))
    reasons.append("goals (not enforced): " + ", ".join(f"{text} {'reached' if ok else 'not reached'}"
                                                         for text, ok in goals))
    names = ("max_mae_ratio", "max_strong_mae_ratio", "r2_floor", "margin", "r2_margin", "grouped_required",
             "grouped_max_strong_mae_ratio", "grouped_r2_floor", "champion_tolerance", "confidence")
    return GateDecision(promoted=all(ok for ok, _ in checks) and no_regression, reasons=tuple(reasons),
                        thresholds={name: value(name) for name in names})


def write_metrics(folder: Path, evaluation: Evaluation, decision: GateDecision) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / METRICS_FILE
    document = MetricsFile(format="carprice-metrics/2", evaluation=evaluation, gate=decision)
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
