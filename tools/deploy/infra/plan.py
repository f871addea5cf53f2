"""`make plan` / `make apply` / `make deploy`: Terraform plans per stack, reviewed, then applied as saved.

plan  Copies one environment's synthesized stacks into a plan bundle (JSON, lock files and saved plans
      only: no `.terraform/` provider binaries), then, stack by stack in dependency order, runs
      `terraform init` + `plan -out=tfplan` and records the state (lineage and serial) the plan was made
      against. A stack reads the stacks it depends on through `terraform_remote_state`, so its plan is only
      meaningful once those are applied: when a producer is itself deferred, or its plan changes an output
      this stack reads (on an empty subscription the producer's outputs are all new), the stack is
      *deferred* to the next round instead of being planned against stale or missing state.
apply Applies the saved plans of one round, in dependency order, and nothing else: every apply follows a
      plan that was reviewed. Deferred stacks wait for the next round's plan (and its approval). A stack
      whose state moved since its plan (an earlier attempt of this job applied it, or failed half-way) is
      checked with a fresh plan: no changes means it is applied and is skipped; changes are left, with every
      stack reading it, for the next round's reviewed plan. So "Rerun failed jobs" finishes a run without
      applying anything nobody saw.
deploy plan + apply rounds until a plan has no changes (a laptop, after `az login`).
summary the plan table and hasChanges for the pipeline (Azure DevOps logging commands).

Rounds: a stack at dependency level L (foundation 1, a stack reading it 2, ...) is planned in round L of a
first run; the pipeline has one round per level plus one, which re-plans after the last apply (nothing left:
the run converged; a stack left by a failed attempt: it is planned, reviewed and applied there).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stacks.config import ENVIRONMENTS_DIR, EnvironmentConfig, load_environment
from tools.deploy.infra.locks import refused_changes
from tools.deploy.infra.terraform import (
    Runner,
    TerraformMissing,
    check_terraform,
    run_terraform,
    terraform_environment,
)
from tools.synth_output import SynthError, SynthStack, deploy_order, environment_stacks, load_stacks

ROOT = Path(__file__).resolve().parents[3]
PLAN_FILE = "tfplan"
# Stacks `make bootstrap` deploys before everything else (the agent pool the pipelines run on); the
# infrastructure pipeline never plans them, so it cannot pull the pool out from under its own job.
BOOTSTRAP_STACKS = ("agents",)
SUMMARY = "summary.json"
LOCK_TIMEOUT = "-lock-timeout=10m"  # another run holding the state lease waits instead of failing


class PlanError(Exception):
    """A terraform command failed or the bundle does not describe this environment."""


@dataclass
class StackPlan:
    stack: str
    status: str  # "planned" | "deferred"
    changes: dict[str, int] = field(default_factory=dict)  # create/update/delete/replace counts
    changed_outputs: list[str] = field(default_factory=list)
    deferred_because: list[str] = field(default_factory=list)
    planned_against: str = ""  # "<lineage>:<serial>" of the state the plan was made against; "" for no state
    refused_by_locks: list[str] = field(default_factory=list)  # replacements/deletions a delete lock will refuse
    outcome: str = ""  # after apply: "applied" | "already applied" | "left for the next round" | "no changes"

    @property
    def has_changes(self) -> bool:
        return any(self.changes.values()) or bool(self.changed_outputs)


@dataclass
class PlanSummary:
    environment: str
    order: list[str]
    stacks: dict[str, StackPlan]

    @property
    def deferred(self) -> list[str]:
        return [name for name in self.order if self.stacks[name].status == "deferred"]

    @property
    def has_changes(self) -> bool:
        return bool(self.deferred) or any(plan.has_changes for plan in self.stacks.values())

    def to_json(self) -> str:
        return json.dumps(
            {"environment": self.environment, "order": self.order,
             "stacks": {name: asdict(plan) for name, plan in self.stacks.items()}},
            indent=2,
        )

    @classmethod
    def read(cls, bundle: Path) -> PlanSummary:
        path = bundle / SUMMARY
        if not path.is_file():
            raise PlanError(f"{path} not found: the bundle comes from `make plan ENV=<env> PLAN_DIR=...`")
        data = json.loads(path.read_text(encoding="utf-8"))
        stacks = {name: StackPlan(**plan) for name, plan in data["stacks"].items()}
        return cls(data["environment"], list(data["order"]), stacks)

    def markdown(self) -> str:
        lines = [f"# Terraform plan: {self.environment}", "", "| stack | status | create | update | replace | delete |",
                 "| --- | --- | --- | --- | --- | --- |"]
        for name in self.order:
            plan = self.stacks[name]
            counts = [str(plan.changes.get(k, 0)) if plan.status == "planned" else "-"
                      for k in ("create", "update", "replace", "delete")]
            lines.append(f"| {name} | {plan.status} | {' | '.join(counts)} |")
        for name in self.order:
            for line in self.stacks[name].refused_by_locks:
                lines.append(f"\n**{name}**: {line}.")
        for name in self.deferred:
            reasons = "; ".join(self.stacks[name].deferred_because)
            lines.append(f"\n**{name}** is planned in the next round, after this round's apply: {reasons}.")
        return "\n".join(lines) + "\n"

    @property
    def left(self) -> list[str]:
        return [name for name in self.order if self.stacks[name].outcome == "left for the next round"]


def backend_problems(config: EnvironmentConfig, stacks: dict[str, SynthStack], in_ci: bool) -> list[str]:
    """Differences between each stack's synthesized backend and the environment's state_backend."""
    wanted = config.state_backend
    problems = []
    for name in sorted(stacks):
        backend = stacks[name].backend()
        kind, settings = backend if backend else ("local", {})
        if kind != wanted.kind:
            problems.append(f"{name}: backend is '{kind}' but {config.name}.yaml says '{wanted.kind}'")
            continue
        if kind == "azurerm":
            expected = {"resource_group_name": wanted.resource_group,
                        "storage_account_name": wanted.storage_account, "container_name": wanted.container}
            for key, value in expected.items():
                if settings.get(key) != value:
                    problems.append(f"{name}: backend {key} is {settings.get(key)!r}, expected {value!r}")
    if in_ci and wanted.kind == "local":
        problems.append(
            f"{config.name}: state_backend.kind is 'local'; a pipeline agent would lose the state. "
            f"Set kind: azurerm in stacks/environments/{config.name}.yaml, then run `make bootstrap ENV={config.name}`"
        )
    return problems


def select_stacks(stacks: dict[str, SynthStack], environment: str, only: tuple[str, ...] = ()) -> set[str]:
    """`<env>-<name>` for each name in `only`; without `only`, every stack but the bootstrap ones."""
    if only:
        wanted = {f"{environment}-{name}" for name in only}
        unknown = wanted - set(stacks)
        if unknown:
            raise SynthError(f"no stack {', '.join(sorted(unknown))} in the synth output")
        return wanted
    return {name for name in stacks if name.removeprefix(f"{environment}-") not in BOOTSTRAP_STACKS}


def write_bundle(outdir: Path, environment: str, bundle: Path, only: tuple[str, ...] = ()) -> dict[str, SynthStack]:
    """Copy the selected stacks' manifest entries and JSON (never `.terraform/`) into a fresh bundle."""
    every = environment_stacks(load_stacks(outdir), environment)
    stacks = {name: every[name] for name in select_stacks(every, environment, only)}
    manifest = json.loads((outdir / "manifest.json").read_text(encoding="utf-8"))
    manifest["stacks"] = {name: entry for name, entry in manifest["stacks"].items() if name in stacks}
    if bundle.exists():
        shutil.rmtree(bundle)
    for entry in manifest["stacks"].values():
        source = outdir / entry["synthesizedStackPath"]
        target = bundle / entry["synthesizedStackPath"]
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        lock = source.parent / ".terraform.lock.hcl"
        if lock.is_file():
            shutil.copy2(lock, target.parent / lock.name)
    (bundle / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return environment_stacks(load_stacks(bundle), environment)


def _terraform(runner: Runner, args: list[str], workdir: Path, env: Mapping[str, str], what: str) -> str:
    outcome = runner(args, workdir, env)
    if outcome.returncode not in (0, 2) or (outcome.returncode == 2 and "-detailed-exitcode" not in args):
        raise PlanError(f"terraform {args[0]} failed for {what} (exit {outcome.returncode})")
    return outcome.output


def _init(runner: Runner, workdir: Path, env: Mapping[str, str], stack: str) -> None:
    # With a lock file from the plan, init must install exactly those provider builds.
    lockfile = ["-lockfile=readonly"] if (workdir / ".terraform.lock.hcl").is_file() else []
    _terraform(runner, ["init", "-input=false", "-no-color", *lockfile], workdir, env, stack)


def state_fingerprint(runner: Runner, workdir: Path, env: Mapping[str, str], stack: str) -> str:
    """`<lineage>:<serial>` of the stack's current state ("" when it has none): what a saved plan is bound to."""
    pulled = _terraform(runner, ["state", "pull"], workdir, env, stack).strip()
    if not pulled:
        return ""
    state = json.loads(pulled)
    return f"{state.get('lineage', '')}:{state.get('serial', '')}"


def plan_stack(runner: Runner, workdir: Path, env: Mapping[str, str], stack: str) -> StackPlan:
    _init(runner, workdir, env, stack)
    planned_against = state_fingerprint(runner, workdir, env, stack)
    _terraform(runner, ["plan", "-input=false", "-no-color", LOCK_TIMEOUT, f"-out={PLAN_FILE}", "-detailed-exitcode"],
               workdir, env, stack)
    shown = json.loads(_terraform(runner, ["show", "-json", PLAN_FILE], workdir, env, stack))
    readable = _terraform(runner, ["show", "-no-color", PLAN_FILE], workdir, env, stack)
    (workdir / "plan.txt").write_text(readable, encoding="utf-8")  # what the approver reads
    document = json.loads((workdir / "cdk.tf.json").read_text(encoding="utf-8"))
    refused = [change.describe() for change in refused_changes(document, shown.get("resource_changes", []))]
    for line in refused:
        print(f"{stack}: {line}", file=sys.stderr)
    return StackPlan(stack, "planned", _count_changes(shown), _changed_outputs(shown), planned_against=planned_against,
                     refused_by_locks=refused)


def _count_changes(shown: dict[str, Any]) -> dict[str, int]:
    counts = {"create": 0, "update": 0, "replace": 0, "delete": 0}
    for change in shown.get("resource_changes", []):
        actions = change.get("change", {}).get("actions", [])
        if "create" in actions and "delete" in actions:
            counts["replace"] += 1
        elif actions in (["create"], ["update"], ["delete"]):
            counts[actions[0]] += 1
    return counts


def _changed_outputs(shown: dict[str, Any]) -> list[str]:
    return sorted(name for name, change in shown.get("output_changes", {}).items()
                  if change.get("actions") != ["no-op"])


def deferral_reasons(stack: SynthStack, plans: dict[str, StackPlan]) -> list[str]:
    """Why `stack` cannot be planned yet: a producer is deferred or its plan changes outputs `stack` reads."""
    reasons = []
    reads = stack.remote_state_reads()
    for producer in sorted(set(stack.dependencies) | set(reads)):
        plan = plans.get(producer)
        if plan is None:
            continue  # another environment's stack, or no longer in the synth output
        if plan.status == "deferred":
            reasons.append(f"{producer} is deferred")
            continue
        changed = sorted(set(plan.changed_outputs) & reads.get(producer, set()))
        if changed:
            reasons.append(f"{producer} changes {len(changed)} output(s) it reads")
    return reasons


def plan(config: EnvironmentConfig, outdir: Path, bundle: Path, runner: Runner = run_terraform,
         base_env: Mapping[str, str] | None = None, only: tuple[str, ...] = ()) -> PlanSummary:
    env = terraform_environment(config.subscription_id, base_env)
    stacks = write_bundle(outdir, config.name, bundle, only)
    problems = backend_problems(config, stacks, in_ci=bool(env.get("TF_BUILD")))
    if problems:
        raise PlanError("state backend does not match the environment file:\n  " + "\n  ".join(problems))
    order = deploy_order(stacks)
    print(f"plan {config.name}: {' -> '.join(order)}", flush=True)
    plans: dict[str, StackPlan] = {}
    for name in order:
        reasons = deferral_reasons(stacks[name], plans)
        if reasons:
            print(f"\n=== {name}: deferred to the next round ({'; '.join(reasons)}) ===", flush=True)
            plans[name] = StackPlan(name, "deferred", deferred_because=reasons)
            continue
        print(f"\n=== plan {name} ===", flush=True)
        plans[name] = plan_stack(runner, _workdir(bundle, name), env, name)
    for terraform_dir in bundle.glob("stacks/*/.terraform"):
        shutil.rmtree(terraform_dir)  # provider binaries: re-installed from the lock file by `apply`
    summary = PlanSummary(config.name, order, plans)
    (bundle / SUMMARY).write_text(summary.to_json(), encoding="utf-8")
    (bundle / "summary.md").write_text(summary.markdown(), encoding="utf-8")
    print("\n" + summary.markdown(), flush=True)
    return summary


def pipeline_summary(bundle: Path) -> list[str]:
    """Logging commands: the plan table on the run's summary page, and whether the apply stage has work."""
    summary = PlanSummary.read(bundle)
    return [
        f"##vso[task.uploadsummary]{(bundle / 'summary.md').resolve()}",
        f"##vso[task.setvariable variable=hasChanges;isOutput=true]{str(summary.has_changes).lower()}",
    ]


def apply(config: EnvironmentConfig, bundle: Path, runner: Runner = run_terraform,
          base_env: Mapping[str, str] | None = None, final_round: bool = False) -> PlanSummary:
    summary = PlanSummary.read(bundle)
    if summary.environment != config.name:
        raise PlanError(f"the plan bundle is for {summary.environment}, not {config.name}")
    env = terraform_environment(config.subscription_id, base_env)
    stacks = environment_stacks(load_stacks(bundle), config.name)
    for name in summary.order:
        stack_plan = summary.stacks[name]
        waiting = [p for p in _producers(stacks[name]) if p in summary.left or p in summary.deferred]
        if stack_plan.status == "deferred" or waiting:
            stack_plan.outcome = "left for the next round"
            because = "; ".join(stack_plan.deferred_because) or f"it reads {', '.join(waiting)}"
            print(f"\n=== {name}: planned and reviewed in the next round ({because}) ===", flush=True)
            continue
        if not stack_plan.has_changes:
            stack_plan.outcome = "no changes"
            print(f"\n=== {name}: no changes ===", flush=True)
            continue
        workdir = _workdir(bundle, name)
        _init(runner, workdir, env, name)
        if state_fingerprint(runner, workdir, env, name) != stack_plan.planned_against:
            stack_plan.outcome = _settle_moved_state(runner, workdir, env, name)
            continue
        print(f"\n=== apply {name} ===", flush=True)
        _terraform(runner, ["apply", "-input=false", "-no-color", LOCK_TIMEOUT, PLAN_FILE], workdir, env, name)
        stack_plan.outcome = "applied"
    (bundle / SUMMARY).write_text(summary.to_json(), encoding="utf-8")
    _report_left(summary, final_round, in_ci=bool(env.get("TF_BUILD")))
    return summary


def _producers(stack: SynthStack) -> set[str]:
    return set(stack.dependencies) | set(stack.remote_state_reads())


def _settle_moved_state(runner: Runner, workdir: Path, env: Mapping[str, str], name: str) -> str:
    """The state moved since the reviewed plan: applied already (no changes now) or left for review."""
    print(f"\n=== {name}: its state changed since the reviewed plan; checking with a fresh plan ===", flush=True)
    outcome = runner(["plan", "-input=false", "-no-color", LOCK_TIMEOUT, "-detailed-exitcode"], workdir, env)
    if outcome.returncode == 0:
        print(f"{name}: nothing left to change (applied by an earlier attempt); skipped", flush=True)
        return "already applied"
    if outcome.returncode == 2:
        print(f"{name}: changes remain (an earlier attempt stopped part-way); planned and reviewed in the next round",
              flush=True)
        return "left for the next round"
    raise PlanError(f"terraform plan failed for {name} (exit {outcome.returncode})")


def _report_left(summary: PlanSummary, final_round: bool, in_ci: bool) -> None:
    if not summary.left:
        return
    message = f"left for a reviewed plan: {', '.join(summary.left)}"
    if final_round:
        raise PlanError(f"{message}; this was the last round: run the pipeline again to plan and review them")
    if in_ci:
        print(f"##vso[task.logissue type=warning]{message} (the next round plans them behind its approval)")
    print(message, flush=True)


def levels(stacks: dict[str, SynthStack]) -> dict[str, int]:
    """Dependency level per stack: 1 for a stack that reads none, else one more than its deepest producer.
    On an empty subscription a level-L stack is planned in round L."""
    found: dict[str, int] = {}
    for name in deploy_order(stacks):
        producers = [found[p] for p in _producers(stacks[name]) if p in found]
        found[name] = 1 + max(producers, default=0)
    return found


def deploy(config: EnvironmentConfig, outdir: Path, bundle: Path, only: tuple[str, ...] = (),
           runner: Runner = run_terraform, base_env: Mapping[str, str] | None = None) -> None:
    """Plan + apply rounds until a plan has no changes (no approval between them: a laptop's `make deploy`)."""
    for round_number in range(1, 20):
        print(f"\n##### round {round_number}", flush=True)
        summary = plan(config, outdir, bundle, runner, base_env, only)
        if not summary.has_changes:
            return
        apply(config, bundle, runner, base_env)
    raise PlanError("still changing after 19 rounds: a stack's plan never settles")


def _workdir(bundle: Path, stack: str) -> Path:
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    return bundle / Path(manifest["stacks"][stack]["synthesizedStackPath"]).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["plan", "apply", "deploy", "summary"])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out", help="synth output to plan")
    parser.add_argument("--plan-dir", type=Path, default=None, help="the plan bundle (cdktf.out.plan-<env>)")
    parser.add_argument("--stacks", nargs="*", default=[], help="only these stacks (names without <env>-)")
    parser.add_argument("--local-state", action="store_true", help="the synth used a local backend (LOCAL_STATE=1)")
    parser.add_argument("--final-round", action="store_true", help="apply: stacks left over fail the job")
    parser.add_argument("--attempt", type=int, default=1, help="apply: System.JobAttempt (for the log)")
    args = parser.parse_args(argv)
    config = load_environment(ENVIRONMENTS_DIR / f"{args.env}.yaml")
    if args.local_state:
        config = config.with_local_state()
    # Beside cdktf.out/ so a local backend's relative path (LOCAL_STATE=1) still reaches .terraform-state/.
    bundle = (args.plan_dir or ROOT / f"cdktf.out.plan-{args.env}").resolve()
    try:
        if args.action == "summary":
            print("\n".join(pipeline_summary(bundle)))
            return 0
        check_terraform()
        if args.action == "plan":
            plan(config, args.outdir.resolve(), bundle, only=tuple(args.stacks))
        elif args.action == "deploy":
            deploy(config, args.outdir.resolve(), bundle, only=tuple(args.stacks))
        else:
            if args.attempt > 1:
                print(f"attempt {args.attempt}: stacks whose state moved since the reviewed plan are re-checked")
            apply(config, bundle, final_round=args.final_round)
    except (SynthError, PlanError, TerraformMissing) as exc:
        print(f"{args.action} {args.env}: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, TerraformMissing | SynthError) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
