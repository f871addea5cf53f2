"""One synth of every environment per test session, shared by the tests that read it ("stacks" xdist group).

The tests read it through the same reader the deploy tools, the diagram and the summary use (tools/synth_output.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

from stacks.config import load_environments
from stacks.main import synthesize
from tools.checks.reachability.references import EnvironmentSynth
from tools.synth_output import SynthStack, environment_stacks, load_stacks


@dataclass(frozen=True)
class Referenced:
    """A resource a synthesized value refers to, by meaning: its type, its Azure name and the stack declaring it
    (never its logical id, which hashes the construct path)."""

    tf_type: str
    name: str
    stack: str
    attribute: str  # which of its attributes the value reads (`id`, `versionless_id`, `principal_id`, ...)
    attributes: dict[str, Any] = field(compare=False, repr=False)


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

    @cached_property
    def _environments(self) -> dict[str, EnvironmentSynth]:
        names = {name.split("-", 1)[0] for name in self.stacks}
        return {env: EnvironmentSynth(environment_stacks(self.stacks, env)) for env in names}

    def referenced(self, stack: str, value: Any) -> Referenced | None:
        """What `value` (read in `stack`) refers to: a `${type.id.attr}`, another stack's output or an Azure id."""
        environment = self._environments[stack.split("-", 1)[0]]
        followed = environment.follow(stack, value)
        if followed is None:
            return None
        node, attribute = followed
        return Referenced(node.tf_type, environment.name(node), node.stack, attribute, environment.attributes(node))

    def name_of(self, stack: str, value: Any) -> str | None:
        """The Azure name of what `value` refers to; None when it names no resource of the synth."""
        found = self.referenced(stack, value)
        return found.name if found else None

    def literal(self, stack: str, value: Any) -> Any:
        """A literal as-is; a reference followed to the literal it names; None when known only after apply."""
        return self._environments[stack.split("-", 1)[0]].literal(stack, value)

    def dependencies(self, stack: str, resource: dict[str, Any]) -> list[Referenced]:
        """The resources a resource's `depends_on` names."""
        found = [self.referenced(stack, f"${{{address}.id}}") for address in resource.get("depends_on", [])]
        return [r for r in found if r is not None]

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
