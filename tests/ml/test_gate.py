"""The promotion gate (ml/carprice/gate.py) on per-repeat figures, and its metrics file read strictly: no model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ml.carprice import dataset as datasets
from ml.carprice.evaluate import figure
from ml.carprice.gate import (
    CrossValidation,
    Evaluation,
    Figure,
    GateFileError,
    GroupedFigures,
    ModelFigures,
    PriceInterval,
    decide,
    load_config,
    read_metrics,
    write_metrics,
)
from tests.ml.rentals import DECLARATION

CONFIG = load_config(dataset=datasets.active())  # the defaults under the UCI cars' own thresholds
CONFIDENCE = CONFIG.value("confidence")
REPEATS = int(CONFIG.value("repeats"))


def _figures(mae: list[float], r2: list[float]) -> ModelFigures:
    return ModelFigures(mae=figure(mae, CONFIDENCE), rmse=figure([m * 1.4 for m in mae], CONFIDENCE),
                        r2=figure(r2, CONFIDENCE))


def _evaluation(candidate_mae: list[float], baseline_mae: list[float], r2: list[float],
                digest: str = "d1", strong_mae: list[float] | None = None,
                grouped: GroupedFigures | None = None) -> Evaluation:
    n = len(candidate_mae)
    strong = strong_mae or [b * 0.8 for b in baseline_mae]
    return Evaluation(
        dataset="cars", dataset_digest=digest, recipe="r1", models={}, rows=200,
        cv=CrossValidation(folds=5, repeats=n, seeds=tuple(range(n)), inspected_seeds=(), confidence=CONFIDENCE,
                           quick=False),
        candidate=_figures(candidate_mae, r2), baseline=_figures(baseline_mae, [0.85] * n),
        strong_baseline=_figures(strong, [0.9] * n), mae_ratio=_ratio(candidate_mae, baseline_mae),
        strong_mae_ratio=_ratio(candidate_mae, strong), grouped=grouped,
        price_interval=PriceInterval(quantiles=(0.05, 0.95), ratio_low=0.85, ratio_high=1.15),
    )


def _ratio(mine: list[float], theirs: list[float]) -> Figure:
    return figure([c / b for c, b in zip(mine, theirs, strict=True)], CONFIDENCE)


def _draws(mean: float, sd: float, seed: int, n: int = REPEATS) -> list[float]:
    return list(np.random.default_rng(seed).normal(mean, sd, n))


GOOD = _evaluation(_draws(1250, 40, 1), _draws(1850, 60, 2), _draws(0.944, 0.005, 3))


def test_a_candidate_clearly_better_than_the_baseline_with_a_good_r2_is_promoted() -> None:
    decision = decide(GOOD, CONFIG)
    assert decision.promoted, decision.reasons
    assert decision.thresholds["max_mae_ratio"] == CONFIG.value("max_mae_ratio")


def test_a_candidate_that_only_wins_on_a_lucky_split_is_rejected() -> None:
    # One repeat far ahead of the baseline, the others level with it: one draw would promote it, the interval not.
    baseline = _draws(1850, 60, 4)
    candidate = [0.55 * baseline[0]] + [b * r for b, r in zip(baseline[1:], _draws(0.95, 0.05, 5), strict=False)]
    lucky = _evaluation(candidate, baseline, _draws(0.93, 0.005, 6))
    assert lucky.mae_ratio.repeats[0] < CONFIG.value("max_mae_ratio")  # the lucky draw alone would pass
    decision = decide(lucky, CONFIG)
    assert not decision.promoted
    assert "MAE ratio to the linear baseline" in decision.reasons[0] and ") > 0.75" in decision.reasons[0]


def test_a_mean_under_the_limit_with_a_wide_spread_is_rejected() -> None:
    limit = CONFIG.value("max_mae_ratio")
    baseline = [1850.0] * 4
    candidate = [b * r for b, r in zip(baseline, (limit - 0.25, limit + 0.15, limit - 0.2, limit + 0.2), strict=True)]
    noisy = _evaluation(candidate, baseline, [0.95] * 4)
    assert noisy.mae_ratio.mean < limit < noisy.mae_ratio.high
    assert not decide(noisy, CONFIG).promoted


def test_r2_below_the_floor_is_rejected_even_when_the_mae_ratio_passes() -> None:
    floor = CONFIG.value("r2_floor")
    weak = _evaluation(_draws(1250, 40, 1), _draws(1850, 60, 2), _draws(floor - 0.01, 0.005, 7))
    decision = decide(weak, CONFIG)
    assert weak.mae_ratio.high <= CONFIG.value("max_mae_ratio") and not decision.promoted
    assert f"< the floor {floor:g}" in decision.reasons[2]


def test_a_retrain_of_the_same_recipe_is_not_rejected_against_its_own_champion() -> None:
    # Same recipe, other splits and seeds: each repeat differs, and the candidate's mean MAE can come out higher.
    for seed in range(20):
        retrain = _evaluation(_draws(1250, 40, 100 + seed), _draws(1850, 60, 200 + seed), _draws(0.944, 0.005, seed))
        assert decide(retrain, CONFIG, champion=GOOD).promoted, seed


def test_a_candidate_worse_than_the_champion_beyond_noise_is_rejected() -> None:
    worse = _evaluation(_draws(1400, 40, 8), _draws(2300, 60, 9), _draws(0.944, 0.005, 10))
    assert decide(worse, CONFIG).promoted  # good enough on its own
    decision = decide(worse, CONFIG, champion=GOOD)
    assert not decision.promoted and "over the 3% tolerance" in decision.reasons[-2]


def test_a_champion_of_another_declaration_is_not_compared() -> None:
    other = _evaluation(_draws(900, 40, 1), _draws(1850, 60, 2), _draws(0.96, 0.005, 3), digest="other")
    decision = decide(GOOD, CONFIG, champion=other)
    assert decision.promoted and "another declaration" in decision.reasons[-2]


def test_the_metrics_file_round_trips_and_is_read_strictly(tmp_path: Path) -> None:
    path = write_metrics(tmp_path / "out", GOOD, decide(GOOD, CONFIG))
    assert read_metrics(tmp_path).evaluation == GOOD  # found below a downloaded folder too
    document = json.loads(path.read_text())
    document["gate"]["promoted"] = "yes"
    path.write_text(json.dumps(document))
    with pytest.raises(GateFileError, match=r"metrics.json: gate.promoted: Input should be a valid boolean"):
        read_metrics(path)
    document["gate"]["promoted"] = True
    document["gate"]["passed"] = True
    path.write_text(json.dumps(document))
    with pytest.raises(GateFileError, match=r"gate.passed: Extra inputs are not permitted"):
        read_metrics(path)
    del document["gate"]["passed"], document["evaluation"]["candidate"]["mae"]
    path.write_text(json.dumps(document))
    with pytest.raises(GateFileError, match=r"evaluation.candidate.mae: Field required"):
        read_metrics(path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(GateFileError, match="no metrics.json under"):
        read_metrics(tmp_path / "empty")
    with pytest.raises(GateFileError, match="cannot read the evaluation metrics"):
        read_metrics(tmp_path / "nowhere.json")


def test_a_broken_gate_config_names_the_file_and_the_key(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "ml" / "carprice" / "gate.yml").read_text()
    broken = tmp_path / "gate.yml"
    broken.write_text(text.replace("r2_floor:", "r2_flor:"))
    with pytest.raises(GateFileError, match=r"gate.yml: r2_flor: not a gate setting; the settings are repeats"):
        load_config(broken)
    broken.write_text(text.replace("confidence:\n  value: 0.95", "confidence:\n  value: 1.5"))
    with pytest.raises(GateFileError, match=r"gate.yml: confidence.value: a probability"):
        load_config(broken)
    assert all(getattr(CONFIG, name).why for name in type(CONFIG).model_fields)  # every threshold says why


def test_a_candidate_only_level_with_the_strong_baseline_is_rejected_however_many_repeats() -> None:
    # 99 % of the forest's MAE with a tiny spread: the interval alone would pass with enough repeats; the fixed
    # margin keeps the mean 0.02 under the limit, and more repeats cannot shrink it.
    for repeats in (20, 200):
        strong = _draws(1300, 40, 11, repeats)
        level = _evaluation([m * 0.99 for m in strong], _draws(1850, 60, 12, repeats),
                            _draws(0.944, 0.005, 13, repeats), strong_mae=strong)
        assert level.strong_mae_ratio.high < CONFIG.value("max_strong_mae_ratio")
        decision = decide(level, CONFIG)
        assert not decision.promoted and "(CI or mean + 0.02) > 1" in decision.reasons[1], repeats


def _grouped(r2: list[float], strong_ratio: float) -> GroupedFigures:
    n = len(r2)
    candidate, strong = _draws(1600, 60, 21, n), _draws(1600 / strong_ratio, 60, 22, n)
    return GroupedFigures(label="platform", columns=("make",), groups=90, candidate=_figures(candidate, r2),
                          baseline=_figures(_draws(2300, 90, 23, n), [0.8] * n), strong_baseline=_figures(strong, r2),
                          mae_ratio=_ratio(candidate, _draws(2300, 90, 23, n)),
                          strong_mae_ratio=_ratio(candidate, strong))


def test_where_a_group_is_declared_the_gate_requires_the_grouped_figures_unless_told_not_to(tmp_path: Path) -> None:
    floor = CONFIG.value("grouped_r2_floor")
    weak = _evaluation(_draws(1250, 40, 1), _draws(1850, 60, 2), _draws(0.944, 0.005, 3),
                       grouped=_grouped(_draws(floor - 0.03, 0.01, 24), 0.9))
    decision = decide(weak, CONFIG)
    assert not decision.promoted and "R², unseen platforms" in decision.reasons[4]
    assert decide(weak.model_copy(update={"grouped": _grouped(_draws(0.9, 0.01, 24), 0.9)}), CONFIG).promoted
    relaxed = tmp_path / "relaxed.yml"
    relaxed.write_text("grouped_required: {value: false, why: a test}\n")
    lenient = load_config(dataset=datasets.active(), override=relaxed)
    assert decide(weak, lenient).promoted and "not required" in decide(weak, lenient).reasons[3]


def test_gate_settings_come_from_the_defaults_the_declaration_and_a_gate_file_in_that_order(tmp_path: Path) -> None:
    defaults, cars = load_config(), CONFIG
    assert defaults.value("max_mae_ratio") == 0.95 and cars.value("max_mae_ratio") == 0.75
    assert cars.value("max_strong_mae_ratio") == defaults.value("max_strong_mae_ratio")  # not set by the cars
    override = tmp_path / "mine.gate.yml"
    override.write_text("r2_floor: {value: 0.5, why: a test}\n")
    assert load_config(dataset=datasets.active(), override=override).value("r2_floor") == 0.5
    # A declaration may name a gate file beside it instead.
    (tmp_path / "rents.gate.yml").write_text("max_mae_ratio: {value: 0.8, why: a test}\n")
    beside = datasets.from_mapping({**DECLARATION, "gate": "rents.gate.yml"}, str(tmp_path / "rents.yml"))
    assert load_config(dataset=beside).value("max_mae_ratio") == 0.8


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"max_ratio": {"value": 0.8, "why": "x"}}, r"rents.yml: gate.max_ratio: not a gate setting; the settings "
                                                    r"are repeats, .* \(see docs/dataset-reference.md#gate\)"),
        ({"r2_floor": {"value": "high", "why": "x"}},
         r"rents.yml: gate.r2_floor.value: Input should be a valid number"),
        ({"r2_floor": 0.9}, r"rents.yml: gate.r2_floor: Input should be a valid dictionary"),
        ({"first_seed": {"value": 1005, "why": "x"}},
         r"rents.yml: gate.first_seed.value: the deciding seeds include 1005, 1006, .* which inspected_seeds "
         r"\(.*gate.yml: inspected_seeds\) lists as already looked at"),
    ],
)
def test_a_bad_gate_setting_in_a_declaration_names_the_file_and_the_key(tmp_path: Path, gate: dict,
                                                                      message: str) -> None:
    dataset = datasets.from_mapping({**DECLARATION, "gate": gate}, str(tmp_path / "rents.yml"))
    with pytest.raises(GateFileError, match=message):
        load_config(dataset=dataset)
