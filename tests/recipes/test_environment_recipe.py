"""docs/extending.md, "An environment", followed in a temporary copy of the environment files: a third
environment from a copy of dev.yaml synthesizes, obeys the provider's plan-time rules and the azapi types, and
reaches every required network flow, with no other file changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from stacks.config import ENVIRONMENTS_DIR, load_environments
from stacks.main import synthesize
from tools.checks.provider_rules.azapi_check import check_stack, load_azapi_table
from tools.checks.provider_rules.check import check_outdir, load_table
from tools.checks.reachability.flows import evaluate_environment, load_flows
from tools.synth_output import load_stacks

pytestmark = pytest.mark.xdist_group("recipes")


@pytest.fixture(scope="module")
def qa(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Step 1 of the recipe: copy dev.yaml as qa.yaml and change the values that must differ."""
    environments = tmp_path_factory.mktemp("environments")
    for path in ENVIRONMENTS_DIR.glob("*.yaml"):
        shutil.copy(path, environments / path.name)
    data = yaml.safe_load((ENVIRONMENTS_DIR / "dev.yaml").read_text(encoding="utf-8"))
    data["name"] = "qa"
    data["state_backend"]["storage_account"] = data["state_backend"]["storage_account"].replace("dev", "qa")
    (environments / "qa.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synthesize(load_environments(["qa"], environments), outdir, progress=False)  # step 5: make synth ENV=qa
    return environments, outdir


def test_a_copied_environment_synthesizes_its_own_stacks(qa: tuple[Path, Path]) -> None:
    _, outdir = qa
    stacks = load_stacks(outdir)
    assert stacks and all(name.startswith("qa-") for name in stacks)
    assert {"qa-foundation", "qa-data", "qa-ml", "qa-app-westeurope", "qa-edge"} <= set(stacks)
    foundation = json.dumps(stacks["qa-foundation"].config["resource"])
    assert "rg-carprice-qa" in foundation and "rg-carprice-dev" not in foundation


def test_a_copied_environment_obeys_the_provider_and_azapi_rules(qa: tuple[Path, Path]) -> None:
    _, outdir = qa
    outcome = check_outdir(outdir, load_table())
    assert outcome.resources_checked > 100
    assert outcome.violations == [] and outcome.uncovered == []
    table = load_azapi_table()
    for name, stack in load_stacks(outdir).items():
        problems, _ = check_stack(name, stack.config, table)
        assert problems == [], [p.describe() for p in problems]


def test_a_copied_environment_reaches_every_required_flow(qa: tuple[Path, Path]) -> None:
    environments, outdir = qa
    (config,) = load_environments(["qa"], environments)
    results = evaluate_environment("qa", load_stacks(outdir), tuple(config.network.allowed_ip_ranges), load_flows())
    unreachable = [f"{r.source} -> {r.target} [{r.subresource}]: {r.outcome.path}"
                   for r in results if not r.outcome.reachable]
    assert results and unreachable == []
