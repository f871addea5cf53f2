"""Check every `azapi_resource` body of the synthesized stacks the way the azapi provider does at plan time.

The provider merges the resource's `name`, `location`, `tags` and `identity` into the body and validates it
against Azure's published type of that `type@api-version` (`internal/services/resource.go` `schemaValidate`,
`internal/azure/types/*.go` in Azure/terraform-provider-azapi): a property the type does not define (unless it
takes additional properties), a read-only property set, a required property missing (`name` at the top is
exempt, and so are the `location`/`tags` the provider may default), a value of the wrong JSON type, a string
outside an enum (a union of literals), length, pattern or integer bounds. Values that hold a Terraform
reference (`${...}`) are unknown until apply and skipped, as the provider skips unknowns. One deliberate
difference: a boolean property must hold a JSON boolean (the provider leaves that to Azure, which then fails
the apply).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools.checks.provider_rules import AZAPI_TABLE

REQUIRED, READ_ONLY = 1, 2  # bicep-types ObjectTypePropertyFlags
EXEMPT_MISSING = ("location", "tags")  # resource.go drops these "is required" errors


@dataclass(frozen=True)
class BodyProblem:
    stack: str
    address: str
    construct_path: str
    resource_type: str
    path: str  # e.g. "properties.siteConfig.minTlsVersion"
    message: str

    def describe(self, python_file: str | None = None) -> str:
        built_by = f" ({python_file})" if python_file else ""
        return (f"{self.stack}: {self.address} ({self.resource_type})\n  construct {self.construct_path}{built_by}\n"
                f"  body.{self.path or '(top)'}: {self.message}")


def _unknown(value: Any) -> bool:
    return isinstance(value, str) and "${" in value


class BodyChecker:
    """Validates values against one resource type's renumbered type list from the table."""

    def __init__(self, types: list[dict[str, Any]]) -> None:
        self._types = types

    def check(self, value: Any, index: int = 0, path: str = "") -> Iterator[tuple[str, str]]:
        if value is None or _unknown(value):
            return
        kind = self._types[index]["kind"]
        yield from getattr(self, f"_{kind}")(self._types[index], value, path)

    def _AnyType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        yield from ()

    def _BooleanType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if not isinstance(value, bool):
            yield path, f"expected a boolean, got {json.dumps(value)}"

    def _StringLiteralType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if value != spec["value"]:
            yield path, f"expected {json.dumps(spec['value'])}, got {json.dumps(value)}"

    def _StringType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if not isinstance(value, str):
            yield path, f"expected a string, got {json.dumps(value)}"
            return
        if "minLength" in spec and len(value) < spec["minLength"]:
            yield path, f"string shorter than {spec['minLength']}"
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            yield path, f"string longer than {spec['maxLength']}"
        if spec.get("pattern") and not re.search(spec["pattern"], value):
            yield path, f"{json.dumps(value)} does not match the pattern {spec['pattern']}"

    def _IntegerType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, float):
            return  # the provider skips floats (bicep-types-az reads some numbers as integers)
        if isinstance(value, bool) or not isinstance(value, int):
            yield path, f"expected an integer, got {json.dumps(value)}"
            return
        if "minValue" in spec and value < spec["minValue"]:
            yield path, f"{value} is less than {spec['minValue']}"
        if "maxValue" in spec and value > spec["maxValue"]:
            yield path, f"{value} is greater than {spec['maxValue']}"

    def _ArrayType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if not isinstance(value, list):
            yield path, f"expected an array, got {json.dumps(value)}"
            return
        if "minLength" in spec and len(value) < spec["minLength"]:
            yield path, f"fewer than {spec['minLength']} items"
        if "maxLength" in spec and len(value) > spec["maxLength"]:
            yield path, f"more than {spec['maxLength']} items"
        for i, item in enumerate(value):
            yield from self.check(item, spec["itemType"], f"{path}[{i}]")

    def _UnionType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if any(not list(self.check(value, element, path)) for element in spec["elements"]):
            return
        literals = [self._types[e]["value"] for e in spec["elements"] if self._types[e]["kind"] == "StringLiteralType"]
        allowed = f"one of {literals}" if literals else "any of its types"
        yield path, f"{json.dumps(value)} matches none of the allowed values: {allowed}"

    def _ObjectType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if not isinstance(value, dict):
            yield path, f"expected an object, got {json.dumps(value)}"
            return
        yield from self._properties(spec.get("properties", {}), spec.get("additionalProperties"), value, path)

    def _DiscriminatedObjectType(self, spec: dict[str, Any], value: Any, path: str) -> Iterator[tuple[str, str]]:
        if not isinstance(value, dict):
            yield path, f"expected an object, got {json.dumps(value)}"
            return
        base = spec.get("baseProperties", {})
        yield from self._properties(base, None, {k: v for k, v in value.items() if k in base}, path, strict=False)
        rest = {k: v for k, v in value.items() if k not in base}
        discriminator = spec["discriminator"]
        chosen = rest.get(discriminator)
        if chosen is None:
            yield _join(path, discriminator), "required property is missing (it selects the object's shape)"
        elif _unknown(chosen):
            return
        elif chosen not in spec["elements"]:
            yield _join(path, discriminator), f"{json.dumps(chosen)} is not one of {sorted(spec['elements'])}"
        else:
            yield from self.check(rest, spec["elements"][chosen], path)

    def _properties(self, properties: dict[str, Any], additional: int | None, value: dict[str, Any], path: str,
                    strict: bool = True) -> Iterator[tuple[str, str]]:
        for key, item in value.items():
            where = _join(path, key)
            spec = properties.get(key)
            if spec is None:
                if additional is not None:
                    yield from self.check(item, additional, where)
                elif strict:
                    yield where, f"not a property of this type (it has {sorted(properties)})"
                continue
            if spec["flags"] & READ_ONLY:
                if not spec["flags"] & REQUIRED:
                    yield where, "read-only: Azure sets it, a body may not"
                continue
            yield from self.check(item, spec["type"], where)
        for key, spec in properties.items():
            flags = spec["flags"]
            if flags & REQUIRED and not flags & READ_ONLY and key not in value:
                if path == "" and key in ("name", *EXEMPT_MISSING):
                    continue
                yield _join(path, key), "required property is missing"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def effective_body(resource: dict[str, Any]) -> Any:
    """The body as the provider validates it: with `name`, `location`, `tags` and `identity` merged in."""
    body = resource.get("body")
    if not isinstance(body, dict):
        return body
    merged = dict(body)
    merged["name"] = resource.get("name")
    for key in ("location", "tags"):
        if resource.get(key) is not None:
            merged[key] = resource[key]
    identity = resource.get("identity")
    if isinstance(identity, list):
        identity = identity[0] if identity else None
    if identity:
        shaped: dict[str, Any] = {"type": identity.get("type")}
        if identity.get("identity_ids"):
            shaped["userAssignedIdentities"] = {i: None for i in identity["identity_ids"]}
        merged["identity"] = shaped
    return merged


def load_azapi_table(path: Path = AZAPI_TABLE) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def check_stack(stack: str, document: dict[str, Any], table: dict[str, Any]) -> tuple[list[BodyProblem], int]:
    """(problems, bodies checked); a type@api-version missing from the table is itself a problem."""
    problems: list[BodyProblem] = []
    checked = 0
    for key, resource in sorted(document.get("resource", {}).get("azapi_resource", {}).items()):
        resource_type = resource.get("type", "")
        construct_path = resource.get("//", {}).get("metadata", {}).get("path", "")
        address = f"azapi_resource.{key}"
        entry = table["resources"].get(resource_type)
        if entry is None:
            missing = "this type@api-version is not in the azapi types table: run `make azapi-types`"
            problems.append(BodyProblem(stack, address, construct_path, resource_type, "", missing))
            continue
        checked += 1
        for where, message in BodyChecker(entry["types"]).check(effective_body(resource)):
            problems.append(BodyProblem(stack, address, construct_path, resource_type, where, message))
    return problems, checked
