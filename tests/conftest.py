"""One synth of every environment per test session, shared by the tests that read it ("stacks" xdist group).

The tests read it through the same reader the deploy tools, the diagram and the summary use (tools/synth_output.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from stacks.config import load_environments
from stacks.main import synthesize
from tools.synth_output import SynthStack, load_stacks


@dataclass(frozen=True)
class SynthOutput:
    root: Path

    @cached_property
    def stacks(self) -> dict[str, SynthStack]:
        return load_stacks(self.root)

    def stack(self, name: str) -> dict[str, Any]:
        return self.stacks[name].config

    def resources(self, stack: str, tf_type: str) -> list[dict[str, Any]]:
        return list(self.stacks[stack].resources().get(tf_type, {}).values())

    def one(self, stack: str, tf_type: str) -> dict[str, Any]:
        found = self.resources(stack, tf_type)
        assert len(found) == 1, f"expected one {tf_type} in {stack}, found {len(found)}"
        return found[0]

    def stack_names(self) -> list[str]:
        return sorted(self.stacks)

    def container_of(self, stack: str, scope: str) -> str:
        """The storage container a grant is scoped to: a `${azurerm_storage_container.<key>.id}` reference or an
        id string."""
        containers = self.stack(stack)["resource"].get("azurerm_storage_container", {})
        key = scope.removeprefix("${azurerm_storage_container.").removesuffix(".id}")
        return containers[key]["name"] if key in containers else scope.rsplit("/", 1)[-1]


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthOutput:
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synthesize(load_environments(), outdir, progress=False)
    return SynthOutput(outdir)
