"""The promotion gate (ml/carprice/gate.py) on per-repeat figures, and its metrics file read strictly: no model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ml.carprice.evaluate import figure
from ml.carprice.gate import (
    CrossValidation,
    Evaluation,
    GateFileError,
    ModelFigures,
    PriceInterval,
    decide,
    load_config,
    read_metrics,
    write_metrics,
)

CONFIG = load_config()
CONFIDENCE = CONFIG.value("confidence")
REPEATS = int(CONFIG.value("repeats"))


def _figures(mae: list[float], r2: list[float]) -> ModelFigures:
    return ModelFigures(mae=figure(mae, CONFIDENCE), rmse=figure([m * 1.4 for m in mae], CONFIDENCE),
                        r2=figure(r2, CONFIDENCE))


def _evaluation(candidate_mae: list[float], baseline_mae: list[float], r2: list[float],
                digest: str = "d1") -> Evaluation:
    ratio = [c / b for c, b in zip(candidate_mae, baseline_mae, strict=True)]
    n = len(candidate_mae)
    return Evaluation(
        dataset="cars", dataset_digest=digest, rows=200,
        cv=CrossValidation(folds=5, repeats=n, seeds=tuple(range(n)), confidence=CONFIDENCE, quick=False),
        candidate=_figures(candidate_mae, r2), baseline=_figures(baseline_mae, [0.85] * n),
        mae_ratio=figure(ratio, CONFIDENCE), grouped=None,
        price_interval=PriceInterval(quantiles=(0.05, 0.95), ratio_low=0.85, ratio_high=1.15),
    )


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
    assert "upper end >" in decision.reasons[0]


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
    assert f"lower end < the floor {floor:g}" in decision.reasons[1]


def test_a_retrain_of_the_same_recipe_is_not_rejected_against_its_own_champion() -> None:
    # Same recipe, other splits and seeds: each repeat differs, and the candidate's mean MAE can come out higher.
    for seed in range(20):
        retrain = _evaluation(_draws(1250, 40, 100 + seed), _draws(1850, 60, 200 + seed), _draws(0.944, 0.005, seed))
        assert decide(retrain, CONFIG, champion=GOOD).promoted, seed


def test_a_candidate_worse_than_the_champion_beyond_noise_is_rejected() -> None:
    worse = _evaluation(_draws(1400, 40, 8), _draws(2300, 60, 9), _draws(0.944, 0.005, 10))
    assert decide(worse, CONFIG).promoted  # good enough on its own
    decision = decide(worse, CONFIG, champion=GOOD)
    assert not decision.promoted and "over the 3% tolerance" in decision.reasons[2]


def test_a_champion_of_another_declaration_is_not_compared() -> None:
    other = _evaluation(_draws(900, 40, 1), _draws(1850, 60, 2), _draws(0.96, 0.005, 3), digest="other")
    decision = decide(GOOD, CONFIG, champion=other)
    assert decision.promoted and "another declaration" in decision.reasons[2]


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
    with pytest.raises(GateFileError, match=r"gate.yml: r2_floor: Field required"):
        load_config(broken)
    broken.write_text(text.replace("  value: 0.95", "  value: 1.5"))
    with pytest.raises(GateFileError, match=r"gate.yml: confidence.value: a probability"):
        load_config(broken)
    assert all(getattr(CONFIG, name).why for name in type(CONFIG).model_fields)  # every threshold says why
