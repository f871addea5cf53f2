"""Major findings on the pipelines' flow, read from the pipelines as Azure DevOps compiles them:
approve the plan you apply, serialised runs, ML prod after dev's success, a gate rejection that is not
red, per-job set-up, trigger paths, and a synth artifact without provider binaries."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from stacks.config import environment_names
from tools.pipelines import check, expand
from tools.pipelines.outcome import main as outcome_main
from tools.pipelines.outcome import outcome_lines

PIPELINES = {p.stem: expand.expand(p) for p in expand.pipeline_paths()}
DEPLOY_PIPELINES = ("infrastructure", "ml", "app")


def _macros(text: str, job: expand.Job) -> str:
    return re.sub(r"\$\((environmentName)\)", lambda m: job.variables[m.group(1)], text)


def _commands(job: expand.Job) -> list[str]:
    return [_macros(s.get("script") or s.get("inputs", {}).get("arguments", ""), job) for s in job.steps]


@pytest.mark.parametrize("env", environment_names())
def test_the_approved_stage_applies_the_plans_made_before_it(env: str) -> None:
    stages = {s.name: s for s in PIPELINES["infrastructure"].stages}
    plan, apply = stages[f"infra_{env}_plan"], stages[f"infra_{env}_apply"]
    assert [j.kind for j in plan.jobs] == ["job"]  # no environment checks before the plan exists
    [planner] = plan.jobs
    planned = _commands(planner)
    assert any(c.startswith(f"make plan ENV={env} PLAN_DIR=") for c in planned)
    assert any(_macros(s.get("artifact", ""), planner) == f"plan-{env}" and "publish" in s for s in planner.steps)
    [applier] = apply.jobs
    assert applier.kind == "deployment" and applier.environment == f"carprice-{env}"
    assert apply.definition["dependsOn"] == f"infra_{env}_plan"
    assert "outputs['plan.summary.hasChanges'], 'true'" in apply.definition["condition"]
    applied = _commands(applier)
    assert not any(re.search(r"make (plan|synth|deploy)\b", c) for c in applied)  # nothing is planned again here
    assert f"make apply ENV={env} PLAN_DIR=$(Pipeline.Workspace)/plan-{env}" in applied
    assert applied.index(f"make apply ENV={env} PLAN_DIR=$(Pipeline.Workspace)/plan-{env}") < next(
        i for i, c in enumerate(applied) if c.startswith("make verify"))
    summary_step = next(s for s in planner.steps if s.get("name") == "summary")
    assert summary_step["script"].startswith("make plan-summary")


def test_the_artifact_is_the_plan_bundle_not_the_synth_folder() -> None:
    for stage in PIPELINES["infrastructure"].stages:
        for job in stage.jobs:
            published = [s["publish"] for s in job.steps if "publish" in s]
            assert all("cdktf.out" not in p for p in published)


def test_deploy_pipelines_run_one_at_a_time() -> None:
    for name in DEPLOY_PIPELINES:
        assert PIPELINES[name].definition["lockBehavior"] == "sequential"


def test_ml_prod_needs_devs_rollout_to_have_succeeded() -> None:
    stages = {s.name: s for s in PIPELINES["ml"].stages}
    prod = stages["ml_prod_train"].definition
    assert "ml_dev_rollout" in prod["dependsOn"] and prod["condition"].startswith("and(succeeded('ml_dev_rollout')")
    assert "not(failed())" not in prod["condition"]  # "not failed" lets a skipped dev through
    for env in environment_names():
        rollout = stages[f"ml_{env}_rollout"].definition["condition"]
        assert f"dependencies.ml_{env}_train.outputs['train.gate.promote'], 'true'" in rollout


def test_the_gate_step_reports_a_rejection_without_failing_the_run() -> None:
    for stage in PIPELINES["ml"].stages:
        for job in stage.jobs:
            gates = [s for s in job.steps if "ml-gate" in (s.get("script") or "")]
            for step in gates:
                assert step["name"] == "gate" and step["script"].startswith("make ml-gate-outcome ")
    assert outcome_lines("promote", 0, 3) == (["##vso[task.setvariable variable=promote;isOutput=true]true"], 0)
    rejected, code = outcome_lines("promote", 3, 3)
    assert code == 0 and rejected[0].endswith("]false") and "type=warning" in rejected[1]
    assert outcome_lines("promote", 2, 3) == ([], 2)  # the gate could not decide: that is a failure


@pytest.mark.parametrize(("exit_code", "expected"), [(0, 0), (3, 0), (1, 1)])
def test_outcome_wrapper_runs_the_command_and_maps_its_exit(exit_code: int, expected: int, capsys) -> None:
    code = outcome_main(["--variable", "promote", "--rejected-exit", "3", "--",
                         sys.executable, "-c", f"raise SystemExit({exit_code})"])
    assert code == expected
    out = capsys.readouterr().out
    assert ("isOutput=true]false" in out) == (exit_code == 3)


def test_deploy_jobs_use_the_slim_install_and_cache_the_environment() -> None:
    for name in DEPLOY_PIPELINES:
        for stage in PIPELINES[name].stages:
            for job in stage.jobs:
                commands = _commands(job)
                assert "make setup-deploy" in commands and "make setup" not in commands, job.name
                caches = [s["inputs"]["path"] for s in job.steps if s.get("task") == "Cache@2"]
                assert "$(Build.SourcesDirectory)/.venv" in caches
                if "make terraform" in commands:
                    assert "$(TF_PLUGIN_CACHE_DIR)" in caches


BUILD_FILES = ("Makefile", "pyproject.toml", "constraints.txt", "cdktf.json", "tools/setup.sh")


@pytest.mark.parametrize("name", DEPLOY_PIPELINES)
def test_trigger_paths_cover_what_the_pipeline_runs_and_only_its_own_templates(name: str) -> None:
    paths = PIPELINES[name].definition["trigger"]["paths"]["include"]
    assert set(BUILD_FILES) <= set(paths)
    assert "make/pipelines.mk" in paths and f"pipelines/{name}.yml" in paths
    assert "pipelines/templates" not in paths  # a shared template change fires only its users
    templates = {p.removeprefix("pipelines/templates/") for p in paths if p.startswith("pipelines/templates/")}
    used = {ref.removeprefix("templates/") for ref, _ in check.template_references(
        check.PIPELINES / f"{name}.yml", check.load(check.PIPELINES / f"{name}.yml"))}
    stage_template = next(t for t in used if t.endswith("-stages.yml"))
    nested = {ref for ref, _ in check.template_references(
        check.PIPELINES / "templates" / stage_template, check.load(check.PIPELINES / "templates" / stage_template))}
    needed = {t for t in used | nested if not t.startswith("variables/")} | {"variables"}
    assert needed <= templates, needed - templates


@pytest.mark.parametrize("name", DEPLOY_PIPELINES)
def test_trigger_paths_name_files_that_exist(name: str) -> None:
    root = check.PIPELINES.parent
    missing = [p for p in PIPELINES[name].definition["trigger"]["paths"]["include"]
               if "*" not in p and not (root / p).exists()]
    assert not missing, f"{name}: trigger paths that match nothing: {missing}"


def test_every_module_a_make_target_runs_exists() -> None:
    root = check.PIPELINES.parent
    text = "\n".join(p.read_text(encoding="utf-8") for p in [root / "Makefile", *sorted((root / "make").glob("*.mk"))])
    modules = set(re.findall(r"\$\(PY\) -m ([\w.]+)", text))
    assert "tools.deploy.ml.jobs" in modules  # deploy tooling grouped by what it deploys
    missing = sorted(m for m in modules if importlib.util.find_spec(m) is None)
    assert not missing, f"make targets run modules that do not exist: {missing}"


def test_a_dev_gate_rejection_skips_devs_rollout_and_with_it_prod() -> None:
    from tools.pipelines.dry_run import runs

    stages = {s.name: s.definition for s in PIPELINES["ml"].stages}
    prod = stages["ml_prod_train"]
    assert runs(prod["condition"], prod["dependsOn"], set())
    assert not runs(prod["condition"], prod["dependsOn"], {"ml_dev_rollout"})
    # The condition this replaces let prod train and roll out after a skipped dev stage:
    assert runs("and(not(failed()), not(canceled()))", prod["dependsOn"], {"ml_dev_rollout"})
