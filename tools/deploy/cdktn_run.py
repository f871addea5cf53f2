"""`make diff` / `make deploy`: run `cdktn diff|deploy` for one environment's stacks, one stack at a time.

One stack per command, in dependency order (foundation -> data, ml, global-data -> app-* -> edge), so a
failure names the stack and nothing after it starts. Both use the already-synthesized cdktf.out/ (the
artifact that was reviewed), never a fresh synth. Before running anything, every stack's Terraform
backend is checked against the environment file's `state_backend`: a pipeline agent is thrown away after
the run, so deploying from CI with local state would forget everything it created.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from stacks.config import ENVIRONMENTS_DIR, EnvironmentConfig, load_environment
from tools.deploy.synth import SynthError, SynthStack, deploy_order, environment_stacks, load_stacks

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str


Runner = Callable[[list[str], Mapping[str, str]], Outcome]


def run_subprocess(command: list[str], env: Mapping[str, str]) -> Outcome:
    """Stream the command's output to the log while keeping a copy for the diff artifact."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    lines = []
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(line)
        lines.append(line)
    return Outcome(process.wait(), "".join(lines))


def backend_problems(config: EnvironmentConfig, stacks: dict[str, SynthStack], in_ci: bool) -> list[str]:
    """Differences between each stack's synthesized backend and the environment's state_backend."""
    wanted = config.state_backend
    problems = []
    for name in sorted(stacks):
        backend = stacks[name].backend()
        kind = backend[0] if backend else "local"
        settings = backend[1] if backend else {}
        if kind != wanted.kind:
            problems.append(f"{name}: backend is '{kind}' but {config.name}.yaml says '{wanted.kind}'")
            continue
        if kind == "azurerm":
            expected = {
                "resource_group_name": wanted.resource_group,
                "storage_account_name": wanted.storage_account,
                "container_name": wanted.container,
            }
            for key, value in expected.items():
                if settings.get(key) != value:
                    problems.append(f"{name}: backend {key} is {settings.get(key)!r}, expected {value!r}")
    if in_ci and wanted.kind == "local":
        problems.append(
            f"{config.name}: state_backend.kind is 'local'; a pipeline agent would lose the state. "
            f"Set kind: azurerm in stacks/environments/{config.name}.yaml, "
            f"then run `make bootstrap-state ENV={config.name}`"
        )
    return problems


def cdktn_commands(action: str, config: EnvironmentConfig, order: list[str], outdir: Path) -> list[list[str]]:
    app = f"{shlex.quote(sys.executable)} -m stacks.main --env {config.name}"
    common = ["--skip-synth", "--output", str(outdir), "--app", app, "--no-color"]
    commands = []
    for stack in order:
        if action == "diff":
            commands.append(["cdktn", "diff", stack, *common])
        else:
            # Dependencies were deployed by the previous commands; don't make cdktn insist on them here.
            commands.append(
                ["cdktn", "deploy", stack, *common, "--auto-approve", "--ignore-missing-stack-dependencies"]
            )
    return commands


def terraform_environment(config: EnvironmentConfig, base: Mapping[str, str]) -> dict[str, str]:
    env = dict(base)
    # The environment file names the subscription; the service connection's default may differ.
    env["ARM_SUBSCRIPTION_ID"] = config.subscription_id
    env.setdefault("CHECKPOINT_DISABLE", "1")
    return env


def run(
    action: str,
    config: EnvironmentConfig,
    outdir: Path,
    report_dir: Path,
    runner: Runner = run_subprocess,
    base_env: Mapping[str, str] | None = None,
    dry_run: bool = False,
) -> int:
    base_env = os.environ if base_env is None else base_env
    stacks = environment_stacks(load_stacks(outdir), config.name)
    problems = backend_problems(config, stacks, in_ci=bool(base_env.get("TF_BUILD")))
    if problems:
        print("State backend does not match the environment file:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 2
    order = deploy_order(stacks)
    print(f"{action} {config.name}: {' -> '.join(order)}")
    env = terraform_environment(config, base_env)
    report_dir.mkdir(parents=True, exist_ok=True)
    for stack, command in zip(order, cdktn_commands(action, config, order, outdir), strict=True):
        print(f"\n=== {action} {stack} ===\n$ {shlex.join(command)}", flush=True)
        if dry_run:
            continue
        outcome = runner(command, env)
        if action == "diff":
            (report_dir / f"{stack}.txt").write_text(outcome.output, encoding="utf-8")
        if outcome.returncode != 0:
            failure = f"{action} failed for stack {stack} (exit {outcome.returncode}); later stacks not run"
            print(failure, file=sys.stderr)
            return outcome.returncode
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["diff", "deploy"])
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    parser.add_argument("--report-dir", type=Path, default=None, help="where diff output goes (reports/diff/<env>)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    parser.add_argument("--local-state", action="store_true", help="the synth used a local backend (LOCAL_STATE=1)")
    args = parser.parse_args(argv)
    config = load_environment(ENVIRONMENTS_DIR / f"{args.env}.yaml")
    if args.local_state:
        config = config.with_local_state()
    report_dir = args.report_dir or ROOT / "reports" / "diff" / args.env
    try:
        return run(args.action, config, args.outdir.resolve(), report_dir, dry_run=args.dry_run)
    except SynthError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
