"""`make pipelines-dry-run` scenarios: whole runs of the pipelines against FAKE Azure and FAKE Azure DevOps.

Each scenario plays a situation a real first run or rerun meets, with fakes that encode Azure's documented
rules (fake_azure/terraform, triggers.py, fake_arm.py beside this file;
each rule is cited beside its code), and returns the problems it found (none: the scenario passes).

SCENARIOS is the list `make pipelines-dry-run` plays. Other areas add theirs by appending a Scenario whose
`play(root)` returns problems, e.g. the first ML rollout (3) and batch scoring without an endpoint (4) from
tools/deploy/ml/.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tools.checks.pipelines.check import PIPELINES
from tools.checks.pipelines.dry_run import DryRunFailed, Walk, dry_run
from tools.checks.pipelines.triggers import started_by_completion, started_by_push, tracked_files
from tools.deploy.ml import scenarios as ml_scenarios

ROOT = Path(__file__).resolve().parents[3]
# Files every deploy pipeline runs: a change to them starts the infrastructure pipeline, which chains on.
BUILD_FILES = ("Makefile", "make/pipelines.mk", "pyproject.toml", "constraints.txt", "package.json",
               "package-lock.json", "cdktf.json", "tools/setup.sh")
SHARED_TEMPLATES = ("pipelines/templates/setup.yml", "pipelines/templates/node.yml",
                    "pipelines/templates/azure-make.yml", "pipelines/templates/variables/")


@dataclass(frozen=True)
class Scenario:
    number: int
    title: str
    play: Callable[[Path], list[str]]


def unreviewed_applies(walk: Walk) -> list[str]:
    """Applies whose saved plan no approval had seen before it (every apply must follow a reviewed plan)."""
    seen: set[str] = set()
    problems = []
    for event in walk.events():
        if event["event"] == "approval":
            seen.update(event["seen"])
        elif event["event"] in ("apply", "apply-failed") and event["plan"] not in seen:
            problems.append(f"{event['stack']} was applied from a plan no approval saw")
    return problems


def unapplied_stacks(walk: Walk, environments: tuple[str, ...]) -> list[str]:
    applied = {e["stack"] for e in walk.events() if e["event"] == "apply"}
    bundles = [p for name, p in walk.artifacts.items() if name.startswith("plan-") and p]
    stacks = sorted({p.parent.name for bundle in bundles for p in bundle.glob("stacks/*/cdk.tf.json")})
    missing = [f"no plan bundle for {env} was published" for env in environments
               if not any(s.startswith(f"{env}-") for s in stacks)]
    return missing + [f"{stack} never reached the subscription" for stack in stacks if stack not in applied]


def _chain(root: Path, first: str, subscription: Path, **options: object) -> tuple[list[str], list[Walk]]:
    """Run `first`, then every pipeline its successful runs start, in order (each at most once)."""
    problems: list[str] = []
    walks: list[Walk] = []
    queue, done = [first], set()
    while queue:
        name = queue.pop(0)
        if name in done:
            continue
        done.add(name)
        try:
            walk = dry_run(PIPELINES / f"{name}.yml", root, subscription=subscription, **options)  # type: ignore[arg-type]
        except DryRunFailed as failure:
            problems.append(f"{name} failed: {str(failure)[:1500]}")
            break
        walks.append(walk)
        queue.extend(started_by_completion(name, walk.tags))
    return problems, walks


def first_run_on_an_empty_subscription(root: Path) -> list[str]:
    """(1) The first push starts infrastructure alone; its run starts ML, ML's promotion starts the app;
    every stack is applied, each from a plan an approval saw first, prod included."""
    problems = []
    pushed = [f for f in tracked_files(ROOT) if f in BUILD_FILES or f.startswith(("stacks/", *SHARED_TEMPLATES))]
    deploy = [name for name in started_by_push(pushed) if name != "pr-validation"]
    if deploy != ["infrastructure"]:
        problems.append(f"a push of build files, shared templates and stacks starts {deploy}: only infrastructure "
                        "may (ML and app would run against infrastructure that is not there yet)")
    chained, walks = _chain(root, "infrastructure", root / "subscription")
    problems += chained
    ran = [walk.root.name for walk in walks]
    if not chained and ran != ["infrastructure", "ml", "app"]:
        problems.append(f"the chain ran {ran}, not infrastructure -> ml -> app")
    if walks:
        problems += unreviewed_applies(walks[0]) + unapplied_stacks(walks[0], ("dev", "prod"))
    return problems


def rerun_after_a_failed_apply(root: Path) -> list[str]:
    """(2) An apply fails half-way through dev's data stack (an Azure error); "Rerun failed jobs" finishes
    the run: stacks already applied are skipped, the half-applied one is re-planned and approved first."""
    try:
        walk = dry_run(PIPELINES / "infrastructure.yml", root, {"environment": "dev"}, rerun_failed_jobs=True,
                       fake_azure={"FAKE_AZURE_FAIL_APPLY": "dev-data"})
    except DryRunFailed as failure:
        return [f"the rerun failed: {str(failure)[:1500]}"]
    problems = unreviewed_applies(walk) + unapplied_stacks(walk, ("dev",))
    events = walk.events()
    failed_at = next((i for i, e in enumerate(events) if e["event"] == "apply-failed"), None)
    if failed_at is None:
        problems.append("the fake never failed the apply of dev-data")
    else:
        approved_after = any(e["event"] == "approval" for e in events[failed_at:])
        reapplied = [e for e in events[failed_at:] if e["event"] == "apply" and e["stack"] == "dev-data"]
        if not reapplied or not approved_after:
            problems.append("dev-data was not re-planned behind a new approval after it failed half-way")
    return problems


def promotion_starts_the_app(root: Path) -> list[str]:
    """(6) A model promoted by the ML pipeline starts the app pipeline; a run that promotes nothing does not."""
    try:
        walk = dry_run(PIPELINES / "ml.yml", root)
    except DryRunFailed as failure:
        return [f"ml failed: {str(failure)[:1500]}"]
    problems = []
    if "app" not in started_by_completion("ml", walk.tags):
        problems.append(f"a run that promoted a model (tags {sorted(walk.tags)}) does not start the app pipeline")
    if "app" in started_by_completion("ml", set()):
        problems.append("an ML run that promoted nothing starts the app pipeline too")
    return problems


def bootstrap_on_an_empty_subscription(root: Path) -> list[str]:
    """(5) `make bootstrap` on a subscription where the pool's providers are unregistered and the caller has
    no data role on the (new) state account: one pass ends with the providers Registered, the state
    container readable by the caller, and the pool principal's id looked up (the environment file holds none)."""
    from stacks.config import ENVIRONMENTS_DIR, load_environment
    from tools.checks.pipelines.fake_arm import POOL_PRINCIPAL, FakeAzure, FakeCredential
    from tools.deploy.infra import bootstrap

    config = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
    azure = FakeAzure()
    no_wait = bootstrap.Waiting(attempts=10, seconds=0.0, sleep=lambda _: None)
    problems = []
    try:
        report = bootstrap.bootstrap_environment(config, FakeCredential(), no_wait, transport=azure)
    except Exception as failure:  # noqa: BLE001 - any failure of the pass is the finding
        return [f"bootstrap failed: {type(failure).__name__}: {str(failure)[:500]}"]
    for namespace in bootstrap.AGENT_POOL_PROVIDERS:
        if azure.providers.get(namespace) != "Registered":
            problems.append(f"{namespace} is {azure.providers.get(namespace)} when bootstrap ends, not Registered")
    if azure.blob_polls_since_grant <= azure.polls_until_role_propagates:
        problems.append("the caller cannot read the state container when bootstrap ends (terraform init gets 403)")
    if getattr(report, "principal_id", None) != POOL_PRINCIPAL:
        problems.append("the DevOpsInfrastructure principal id was not looked up: the agents stack would need it typed")
    agents = config.agents
    if agents is not None and agents.devops_infrastructure_principal_id is not None:
        problems.append("the environment file still carries a devops_infrastructure_principal_id to type in")
    return problems


def ml_scenario(name: str) -> Callable[[Path], list[str]]:
    """One of tools/deploy/ml/scenarios.py (FAKE Azure ML): it returns what happened, or raises what went wrong."""
    def play(_root: Path) -> list[str]:
        (outcome,) = ml_scenarios.run_scenarios(only=name)
        print(outcome.detail, flush=True)
        return [] if outcome.passed else [outcome.detail]
    return play


SCENARIOS: list[Scenario] = [
    Scenario(1, "empty subscription: infrastructure -> ML -> app, every plan approved before its apply",
             first_run_on_an_empty_subscription),
    Scenario(2, "rerun after an apply failed half-way", rerun_after_a_failed_apply),
    Scenario(3, "the first ML rollout with no live deployment",
             ml_scenario("first ML rollout with no live deployment")),
    Scenario(4, "batch scoring on an environment with no batch endpoint",
             ml_scenario("batch scoring on an environment with no batch endpoint")),
    Scenario(5, "bootstrap with the providers unregistered and no data role", bootstrap_on_an_empty_subscription),
    Scenario(6, "a model promotion starts the app pipeline", promotion_starts_the_app),
]


def play(scenarios: list[Scenario], root: Path) -> dict[int, list[str]]:
    results = {}
    for scenario in scenarios:
        print(f"\n##### scenario {scenario.number}: {scenario.title}", flush=True)
        folder = root / f"scenario-{scenario.number}"
        folder.mkdir(parents=True)
        results[scenario.number] = scenario.play(folder)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", type=int, action="append", help="only these scenario numbers")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if not args.scenario or s.number in args.scenario]
    with tempfile.TemporaryDirectory(prefix="dry-run-scenarios-") as folder:
        results = play(chosen, Path(folder))
    print()
    for scenario in chosen:
        problems = results[scenario.number]
        print(f"scenario {scenario.number} ({scenario.title}): " + ("PASS" if not problems else "FAIL"))
        for problem in problems:
            print(f"  - {problem}")
    return 1 if any(results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
