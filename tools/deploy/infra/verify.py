"""`make verify ENV=...`: does what exists in Azure match what the synthesized stacks declare?

Lists every resource in the environment's resource groups (Azure Resource Manager), compares type and name
with the resources in cdktf.out/, checks the required tags, prints a readable diff and exits 1 on drift.
Resources Azure creates by itself (private endpoint NICs, smart detection rules) and the ML endpoints the ML
pipeline deploys are listed but not drift. The check reads only the synth output (or the plan bundle).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import ResourceNotFoundError
from azure.mgmt.resource import ResourceManagementClient

from stacks.config import ENVIRONMENTS_DIR, REQUIRED_TAGS, load_environment
from tools.deploy.credential import azure_credential
from tools.deploy.infra.arm_types import (
    ARM_TYPES,
    AZAPI_RESOURCE,
    DEPLOYED_BY_ML_PIPELINE,
    RESOURCE_GROUP_ID,
    UNLISTED_AZAPI_TYPES,
    ArmType,
    is_azure_created,
)
from tools.synth_output import SynthError, SynthStack, declared_resources, environment_stacks, load_stacks

RESOURCE_GROUP_TYPE = "Microsoft.Resources/resourceGroups"
ROOT = Path(__file__).resolve().parents[3]


@dataclass(frozen=True)
class Resource:
    arm_type: str
    name: str
    resource_group: str
    tags: dict[str, str] | None = field(default=None, compare=False)
    address: str = field(default="", compare=False)  # Terraform address, for declared resources

    @property
    def key(self) -> tuple[str, str, str]:
        return self.arm_type.lower(), self.name.lower(), self.resource_group.lower()

    def label(self) -> str:
        where = f" in {self.resource_group}" if self.arm_type != RESOURCE_GROUP_TYPE else ""
        origin = f"  ({self.address})" if self.address else ""
        return f"{self.arm_type} {self.name}{where}{origin}"


@dataclass
class Drift:
    missing: list[Resource] = field(default_factory=list)
    unexpected: list[Resource] = field(default_factory=list)
    tag_problems: list[str] = field(default_factory=list)
    azure_created: list[Resource] = field(default_factory=list)
    ml_pipeline: list[Resource] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    matched: int = 0

    @property
    def drifted(self) -> bool:
        return bool(self.missing or self.unexpected or self.tag_problems)


def expected_resources(stacks: dict[str, SynthStack]) -> tuple[list[Resource], list[str]]:
    """Declared resources that an ARM listing can show, plus addresses this check cannot see."""
    expected, unchecked = [], []
    for stack_name in sorted(stacks):
        stack = stacks[stack_name]
        for declared in declared_resources(stack):
            rule = _arm_type(declared.tf_type, declared.attributes)
            if rule is None:
                unchecked.append(f"{stack_name}: {declared.address}")
                continue
            group = declared.name if declared.tf_type == "azurerm_resource_group" else declared.resource_group
            name = declared.name
            in_group = re.match(RESOURCE_GROUP_ID, str(declared.attributes.get("parent_id", "")), re.IGNORECASE)
            if declared.tf_type == AZAPI_RESOURCE and in_group:
                group = in_group.group(1)
            elif rule.parent_attribute:
                reference = declared.attributes.get(rule.parent_attribute)
                parent = stack.referenced_name(reference)
                name = f"{parent}/{name}" if parent and name else None
                group = group or stack.referenced_name(reference, "resource_group_name")
            if not name or not group:
                unchecked.append(f"{stack_name}: {declared.address} (name or resource group not a literal)")
                continue
            tags = declared.tags if "tags" in declared.attributes else None
            address = f"{stack_name}: {declared.address}"
            expected.append(Resource(rule.arm_type, name, group, tags, address))
    return expected, unchecked


def _arm_type(tf_type: str, attributes: dict[str, Any]) -> ArmType | None:
    if tf_type == AZAPI_RESOURCE and isinstance(attributes.get("type"), str):
        if attributes["type"].split("@")[0].lower() in UNLISTED_AZAPI_TYPES:
            return None
        return ArmType(attributes["type"].split("@")[0], parent_attribute="parent_id")
    return ARM_TYPES.get(tf_type)


def compare(
    expected: list[Resource], actual: Iterable[Resource], required_tags: Iterable[str] = REQUIRED_TAGS
) -> Drift:
    drift = Drift()
    actual_by_key = {resource.key: resource for resource in actual}
    expected_keys = set()
    for wanted in expected:
        expected_keys.add(wanted.key)
        found = actual_by_key.get(wanted.key)
        if found is None:
            drift.missing.append(wanted)
            continue
        drift.matched += 1
        if wanted.tags is not None:
            drift.tag_problems.extend(_tag_problems(wanted, found, tuple(required_tags)))
    for key, found in sorted(actual_by_key.items()):
        if key in expected_keys:
            continue
        if is_azure_created(found.arm_type, found.name):
            drift.azure_created.append(found)
        elif found.arm_type.lower() in DEPLOYED_BY_ML_PIPELINE:
            drift.ml_pipeline.append(found)
        else:
            drift.unexpected.append(found)
    return drift


def _tag_problems(wanted: Resource, found: Resource, required: tuple[str, ...]) -> list[str]:
    problems = []
    actual_tags = found.tags or {}
    for tag in required:
        if not actual_tags.get(tag):
            problems.append(f"{found.label()}: required tag '{tag}' is missing")
    for tag, value in sorted((wanted.tags or {}).items()):
        if isinstance(value, str) and tag in actual_tags and actual_tags[tag] != value:
            problems.append(f"{found.label()}: tag '{tag}' is '{actual_tags[tag]}', the stacks declare '{value}'")
    return problems


def list_actual(client: ResourceManagementClient, groups: Iterable[str]) -> list[Resource]:
    """The resource groups themselves plus everything inside them; a missing group simply lists nothing."""
    found: list[Resource] = []
    for group in sorted(set(groups)):
        try:
            info = client.resource_groups.get(group)
        except ResourceNotFoundError:
            continue
        found.append(Resource(RESOURCE_GROUP_TYPE, info.name or group, info.name or group, dict(info.tags or {})))
        for item in client.resources.list_by_resource_group(group):
            found.append(Resource(str(item.type), str(item.name), group, dict(item.tags or {})))
    return found


def render(environment: str, drift: Drift) -> str:
    lines = [f"verify {environment}: {drift.matched} resources match the synthesized stacks"]
    sections: list[tuple[str, list[str]]] = [
        ("- declared but missing in Azure", [r.label() for r in drift.missing]),
        ("+ in Azure but not declared", [r.label() for r in drift.unexpected]),
        ("! tags", drift.tag_problems),
        ("  created by Azure itself (not drift)", [r.label() for r in drift.azure_created]),
        ("  deployed by the ML pipeline (not drift)", [r.label() for r in drift.ml_pipeline]),
    ]
    for title, entries in sections:
        if entries:
            lines.append(f"{title} ({len(entries)}):")
            lines.extend(f"    {entry}" for entry in entries)
    if drift.unchecked:
        lines.append(f"  not visible in a resource listing (child resources, not compared): {len(drift.unchecked)}")
    lines.append("DRIFT: the environment does not match the stacks" if drift.drifted else "OK: no drift")
    return "\n".join(lines)


def verify(environment: str, outdir: Path, subscription_id: str, credential: TokenCredential, **kwargs: Any) -> Drift:
    stacks = environment_stacks(load_stacks(outdir), environment)
    expected, unchecked = expected_resources(stacks)
    groups = [r.name for r in expected if r.arm_type == RESOURCE_GROUP_TYPE]
    client = ResourceManagementClient(credential, subscription_id, **kwargs)
    drift = compare(expected, list_actual(client, groups))
    drift.unchecked = unchecked
    return drift


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Compare an environment in Azure with its synthesized stacks.")
    parser.add_argument("--env", required=True)
    parser.add_argument("--outdir", type=Path, default=ROOT / "cdktf.out")
    args = parser.parse_args(argv)
    config = load_environment(ENVIRONMENTS_DIR / f"{args.env}.yaml")
    try:
        drift = verify(config.name, args.outdir, config.subscription_id, azure_credential())
    except SynthError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(render(config.name, drift))
    return 1 if drift.drifted else 0


if __name__ == "__main__":
    sys.exit(main())
