"""The one reader of cdktf.out/ (tools/synth_output.py): stack order, cross-stack reads, clear failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.local.diagram.synth_graph import load as load_graph
from tools.synth_output import SynthError, SynthStack, deploy_order, environment_stacks, load_stacks

pytestmark = pytest.mark.xdist_group("deploy-synth")


def test_prod_deploy_order_follows_the_manifest_dependencies(synth_out: Path) -> None:
    order = deploy_order(environment_stacks(load_stacks(synth_out), "prod"))
    assert order[:2] == ["prod-agents", "prod-foundation"]
    assert all(order.index("prod-edge") > order.index(app) for app in order if "-app-" in app)
    for app in ("prod-app-westeurope", "prod-app-northeurope"):
        for before in ("prod-data", "prod-ml", "prod-global-data", "prod-genai"):
            assert order.index(before) < order.index(app)
    assert order.index("prod-data") < order.index("prod-ml")


def test_remote_state_reads_name_the_producer_and_its_outputs(synth_out: Path) -> None:
    stacks = environment_stacks(load_stacks(synth_out), "prod")
    reads = stacks["prod-data"].remote_state_reads()
    assert set(reads) == {"prod-foundation"}
    produced = set(stacks["prod-foundation"].config["output"])
    assert reads["prod-foundation"] and reads["prod-foundation"] <= produced
    for name, stack in stacks.items():
        assert set(stack.remote_state_reads()) <= set(stack.dependencies), name


def test_diagram_reads_the_same_stacks_through_the_shared_reader(synth_out: Path) -> None:
    graph, stacks = load_graph(synth_out), load_stacks(synth_out)
    assert set(graph.stacks) == set(stacks)
    assert all(graph.dependencies[name] == stacks[name].dependencies for name in stacks)


def test_dependency_cycle_is_reported() -> None:
    stacks = {"a": SynthStack("a", {}, ("b",)), "b": SynthStack("b", {}, ("a",))}
    with pytest.raises(SynthError, match="cycle"):
        deploy_order(stacks)


def test_unknown_environment_and_missing_synth_fail_clearly(synth_out: Path, tmp_path: Path) -> None:
    with pytest.raises(SynthError, match="no stacks for environment 'qa'"):
        environment_stacks(load_stacks(synth_out), "qa")
    with pytest.raises(SynthError, match="make synth"):
        load_stacks(tmp_path)
    with pytest.raises(SynthError, match="make synth"):
        load_graph(tmp_path)
