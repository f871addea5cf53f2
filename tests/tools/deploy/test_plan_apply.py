"""`make plan` / `make apply` with the real Terraform CLI (the pinned version) on small stacks shaped like
cdktn's output: local backends and builtin resources only, so nothing is downloaded and no cloud is needed.
The real synth output is planned with a fake Terraform (the Azure boundary: azurerm cannot plan here)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from stacks.config import ENVIRONMENTS_DIR, load_environment
from tools.deploy.infra import plan as infra
from tools.deploy.infra.terraform import Outcome, TerraformMissing, check_terraform, required_version, run_terraform

pytestmark = pytest.mark.xdist_group("deploy-synth")
LOCAL_DEV = load_environment(ENVIRONMENTS_DIR / "dev.yaml").with_local_state()
needs_terraform = pytest.mark.skipif(shutil.which("terraform") is None, reason="Terraform CLI not installed")


def _remote(state_dir: Path, producer: str) -> dict[str, Any]:
    return {"backend": "local", "config": {"path": str(state_dir / f"{producer}.tfstate")}}


def _ref(producer: str, output: str) -> str:
    return f"${{data.terraform_remote_state.cross-stack-reference-input-{producer}.outputs.{output}}}"


def write_synth(root: Path, network: str = "vnet-1") -> Path:
    """dev-foundation -> dev-data -> dev-ml, wired through terraform_remote_state like cdktn's output."""
    outdir, state = root / "cdktf.out", root / "state"
    state.mkdir(parents=True, exist_ok=True)

    def backend(name: str) -> dict[str, Any]:
        return {"backend": {"local": {"path": str(state / f"{name}.tfstate")}}}

    stacks: dict[str, tuple[list[str], dict[str, Any]]] = {
        "dev-foundation": ([], {
            "terraform": backend("dev-foundation"),
            "resource": {"terraform_data": {"network": {"input": network}}},
            "output": {"network-id": {"value": "${terraform_data.network.output}"}},
        }),
        "dev-data": (["dev-foundation"], {
            "terraform": backend("dev-data"),
            "data": {"terraform_remote_state": {
                "cross-stack-reference-input-dev-foundation": _remote(state, "dev-foundation")}},
            "resource": {"terraform_data": {"lake": {"input": _ref("dev-foundation", "network-id")}}},
            "output": {"lake-id": {"value": "${terraform_data.lake.id}"}},
        }),
        "dev-ml": (["dev-foundation", "dev-data"], {
            "terraform": backend("dev-ml"),
            "data": {"terraform_remote_state": {
                "cross-stack-reference-input-dev-data": _remote(state, "dev-data")}},
            "resource": {"terraform_data": {"workspace": {"input": _ref("dev-data", "lake-id")}}},
        }),
    }
    manifest: dict[str, Any] = {"version": "0.24.0", "stacks": {}}
    for name, (dependencies, config) in stacks.items():
        path = f"stacks/{name}/cdk.tf.json"
        (outdir / path).parent.mkdir(parents=True, exist_ok=True)
        (outdir / path).write_text(json.dumps(config), encoding="utf-8")
        manifest["stacks"][name] = {"name": name, "synthesizedStackPath": path, "dependencies": dependencies}
    (outdir / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return outdir


@needs_terraform
def test_without_stepwise_planning_a_dependent_stack_fails_on_an_empty_environment(tmp_path: Path) -> None:
    outdir = write_synth(tmp_path)
    workdir = outdir / "stacks" / "dev-data"
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    assert run_terraform(["init", "-input=false", "-no-color"], workdir, env).returncode == 0
    planned = run_terraform(["plan", "-input=false", "-no-color"], workdir, env)
    assert planned.returncode == 1 and "Unable to find remote state" in planned.output


@needs_terraform
def test_first_run_on_an_empty_environment_plans_the_foundation_and_defers_its_dependents(tmp_path: Path) -> None:
    outdir = write_synth(tmp_path)
    bundle = tmp_path / "bundle"
    summary = infra.plan(LOCAL_DEV, outdir, bundle)
    assert summary.order == ["dev-foundation", "dev-data", "dev-ml"]
    assert summary.stacks["dev-foundation"].status == "planned"
    assert summary.stacks["dev-foundation"].changes["create"] == 1
    assert summary.stacks["dev-foundation"].changed_outputs == ["network-id"]
    assert summary.deferred == ["dev-data", "dev-ml"]
    assert summary.stacks["dev-data"].deferred_because == ["dev-foundation changes 1 output(s) it reads"]
    assert summary.stacks["dev-ml"].deferred_because == ["dev-data is deferred"]
    # The bundle is the artifact: JSON, saved plans and the reviewer's text, never provider folders.
    assert not list(bundle.rglob(".terraform"))
    assert (bundle / "stacks/dev-foundation/tfplan").is_file()
    assert "terraform_data.network will be created" in (bundle / "stacks/dev-foundation/plan.txt").read_text()
    assert "planned in the next round" in (bundle / "summary.md").read_text()

    # Round 1 applies the foundation only: nothing is applied from a plan nobody reviewed.
    first = infra.apply(LOCAL_DEV, bundle)
    assert [first.stacks[n].outcome for n in first.order] == ["applied", *["left for the next round"] * 2]
    assert not (tmp_path / "state" / "dev-data.tfstate").exists()
    # Each later round plans what its producers' apply made plannable, then applies that plan.
    second = infra.plan(LOCAL_DEV, outdir, tmp_path / "round-2")
    assert second.stacks["dev-data"].status == "planned" and second.deferred == ["dev-ml"]
    infra.apply(LOCAL_DEV, tmp_path / "round-2")
    third = infra.plan(LOCAL_DEV, outdir, tmp_path / "round-3")
    assert third.deferred == [] and third.stacks["dev-ml"].changes["create"] == 1
    infra.apply(LOCAL_DEV, tmp_path / "round-3")
    lake = _attributes(tmp_path / "state" / "dev-data.tfstate")
    assert _attributes(tmp_path / "state" / "dev-ml.tfstate")["input"]["value"] == lake["id"]  # applied in order

    again = infra.plan(LOCAL_DEV, outdir, tmp_path / "round-4")
    assert again.deferred == [] and not again.has_changes


@needs_terraform
def test_a_changed_output_defers_only_the_stacks_that_read_it(tmp_path: Path) -> None:
    outdir = write_synth(tmp_path)
    infra.deploy(LOCAL_DEV, outdir, tmp_path / "first")
    changed = write_synth(tmp_path, network="vnet-2")
    summary = infra.plan(LOCAL_DEV, changed, tmp_path / "second")
    assert summary.stacks["dev-foundation"].changes["update"] == 1
    assert summary.deferred == ["dev-data", "dev-ml"]
    infra.deploy(LOCAL_DEV, changed, tmp_path / "third")
    assert _attributes(tmp_path / "state" / "dev-data.tfstate")["input"]["value"] == "vnet-2"


@needs_terraform
def test_a_saved_plan_whose_state_moved_on_is_never_applied(tmp_path: Path) -> None:
    outdir = write_synth(tmp_path)
    old = _planned(outdir, tmp_path / "old")
    infra.apply(LOCAL_DEV, _planned(outdir, tmp_path / "newer"))  # a newer run (or an earlier attempt) applied
    serial = json.loads((tmp_path / "state" / "dev-foundation.tfstate").read_text())["serial"]
    rerun = infra.apply(LOCAL_DEV, old)  # "Rerun failed jobs": the same saved plans again
    assert rerun.stacks["dev-foundation"].outcome == "already applied"
    assert json.loads((tmp_path / "state" / "dev-foundation.tfstate").read_text())["serial"] == serial

    other = tmp_path / "other"
    stale = _planned(write_synth(other), other / "stale")  # reviewed against vnet-1 ...
    infra.apply(LOCAL_DEV, _planned(write_synth(other, network="vnet-2"), other / "vnet-2"))  # ... state moved on
    left = infra.apply(LOCAL_DEV, stale)
    assert left.stacks["dev-foundation"].outcome == "left for the next round"
    assert _attributes(other / "state" / "dev-foundation.tfstate")["input"]["value"] == "vnet-2"
    with pytest.raises(infra.PlanError, match="last round: run the pipeline again"):
        infra.apply(LOCAL_DEV, stale, final_round=True)


def _attributes(state_file: Path) -> dict[str, Any]:
    [managed] = [r for r in json.loads(state_file.read_text())["resources"] if r["type"] == "terraform_data"]
    return managed["instances"][0]["attributes"]


def _planned(outdir: Path, bundle: Path) -> Path:
    infra.plan(LOCAL_DEV, outdir, bundle)
    return bundle


class FakeTerraform:
    """The Azure boundary for the real synth: answers like an empty subscription (every output is new)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def __call__(self, args: list[str], workdir: Path, env: Any) -> Outcome:
        self.calls.append((workdir.name, args))
        if args[:2] == ["show", "-json"]:
            config = json.loads((workdir / "cdk.tf.json").read_text())
            outputs = {name: {"actions": ["create"]} for name in config.get("output", {})}
            return Outcome(0, json.dumps({"resource_changes": [], "output_changes": outputs}))
        return Outcome(2 if args[0] == "plan" else 0, "")


def test_real_synth_on_an_empty_subscription_plans_only_the_foundation(synth_out: Path, tmp_path: Path) -> None:
    prod = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
    fake = FakeTerraform()
    summary = infra.plan(prod, synth_out, tmp_path / "bundle", runner=fake, base_env={"PATH": "/usr/bin"})
    assert [name for name in summary.order if summary.stacks[name].status == "planned"] == ["prod-foundation"]
    apps = [summary.order.index(name) for name in summary.order if "-app-" in name]
    assert summary.order.index("prod-edge") > max(apps) and "prod-agents" not in summary.order
    assert {workdir for workdir, _ in fake.calls} == {"prod-foundation"}
    infra.apply(prod, tmp_path / "bundle", runner=fake, base_env={"PATH": "/usr/bin"})
    assert [workdir for workdir, args in fake.calls if args[0] == "apply"] == ["prod-foundation"]


def test_plan_bundle_of_another_environment_is_refused(synth_out: Path, tmp_path: Path) -> None:
    prod = load_environment(ENVIRONMENTS_DIR / "prod.yaml")
    infra.plan(prod, synth_out, tmp_path / "bundle", runner=FakeTerraform(), base_env={})
    with pytest.raises(infra.PlanError, match="bundle is for prod, not dev"):
        infra.apply(load_environment(ENVIRONMENTS_DIR / "dev.yaml"), tmp_path / "bundle", runner=FakeTerraform())


def test_local_state_is_refused_in_a_pipeline(tmp_path: Path) -> None:
    outdir = write_synth(tmp_path)
    with pytest.raises(infra.PlanError, match="a pipeline agent would lose the state"):
        infra.plan(LOCAL_DEV, outdir, tmp_path / "bundle", runner=FakeTerraform(), base_env={"TF_BUILD": "True"})


def test_missing_or_wrong_terraform_names_the_install_command(tmp_path: Path) -> None:
    with pytest.raises(TerraformMissing, match=r"not on PATH.*\n.*install_terraform\.sh"):
        check_terraform(path=str(tmp_path))
    fake = tmp_path / "terraform"
    fake.write_text('#!/bin/sh\necho \'{"terraform_version": "1.5.7"}\'\n')
    fake.chmod(0o755)
    with pytest.raises(TerraformMissing, match=rf"{required_version()} is required.*is 1\.5\.7"):
        check_terraform(path=str(tmp_path))
