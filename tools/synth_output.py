"""The one reader of synthesized output (cdktf.out/manifest.json + stacks/<stack>/cdk.tf.json).

Deploy tooling, the diagram, the summary and the tests all load cdktf.out/ through `load_stacks`.
Deliberately independent of stacks/: the pipelines deploy exactly the artifact that was synthesized and
reviewed, so readers only see JSON. Literal values and simple `${type.id.attr}` references inside the
same stack are resolved; anything else (functions, expressions) stays unresolved (None). Cross-stack
values travel through `terraform_remote_state` data sources named `cross-stack-reference-input-<stack>`;
`remote_state_reads` says which outputs of which stack a stack reads.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_REFERENCE = re.compile(r"^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")
REMOTE_STATE_PREFIX = "cross-stack-reference-input-"
_REMOTE_OUTPUT = re.compile(r"data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)")


class SynthError(Exception):
    """cdktf.out/ is missing, incomplete or describes a cycle."""


@dataclass(frozen=True)
class SynthStack:
    name: str
    config: dict[str, Any]
    dependencies: tuple[str, ...] = ()

    def resources(self) -> dict[str, dict[str, dict[str, Any]]]:
        return self.config.get("resource", {})

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """A literal as-is; `${azurerm_x.y.attr}` followed to that resource's literal attribute; else None."""
        if not isinstance(value, str):
            return value
        if "${" not in value:
            return value
        match = _REFERENCE.match(value)
        if not match or depth > 5:
            return None
        kind, ident, attr = match.groups()
        target = self.resources().get(kind, {}).get(ident)
        if target is None or attr not in target:
            return None
        return self.resolve(target[attr], depth + 1)

    def referenced_name(self, value: Any, attribute: str = "name") -> str | None:
        """`attribute` of the resource a `${type.id.<attr>}` value points at; for `name`, a literal as-is."""
        if isinstance(value, str) and (match := _REFERENCE.match(value)):
            kind, ident, _ = match.groups()
            target = self.resources().get(kind, {}).get(ident)
            resolved = self.resolve(target.get(attribute)) if target else None
            return resolved if isinstance(resolved, str) else None
        resolved = self.resolve(value) if attribute == "name" else None
        return resolved if isinstance(resolved, str) else None

    def remote_state_reads(self) -> dict[str, set[str]]:
        """Producer stack -> the names of its outputs this stack reads through terraform_remote_state."""
        reads: dict[str, set[str]] = {}
        data = {k: v for k, v in self.config.get("data", {}).items() if k != "terraform_remote_state"}
        text = json.dumps({**self.config, "data": data})
        for source, output in _REMOTE_OUTPUT.findall(text):
            if source.startswith(REMOTE_STATE_PREFIX):
                reads.setdefault(source.removeprefix(REMOTE_STATE_PREFIX), set()).add(output)
        return reads

    def backend(self) -> tuple[str, dict[str, Any]] | None:
        backends = self.config.get("terraform", {}).get("backend", {})
        for kind, settings in backends.items():
            return kind, settings
        return None


@dataclass(frozen=True)
class DeclaredResource:
    """One Terraform resource the synthesized stacks declare, with its literal names resolved."""

    stack: str
    tf_type: str
    address: str
    name: str | None
    resource_group: str | None
    tags: dict[str, str] | None
    attributes: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


def load_stacks(outdir: Path) -> dict[str, SynthStack]:
    manifest_path = outdir / "manifest.json"
    if not manifest_path.is_file():
        raise SynthError(f"{manifest_path} not found: run `make synth ENV=<env>` first")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    stacks: dict[str, SynthStack] = {}
    for name, entry in manifest.get("stacks", {}).items():
        stack_file = outdir / entry.get("synthesizedStackPath", f"stacks/{name}/cdk.tf.json")
        if not stack_file.is_file():
            raise SynthError(f"{stack_file} is listed in the manifest but missing")
        config = json.loads(stack_file.read_text(encoding="utf-8"))
        stacks[name] = SynthStack(name, config, tuple(entry.get("dependencies", ())))
    return stacks


def environment_stacks(stacks: dict[str, SynthStack], environment: str) -> dict[str, SynthStack]:
    """Stacks named `<env>-...`; fails loudly when the environment was not synthesized."""
    selected = {name: stack for name, stack in stacks.items() if name.startswith(f"{environment}-")}
    if not selected:
        raise SynthError(f"no stacks for environment '{environment}' in the synth output (have: {sorted(stacks)})")
    return selected


def deploy_order(stacks: dict[str, SynthStack]) -> list[str]:
    """Dependencies first (Kahn's algorithm); ties broken by name so every run prints the same order.

    Dependencies on stacks outside the selection (another environment) are ignored.
    """
    pending = {name: {d for d in stack.dependencies if d in stacks} for name, stack in stacks.items()}
    order: list[str] = []
    while pending:
        ready = sorted(name for name, deps in pending.items() if not deps)
        if not ready:
            raise SynthError(f"stack dependencies form a cycle among {sorted(pending)}")
        for name in ready:
            order.append(name)
            del pending[name]
        for deps in pending.values():
            deps.difference_update(ready)
    return order


def declared_resources(stack: SynthStack) -> list[DeclaredResource]:
    declared = []
    for tf_type, instances in sorted(stack.resources().items()):
        for ident, attributes in sorted(instances.items()):
            tags = stack.resolve(attributes.get("tags")) if "tags" in attributes else None
            declared.append(
                DeclaredResource(
                    stack=stack.name,
                    tf_type=tf_type,
                    address=f"{tf_type}.{ident}",
                    name=stack.resolve(attributes.get("name")),
                    resource_group=stack.resolve(attributes.get("resource_group_name")),
                    tags=tags if isinstance(tags, dict) else None,
                    attributes=attributes,
                )
            )
    return declared


def find_resources(stacks: dict[str, SynthStack], tf_type: str) -> list[tuple[SynthStack, str, dict[str, Any]]]:
    """Every (stack, id, attributes) of one Terraform type across the given stacks, in name order."""
    found = []
    for name in sorted(stacks):
        for ident, attributes in sorted(stacks[name].resources().get(tf_type, {}).items()):
            found.append((stacks[name], ident, attributes))
    return found
