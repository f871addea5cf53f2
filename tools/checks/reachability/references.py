"""Follow references across one environment's synthesized stacks to the resources they name.

A value in cdk.tf.json names another resource in one of three ways: `${type.id.attr}` inside its stack, a
`terraform_remote_state` output of a producer stack (`cross-stack-reference-input-<stack>`), or a literal Azure
resource id (the agents' network, a workspace id built from names). `EnvironmentSynth.follow` turns any of them
into the resource (`Node`) and attribute it means; `literal` gives the attribute's literal value where there is one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tools.deploy.infra.arm_types import ARM_TYPES
from tools.synth_output import REMOTE_STATE_PREFIX, SynthStack

_RESOURCE_REF = re.compile(r"^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z0-9_]+)\}$")
_REMOTE_REF = re.compile(r"^\$\{data\.terraform_remote_state\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\}$")
_ARM_ID = re.compile(r"^/subscriptions/[^/]+/resourceGroups/([^/]+)/providers/([^/]+)/(.+)$", re.IGNORECASE)
# The Azure resource types a literal id in the synth may name, and their Terraform types.
# Resource Manager type -> Terraform type, for literal Azure ids: the one table deploy tooling uses, plus
# subnets (children that a resource group listing never shows, so that table leaves them out).
_ARM_TYPES = {spec.arm_type.lower(): tf_type for tf_type, spec in ARM_TYPES.items()} | {
    "microsoft.network/virtualnetworks/subnets": "azurerm_subnet",
}


@dataclass(frozen=True, order=True)
class Node:
    """One resource of the synth: its stack, Terraform type and logical id (`data.` types are data sources)."""

    stack: str
    tf_type: str
    ident: str


class EnvironmentSynth:
    """The stacks of one environment, with references followed between them."""

    def __init__(self, stacks: dict[str, SynthStack]) -> None:
        self.stacks = stacks
        self._by_name: dict[tuple[str, str], list[Node]] = {}
        for node in self.nodes():
            name = self.stacks[node.stack].resolve(self.attributes(node).get("name"))
            if isinstance(name, str):
                self._by_name.setdefault((node.tf_type, name.lower()), []).append(node)

    def nodes(self, tf_type: str | None = None) -> Iterator[Node]:
        for stack_name in sorted(self.stacks):
            stack = self.stacks[stack_name]
            blocks = [("", stack.resources()), ("data.", stack.config.get("data", {}))]
            for prefix, block in blocks:
                for kind, instances in sorted(block.items()):
                    if tf_type is not None and f"{prefix}{kind}" != tf_type:
                        continue
                    for ident in sorted(instances):
                        yield Node(stack_name, f"{prefix}{kind}", ident)

    def attributes(self, node: Node) -> dict[str, Any]:
        config = self.stacks[node.stack].config
        if node.tf_type.startswith("data."):
            return config.get("data", {}).get(node.tf_type.removeprefix("data."), {}).get(node.ident, {})
        return config.get("resource", {}).get(node.tf_type, {}).get(node.ident, {})

    def follow(self, stack: str, value: Any, depth: int = 0) -> tuple[Node, str] | None:
        """The resource and attribute `value` (read in `stack`) refers to; None for a literal that names nothing."""
        if not isinstance(value, str) or depth > 6:
            return None
        if match := _REMOTE_REF.match(value):
            source, output = match.groups()
            producer = source.removeprefix(REMOTE_STATE_PREFIX)
            outputs = self.stacks[producer].config.get("output", {}) if producer in self.stacks else {}
            if output not in outputs:
                return None
            return self.follow(producer, outputs[output].get("value"), depth + 1)
        if match := _RESOURCE_REF.match(value):
            data, kind, ident, attr = match.groups()
            node = Node(stack, f"{'data.' if data else ''}{kind}", ident)
            return (node, attr) if self.attributes(node) else None
        if match := _ARM_ID.match(value):
            return self._by_arm_id(match)
        return None

    def _by_arm_id(self, match: re.Match[str]) -> tuple[Node, str] | None:
        _, namespace, rest = match.groups()
        parts = rest.split("/")
        arm_type = "/".join([namespace, *parts[0::2]]).lower()
        tf_type = _ARM_TYPES.get(arm_type)
        found = self._by_name.get((tf_type, parts[-1].lower()), []) if tf_type else []
        return (found[0], "id") if len(found) == 1 else None

    def node(self, stack: str, value: Any) -> Node | None:
        followed = self.follow(stack, value)
        return followed[0] if followed else None

    def literal(self, stack: str, value: Any) -> Any:
        """A literal as-is; a reference followed to the literal attribute it names; else None (known after apply)."""
        if not isinstance(value, str) or "${" not in value:
            return value
        followed = self.follow(stack, value)
        if followed is None:
            return None
        node, attr = followed
        target = self.attributes(node).get(attr)
        return self.literal(node.stack, target) if target is not None else None

    def name(self, node: Node) -> str:
        resolved = self.literal(node.stack, self.attributes(node).get("name"))
        return resolved if isinstance(resolved, str) else node.ident

    def by_name(self, tf_type: str, name: str) -> Node | None:
        found = self._by_name.get((tf_type, name.lower()), [])
        return found[0] if len(found) == 1 else None
