"""Read cdktf.out/ into resources and the references between them, across stacks.

Only the synthesized JSON is read (never stacks/), so the pictures show exactly what would be deployed.
A reference is any `${<type>.<id>.<attr>}` inside a resource's attributes. Cross-stack references
(`${data.terraform_remote_state.cross-stack-reference-input-<stack>.outputs.<output>}`) are followed through
the producing stack's `output` block back to the resource that produces the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.synth_output import load_stacks

_EXPRESSION = re.compile(r"\$\{([^{}]*)\}")
_RESOURCE_REF = re.compile(r"^([a-z][a-z0-9_]*)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_]+)")
_REMOTE_REF = re.compile(
    r"^data\.terraform_remote_state\.cross-stack-reference-input-([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_.-]+)"
)


@dataclass(frozen=True)
class Resource:
    """One resource block of one synthesized stack."""

    stack: str
    tf_type: str
    logical_id: str
    attributes: dict[str, Any] = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        """Unique across the whole synth output: `<stack>/<type>.<logical id>`."""
        return f"{self.stack}/{self.tf_type}.{self.logical_id}"

    @property
    def construct_path(self) -> str:
        return self.attributes.get("//", {}).get("metadata", {}).get("path", f"{self.stack}/{self.logical_id}")

    def literal(self, attr: str) -> str | None:
        value = self.attributes.get(attr)
        return value if isinstance(value, str) and "${" not in value else None


@dataclass(frozen=True)
class Reference:
    """`source` mentions `target` in the attribute at `path` (dotted, list indexes dropped)."""

    source: Resource
    target: Resource
    path: str


@dataclass
class SynthOutput:
    """Every stack of one synth run, with lookups for following references."""

    stacks: dict[str, dict[str, Any]]
    dependencies: dict[str, tuple[str, ...]]

    def stack_names(self, env: str | None = None) -> list[str]:
        return [name for name in self.stacks if env is None or name.startswith(f"{env}-")]

    def resources(self, stack: str) -> list[Resource]:
        blocks = self.stacks[stack].get("resource", {})
        return [
            Resource(stack, tf_type, logical_id, attrs)
            for tf_type in sorted(blocks)
            for logical_id, attrs in sorted(blocks[tf_type].items())
        ]

    def resource(self, stack: str, tf_type: str, logical_id: str) -> Resource | None:
        attrs = self.stacks.get(stack, {}).get("resource", {}).get(tf_type, {}).get(logical_id)
        return Resource(stack, tf_type, logical_id, attrs) if attrs is not None else None

    def resolve(self, stack: str, expression: str, depth: int = 0) -> Resource | None:
        """The resource an expression inside `${...}` in `stack` points at, or None (data source, function...)."""
        if depth > 5:
            return None
        if remote := _REMOTE_REF.match(expression):
            producer, output = remote.groups()
            value = self.stacks.get(producer, {}).get("output", {}).get(output, {}).get("value")
            inner = _EXPRESSION.fullmatch(value) if isinstance(value, str) else None
            return self.resolve(producer, inner.group(1), depth + 1) if inner else None
        if expression.startswith("data.") or not (match := _RESOURCE_REF.match(expression)):
            return None
        tf_type, logical_id, _attr = match.groups()
        return self.resource(stack, tf_type, logical_id)

    def references(self, resource: Resource) -> Iterator[Reference]:
        for path, text in _strings(resource.attributes, ""):
            for expression in _EXPRESSION.findall(text):
                target = self.resolve(resource.stack, expression)
                if target is not None and target.key != resource.key:
                    yield Reference(resource, target, path)


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key != "//":  # construct metadata, not configuration
                yield from _strings(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, path)


def load(outdir: Path) -> SynthOutput:
    """The synth output through the shared reader (tools/synth_output.py); SynthError if missing."""
    stacks = load_stacks(outdir)
    return SynthOutput(
        {name: stacks[name].config for name in sorted(stacks)},
        {name: stacks[name].dependencies for name in sorted(stacks)},
    )

