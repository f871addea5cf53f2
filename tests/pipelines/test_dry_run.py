"""The dry run walks a pipeline's jobs in order on this machine, Terraform against a fake Azure boundary
(an empty subscription that fills up), so a wrong target or a file missing between jobs fails here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tools.checks.pipelines.check import PIPELINES
from tools.checks.pipelines.dry_run import DryRunFailed, dry_run
from tools.checks.pipelines.scenarios import (
    SCENARIOS,
    bootstrap_on_an_empty_subscription,
    promotion_starts_the_app,
    unreviewed_applies,
)

pytestmark = pytest.mark.xdist_group("dry-run")


def test_infrastructure_dry_run_with_fake_azure_deploys_dev_from_an_empty_subscription_through_a_rerun(
        tmp_path: Path) -> None:
    """Scenario 2 on the way: dev-data's first apply fails half-way, "Rerun failed jobs" finishes the run."""
    walk = dry_run(PIPELINES / "infrastructure.yml", tmp_path, {"environment": "dev"}, rerun_failed_jobs=True,
                   fake_azure={"FAKE_AZURE_FAIL_APPLY": "dev-data"})
    assert any(line.strip().startswith("ran   make plan ENV=dev") for line in walk.log)
    assert any("infra_dev_apply_2.apply" in line and "attempt 2" in line for line in walk.log)
    bundle = walk.artifacts["plan-dev-1"]
    assert bundle is not None and not list(bundle.rglob(".terraform"))
    summary = json.loads((bundle / "summary.json").read_text())
    assert [n for n, s in summary["stacks"].items() if s["status"] == "planned"] == ["dev-foundation"]
    applied = sorted(p.stem for p in walk.subscription.glob("*.json"))
    assert applied == sorted(summary["order"])  # every stack reached the fake subscription, round by round
    assert not unreviewed_applies(walk)  # each from a plan an approval saw first
    assert "infrastructure-applied" in walk.tags


def _pipeline(tmp_path: Path, steps: list[dict[str, object]]) -> Path:
    path = tmp_path / "broken.yml"
    path.write_text(json.dumps({"trigger": "none", "jobs": [{"job": "one", "steps": [{"checkout": "self"}, *steps]}]}))
    return path


def test_dry_run_fails_on_a_target_no_makefile_defines(tmp_path: Path) -> None:
    with pytest.raises(DryRunFailed, match="make no-such-target is not a target"):
        dry_run(_pipeline(tmp_path, [{"script": "make no-such-target ENV=dev"}]), tmp_path / "walk")


def test_dry_run_fails_on_an_artifact_no_earlier_job_published(tmp_path: Path) -> None:
    with pytest.raises(DryRunFailed, match="downloads artifact plan-dev, which no earlier job published"):
        dry_run(_pipeline(tmp_path, [{"download": "current", "artifact": "plan-dev"}]), tmp_path / "walk")


def test_dry_run_fails_on_a_file_the_job_does_not_have(tmp_path: Path) -> None:
    step = {"script": "make verify ENV=dev CDKTF_OUT=somewhere/else"}
    with pytest.raises(DryRunFailed, match="CDKTF_OUT=somewhere/else does not exist"):
        dry_run(_pipeline(tmp_path, [step]), tmp_path / "walk")


def test_scenario_bootstrap_on_an_empty_subscription_with_fake_azure(tmp_path: Path) -> None:
    assert bootstrap_on_an_empty_subscription(tmp_path) == []


def test_scenario_a_promotion_starts_the_app_pipeline_with_fake_azure_devops(tmp_path: Path) -> None:
    assert promotion_starts_the_app(tmp_path) == []


def test_the_scenario_list_numbers_each_scenario_once() -> None:
    numbers = [s.number for s in SCENARIOS]
    assert len(numbers) == len(set(numbers)) and set(numbers) == {1, 2, 3, 4, 5, 6}


def test_ml_dry_run_fills_the_listings_index_from_gold_after_training_with_fake_azure(tmp_path: Path) -> None:
    walk = dry_run(PIPELINES / "ml.yml", tmp_path, {"environment": "dev"})
    stages = [line.strip() for line in walk.log if line.startswith(" stage ")]
    assert stages.index("stage ml_dev_train") < stages.index("stage ml_dev_listings")
    step = next(line.strip() for line in walk.log if "make index-gold" in line)
    assert step.startswith("check make index-gold ENV=dev CDKTF_OUT=") and step.split()[4].endswith("ml-synth-dev")
