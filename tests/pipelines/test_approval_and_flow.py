"""Major findings on the pipelines' flow, read from the pipelines as Azure DevOps compiles them:
approve the plan you apply, serialised runs, ML prod after dev's success, a gate rejection that is not
red, per-job set-up, trigger paths, and a synth artifact without provider binaries."""

from __future__ import annotations

import importlib.util
import re
import sys

import pytest

from stacks.config import environment_names
from tools.checks.pipelines import check, expand
from tools.checks.pipelines.outcome import main as outcome_main
from tools.checks.pipelines.outcome import outcome_lines

PIPELINES = {p.stem: expand.expand(p) for p in expand.pipeline_paths()}
DEPLOY_PIPELINES = ("infrastructure", "ml", "app")


def _macros(text: str, job: expand.Job) -> str:
    return re.sub(r"\$\((environmentName)\)", lambda m: job.variables[m.group(1)], text)


def _commands(job: expand.Job) -> list[str]:
    return [_macros(s.get("script") or s.get("inputs", {}).get("arguments", ""), job) for s in job.steps]


def _rounds(env: str) -> list[tuple[expand.Stage, expand.Stage]]:
    stages = {s.name: s for s in PIPELINES["infrastructure"].stages}
    return [(stages[f"infra_{env}_plan_{k}"], stages[f"infra_{env}_apply_{k}"])
            for k in range(1, 100) if f"infra_{env}_plan_{k}" in stages]


@pytest.mark.parametrize("env", environment_names())
def test_every_apply_stage_applies_exactly_the_plans_its_round_published(env: str) -> None:
    rounds = _rounds(env)
    assert len(rounds) >= 2
    for number, (plan, apply) in enumerate(rounds, start=1):
        [planner] = plan.jobs
        assert planner.kind == "job"  # no environment checks before the plan exists
        planned = _commands(planner)
        assert any(c.startswith(f"make plan ENV={env} PLAN_DIR=") for c in planned)
        assert ("make synth ENV=" + env in planned) == (number == 1)  # one synth per environment and run
        assert any(_macros(s.get("artifact", ""), planner) == f"plan-{env}-{number}" and "publish" in s
                   for s in planner.steps)
        assert next(s for s in planner.steps if s.get("name") == "summary")["script"].startswith("make plan-summary")
        [applier] = apply.jobs
        assert applier.kind == "deployment" and applier.environment == f"carprice-{env}"
        assert apply.definition["dependsOn"] == plan.name
        assert "outputs['plan.summary.hasChanges'], 'true'" in apply.definition["condition"]
        applied = _commands(applier)
        assert not any(re.search(r"make (plan|synth|deploy)\b", c) for c in applied)  # nothing planned here
        [command] = [c for c in applied if c.startswith("make apply")]
        assert f"PLAN_DIR=$(Pipeline.Workspace)/plan-{env}-{number} ATTEMPT=$(System.JobAttempt)" in command
        assert command.endswith("FINAL_ROUND=" + ("true" if number == len(rounds) else "false"))
        if number > 1:  # a round runs only after the previous round applied something
            assert plan.definition["dependsOn"] == f"infra_{env}_apply_{number - 1}"
            assert plan.definition["condition"] == "succeeded()"


@pytest.mark.parametrize("env", environment_names())
def test_private_endpoints_and_verify_are_jobs_of_their_own_after_the_last_round(env: str) -> None:
    stages = {s.name: s for s in PIPELINES["infrastructure"].stages}
    settle = stages[f"infra_{env}_settle"]
    assert {f"infra_{env}_apply_{k}" for k in range(1, len(_rounds(env)) + 1)} <= set(settle.definition["dependsOn"])
    jobs = {j.name: j for j in settle.jobs}
    assert set(jobs) == {"private_endpoints", "verify"} and all(j.kind == "job" for j in jobs.values())
    assert jobs["verify"].definition["dependsOn"] == "private_endpoints"
    assert any(c.startswith("make approve-private-endpoints") for c in _commands(jobs["private_endpoints"]))
    assert any(c.startswith("make verify") for c in _commands(jobs["verify"]))


def test_there_is_a_round_per_dependency_level_plus_one(synth) -> None:
    from tools.deploy.infra.plan import levels, select_stacks
    from tools.synth_output import environment_stacks, load_stacks

    every = load_stacks(synth.root)
    for env in environment_names():
        stacks = environment_stacks(every, env)
        deepest = max(levels({n: stacks[n] for n in select_stacks(stacks, env)}).values())
        assert len(_rounds(env)) >= deepest + 1, f"{env}: {deepest} levels need {deepest + 1} rounds"


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


BUILD_FILES = ("Makefile", "make/pipelines.mk", "pyproject.toml", "constraints.txt", "cdktf.json", "tools/setup.sh",
               "package.json", "package-lock.json")
SHARED_TEMPLATES = ("pipelines/templates/setup.yml", "pipelines/templates/node.yml",
                    "pipelines/templates/azure-make.yml", "pipelines/templates/variables")


def _paths(name: str) -> list[str]:
    return PIPELINES[name].definition["trigger"]["paths"]["include"]


def test_build_files_and_shared_templates_start_the_infrastructure_pipeline_only() -> None:
    assert set(BUILD_FILES) | set(SHARED_TEMPLATES) <= set(_paths("infrastructure"))
    for name in ("ml", "app"):
        assert not (set(BUILD_FILES) | set(SHARED_TEMPLATES)) & set(_paths(name)), name


@pytest.mark.parametrize("name", DEPLOY_PIPELINES)
def test_trigger_paths_hold_the_pipelines_own_files_and_templates(name: str) -> None:
    paths = _paths(name)
    assert f"pipelines/{name}.yml" in paths and "pipelines/templates" not in paths
    stage_template = {"infrastructure": "infra-stages.yml", "ml": "ml-stages.yml", "app": "app-stages.yml"}[name]
    assert f"pipelines/templates/{stage_template}" in paths
    if name == "infrastructure":  # the first pipeline of the chain runs on every template it uses
        used = {ref.removeprefix("templates/") for ref, _ in check.template_references(
            check.PIPELINES / f"{name}.yml", check.load(check.PIPELINES / f"{name}.yml"))}
        nested: set[str] = set()
        for template in sorted(t for t in used if not t.startswith("variables/")):
            nested |= {ref for ref, _ in check.template_references(
                check.PIPELINES / "templates" / template, check.load(check.PIPELINES / "templates" / template))}
        needed = {f"pipelines/templates/{t}" for t in used | nested if not t.startswith("variables/")}
        assert needed <= set(paths), needed - set(paths)


def test_the_pipelines_are_chained_infrastructure_ml_app_by_tagged_runs() -> None:
    from tools.checks.pipelines.triggers import PIPELINE_NAMES

    def resource(name: str) -> dict:
        [found] = PIPELINES[name].definition["resources"]["pipelines"]
        return found

    def tags_added(name: str) -> set[str]:
        return {m for stage in PIPELINES[name].stages for job in stage.jobs for c in _commands(job)
                for m in re.findall(r"make pipeline-tag TAG=([\w-]+)", c)}

    for downstream, upstream in (("ml", "infrastructure"), ("app", "ml")):
        found = resource(downstream)
        assert found["source"] == PIPELINE_NAMES[upstream]
        assert found["trigger"]["branches"]["include"] == ["main"]
        assert set(found["trigger"]["tags"]) <= tags_added(upstream)
    # A tag is added only by the step after the work it announces.
    for name, target in (("infrastructure", "make apply"), ("ml", "make ml-rollout")):
        for stage in PIPELINES[name].stages:
            for job in stage.jobs:
                commands = _commands(job)
                if any("make pipeline-tag" in c for c in commands):
                    assert any(c.startswith(target) for c in commands[:-1]), job.name


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
    from tools.checks.pipelines.dry_run import runs

    stages = {s.name: s.definition for s in PIPELINES["ml"].stages}
    prod = stages["ml_prod_train"]
    assert runs(prod["condition"], prod["dependsOn"], set())
    assert not runs(prod["condition"], prod["dependsOn"], {"ml_dev_rollout"})
    # The condition this replaces let prod train and roll out after a skipped dev stage:
    assert runs("and(not(failed()), not(canceled()))", prod["dependsOn"], {"ml_dev_rollout"})


def test_the_listings_index_follows_every_training_run_and_never_holds_the_rollout_back() -> None:
    """Gold is rewritten by training whether or not the gate promotes the model: the listings stage needs the
    train stage only, and neither the rollout nor the next environment waits for it."""
    stages = {s.name: s for s in PIPELINES["ml"].stages}
    for env in environment_names():
        listings = stages[f"ml_{env}_listings"]
        assert listings.definition["dependsOn"] == f"ml_{env}_train"
        assert "outputs" not in listings.definition["condition"]  # not gated on promote
        assert any(c.startswith("make index-gold ENV=") for c in _commands(listings.jobs[0]))
        assert f"ml_{env}_listings" not in str(stages[f"ml_{env}_rollout"].definition.get("dependsOn"))
    assert "listings" not in str(stages["ml_prod_train"].definition["dependsOn"])
