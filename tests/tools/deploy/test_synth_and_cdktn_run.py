"""Stack order and the cdktn commands `make diff` / `make deploy` run, checked on the real synth output.

cdktn itself cannot reach Azure here, so the command runner is a recording fake (the process boundary)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stacks.config import ENVIRONMENTS_DIR, load_environment
from stacks.main import main as synth_main
from tools.deploy import cdktn_run
from tools.deploy.synth import SynthError, SynthStack, deploy_order, environment_stacks, load_stacks

pytestmark = pytest.mark.xdist_group("deploy-synth")


class RecordingRunner:
    """Fake cdktn process: records each command and answers with a scripted exit code."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.commands: list[list[str]] = []
        self.envs: list[dict[str, str]] = []
        self.fail_on = fail_on

    def __call__(self, command, env):
        self.commands.append(command)
        self.envs.append(dict(env))
        stack = command[2]
        return cdktn_run.Outcome(1 if stack == self.fail_on else 0, f"plan for {stack}\n")


def test_prod_deploy_order_follows_the_manifest_dependencies(synth_out: Path) -> None:
    order = deploy_order(environment_stacks(load_stacks(synth_out), "prod"))
    assert order[0] == "prod-foundation" and order[-1] == "prod-edge"
    for app in ("prod-app-westeurope", "prod-app-northeurope"):
        for before in ("prod-data", "prod-ml", "prod-global-data"):
            assert order.index(before) < order.index(app)
    assert order.index("prod-data") < order.index("prod-ml")


def test_dependency_cycle_is_reported() -> None:
    stacks = {"a": SynthStack("a", {}, ("b",)), "b": SynthStack("b", {}, ("a",))}
    with pytest.raises(SynthError, match="cycle"):
        deploy_order(stacks)


def test_unknown_environment_and_missing_synth_fail_clearly(synth_out: Path, tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="no stacks for environment 'qa'"):
        environment_stacks(load_stacks(synth_out), "qa")
    with pytest.raises(SynthError, match="make synth"):
        load_stacks(tmp_path)


def test_deploy_runs_one_stack_at_a_time_in_order_with_the_config_subscription(synth_out: Path, tmp_path: Path):
    config = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
    runner = RecordingRunner()
    code = cdktn_run.run("deploy", config, synth_out, tmp_path, runner=runner, base_env={"TF_BUILD": "True"})
    assert code == 0
    stacks = [command[2] for command in runner.commands]
    assert stacks == deploy_order(environment_stacks(load_stacks(synth_out), "prod"))
    for command in runner.commands:
        assert command[:2] == ["cdktn", "deploy"]
        assert {"--skip-synth", "--auto-approve", "--ignore-missing-stack-dependencies"} <= set(command)
        assert command[command.index("--output") + 1] == str(synth_out)
    assert all(env["ARM_SUBSCRIPTION_ID"] == config.subscription_id for env in runner.envs)


def test_diff_keeps_each_stacks_output_and_stops_at_the_first_failure(synth_out: Path, tmp_path: Path) -> None:
    config = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
    runner = RecordingRunner(fail_on="prod-data")
    code = cdktn_run.run("diff", config, synth_out, tmp_path, runner=runner, base_env={})
    assert code == 1
    assert [c[2] for c in runner.commands] == ["prod-foundation", "prod-data"]
    assert (tmp_path / "prod-foundation.txt").read_text() == "plan for prod-foundation\n"
    assert "--auto-approve" not in runner.commands[0]


def test_local_state_is_refused_in_a_pipeline_but_fine_on_a_laptop(tmp_path: Path) -> None:
    local_out = tmp_path / "cdktf.out"
    assert synth_main(["--env", "dev", "--local-state", "--outdir", str(local_out)]) == 0
    config = load_environment(ENVIRONMENTS_DIR / "dev.yaml").with_local_state()
    in_ci = RecordingRunner()
    assert cdktn_run.run("deploy", config, local_out, tmp_path, runner=in_ci, base_env={"TF_BUILD": "True"}) == 2
    assert in_ci.commands == []
    laptop = RecordingRunner()
    assert cdktn_run.run("diff", config, local_out, tmp_path, runner=laptop, base_env={}) == 0
    assert laptop.commands
    # The remote-state environment file does not match a local-state synth: refused, nothing runs.
    remote = load_environment(ENVIRONMENTS_DIR / "dev.yaml")
    assert cdktn_run.run("diff", remote, local_out, tmp_path, runner=RecordingRunner(), base_env={}) == 2


def test_backend_that_differs_from_the_environment_file_is_refused(synth_out: Path, tmp_path: Path) -> None:
    # Copy the synth output and point one stack at another storage account.
    copy = tmp_path / "out"
    stacks = environment_stacks(load_stacks(synth_out), "prod")
    manifest = json.loads((synth_out / "manifest.json").read_text())
    for name, stack in stacks.items():
        config = json.loads(json.dumps(stack.config))
        if name == "prod-ml":
            config["terraform"]["backend"]["azurerm"]["storage_account_name"] = "stsomeoneelse"
        target = copy / manifest["stacks"][name]["synthesizedStackPath"]
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(config))
    manifest["stacks"] = {k: v for k, v in manifest["stacks"].items() if k in stacks}
    (copy / "manifest.json").write_text(json.dumps(manifest))
    config = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
    problems = cdktn_run.backend_problems(config, environment_stacks(load_stacks(copy), "prod"), in_ci=True)
    assert problems == ["prod-ml: backend storage_account_name is 'stsomeoneelse', expected 'stcarpricetfprod'"]
    runner = RecordingRunner()
    assert cdktn_run.run("deploy", config, copy, tmp_path / "r", runner=runner, base_env={}) == 2
    assert runner.commands == []
