"""Extract the argument rules azurerm enforces at plan time, for the resource types the stacks use.

Reads the provider's source at a tag from its git mirror (nothing is built or run), finds each resource's
schema (untyped `pluginsdk.Resource` constructors listed in a service's `SupportedResources()`, typed
resources' `Arguments()`), evaluates it with `tools.checks.provider_rules.evaluate` and writes one sorted JSON
table. Re-run it when the provider is bumped:

    make provider-rules                      # mirror and tag from make/validate.mk
    python -m tools.checks.provider_rules.extract --mirror PATH --tag v4.81.0 \
        --out tools/checks/provider_rules/azurerm-4.81.0.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

from tools.checks.provider_rules import DEFAULT_TABLE, REPO_ROOT
from tools.checks.provider_rules.bindings import differences
from tools.checks.provider_rules.evaluate import Evaluator
from tools.checks.provider_rules.gosource import GitTree, Source, find_all, text
from tools.checks.provider_rules.values import FuncRef, Opaque, Regex, Spread, Struct, Validator

COMBINATION_FIELDS = {
    "ConflictsWith": "conflicts_with",
    "RequiredWith": "required_with",
    "ExactlyOneOf": "exactly_one_of",
    "AtLeastOneOf": "at_least_one_of",
}
RANGE_VALIDATORS = {"IntBetween": (0, 1), "IntAtLeast": (0, None), "IntAtMost": (None, 0)}
FLOAT_VALIDATORS = {"FloatBetween": (0, 1), "FloatAtLeast": (0, None), "FloatAtMost": (None, 0)}
CHECKED_KINDS = {"string_in_slice", "int_between", "int_in_slice", "float_between", "string_len_between",
                 "string_match", "string_not_empty", "string_not_whitespace"}
TEXT_CHECKS = {"StringIsNotEmpty": "string_not_empty", "StringIsNotWhiteSpace": "string_not_whitespace"}


def _untyped_constructor(source: Source, directory: str, tf_type: str) -> tuple[Any, Any] | None:
    package = source.package(directory)
    for (receiver, name), decl in package.methods.items():
        if not receiver.lower().endswith("registration") or name != "SupportedResources":
            continue
        for element in find_all(decl.node, "keyed_element"):
            key = element.child_by_field_name("key")
            if key is not None and text(key) == f'"{tf_type}"':
                call = element.child_by_field_name("value").named_children[0]  # type: ignore[union-attr]
                function = text(call.child_by_field_name("function"))  # type: ignore[arg-type]
                if function in package.funcs:
                    return package, package.funcs[function]
    return None


def _typed_arguments(source: Source, directory: str, tf_type: str) -> tuple[Any, Any] | None:
    package = source.package(directory)
    typed = {
        text(literal.child_by_field_name("type"))  # type: ignore[arg-type]
        for (receiver, name), decl in package.methods.items()
        if receiver.lower().endswith("registration") and name == "Resources"
        for literal in find_all(decl.node, "composite_literal")
    }
    for (receiver, name), decl in package.methods.items():
        if receiver in typed and name == "ResourceType" and f'return "{tf_type}"' in text(decl.node):
            arguments = package.methods.get((receiver, "Arguments"))
            if arguments is not None:
                return package, arguments
    return None


def resource_schema(source: Source, evaluator: Evaluator, tf_type: str) -> tuple[str, str, Any]:
    """(how it is declared, the defining file, the evaluated schema map) for one resource type."""
    directories = sorted({f.rsplit("/", 1)[0] for f in source.tree.grep(f'"{tf_type}"', "internal/services")
                          if not f.endswith("_test.go")})
    for directory in directories:
        found = _untyped_constructor(source, directory, tf_type)
        if found:
            resource = evaluator.call_function(found[0], found[1], [])
            schema = resource.fields.get("Schema") if isinstance(resource, Struct) else Opaque("constructor")
            return "untyped", found[1].file, schema
    for directory in directories:
        found = _typed_arguments(source, directory, tf_type)
        if found:
            return "typed", found[1].file, evaluator.call_function(found[0], found[1], [])
    raise LookupError(f"{tf_type}: neither in a SupportedResources() map nor a typed Resources() list"
                      " (plugin-framework resources are not read)")


def _strings(value: Any) -> list[str] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def validator_rules(value: Any, path: str, where: str, element: bool) -> list[dict[str, Any]]:
    """Rules of one ValidateFunc value; what has no static meaning is recorded as unresolved or unchecked."""
    base: dict[str, Any] = {"path": path, "source": where}
    if element:
        base["element"] = True
    if value is None:
        return []
    if isinstance(value, Validator):
        return _validation_call(value, base, path, where, element)
    if isinstance(value, FuncRef):
        short = value.name.removeprefix("validation.")
        if value.name.startswith("validation.") and short in TEXT_CHECKS:
            return [{**base, "kind": TEXT_CHECKS[short]}]
        return [{**base, "kind": "not_checked", "detail": value.name}]
    return [{**base, "kind": "unresolved", "detail": f"ValidateFunc: {_describe(value)}"}]


def _validation_call(value: Validator, base: dict[str, Any], path: str, where: str,
                     element: bool) -> list[dict[str, Any]]:
    """`validation.Name(args)`: the combinators (All, Any) by their parts, the rest by `_value_rule`."""
    name, args = value.name, value.args
    if len(args) == 1 and isinstance(args[0], Spread):
        args = args[0].items
    if name in ("ToDiagFunc", "All"):
        return [rule for arg in args for rule in validator_rules(arg, path, where, element)]
    if name == "Any":
        alternatives = [validator_rules(arg, path, where, element) for arg in args]
        if alternatives and all(a and all(r["kind"] in CHECKED_KINDS for r in a) for a in alternatives):
            return [{**base, "kind": "any_of", "alternatives": [
                [{k: v for k, v in r.items() if k not in ("path", "source", "element")} for r in a]
                for a in alternatives]}]
        return [{**base, "kind": "not_checked", "detail": "validation.Any with an alternative that is not checked"}]
    rule = _value_rule(name, args)
    if rule is not None:
        return [{**base, **rule}]
    resolved = not any(_has_opaque(a) for a in args)
    kind = "not_checked" if resolved else "unresolved"
    return [{**base, "kind": kind, "detail": f"validation.{name}"}]


def _value_rule(name: str, args: list[Any]) -> dict[str, Any] | None:
    """The rule of a validator that checks a value against literal arguments (None: not one we check)."""
    if name == "StringInSlice" and len(args) == 2 and _strings(args[0]) is not None and isinstance(args[1], bool):
        return {"kind": "string_in_slice", "values": sorted(set(args[0])), "ignore_case": args[1]}
    if name in RANGE_VALIDATORS and all(isinstance(a, int) for a in args):
        low, high = RANGE_VALIDATORS[name]
        return {"kind": "int_between", "min": None if low is None else args[low],
                "max": None if high is None else args[high]}
    if name in FLOAT_VALIDATORS and all(isinstance(a, int | float) and not isinstance(a, bool) for a in args):
        low, high = FLOAT_VALIDATORS[name]
        return {"kind": "float_between", "min": None if low is None else args[low],
                "max": None if high is None else args[high]}
    if name == "IntInSlice" and args and isinstance(args[0], list) and all(type(a) is int for a in args[0]):
        return {"kind": "int_in_slice", "values": sorted(set(args[0]))}
    if name == "StringLenBetween" and len(args) == 2 and all(isinstance(a, int) for a in args):
        return {"kind": "string_len_between", "min": args[0], "max": args[1]}
    if name == "StringMatch" and args and isinstance(args[0], Regex):
        return {"kind": "string_match", "pattern": args[0].pattern}
    return None


def _has_opaque(value: Any) -> bool:
    if isinstance(value, Opaque):
        return True
    if isinstance(value, list):
        return any(_has_opaque(v) for v in value)
    return isinstance(value, dict) and any(_has_opaque(v) for v in value.values())


def _describe(value: Any) -> str:
    return value.source if isinstance(value, Opaque) else type(value).__name__


def schema_rules(schema: Any, prefix: str, where: str, rules: list[dict[str, Any]], arguments: list[str],
                 as_attribute: bool = False) -> None:
    """Append the rules of one schema map (and its nested blocks) to `rules`.

    `as_attribute`: the block is in attribute mode (ConfigMode: SchemaConfigModeAttr), where even computed
    fields of its objects can be written in configuration.
    """
    if not isinstance(schema, dict):
        rules.append({"path": prefix.rstrip(".") or "*", "kind": "unresolved", "source": where,
                      "detail": f"schema map: {_describe(schema)}"})
        return
    for name in sorted(schema, key=str):
        attribute, path = schema[name], f"{prefix}{name}"
        if not isinstance(name, str) or not isinstance(attribute, Struct):
            rules.append({"path": path, "kind": "unresolved", "source": where,
                          "detail": f"attribute: {_describe(attribute)}"})
            continue
        fields, at = attribute.fields, attribute.where
        computed_only = fields.get("Computed") is True and not fields.get("Optional") and not fields.get("Required")
        if computed_only and not as_attribute:
            continue  # computed-only: not an argument
        arguments.append(path)
        rules.extend(validator_rules(fields.get("ValidateFunc") or fields.get("ValidateDiagFunc"), path, at, False))
        rules.extend(_combination_rules(fields, path, at))
        _element_rules(fields, path, at, rules, arguments)


def _combination_rules(fields: dict[str, Any], path: str, at: str) -> list[dict[str, Any]]:
    """ConflictsWith, ExactlyOneOf and the like: the keys an attribute is checked together with."""
    rules: list[dict[str, Any]] = []
    for field_name, kind in COMBINATION_FIELDS.items():
        if field_name not in fields:
            continue
        keys = _strings(fields[field_name])
        if keys is None:
            rules.append({"path": path, "kind": "unresolved", "source": at,
                          "detail": f"{field_name}: {_describe(fields[field_name])}"})
        elif keys:
            rules.append({"path": path, "kind": kind, "keys": sorted(set(keys)), "source": at})
    return rules


def _element_rules(fields: dict[str, Any], path: str, at: str, rules: list[dict[str, Any]],
                   arguments: list[str]) -> None:
    """An attribute's Elem: a nested block (its own schema map) or the validation of each list element."""
    elem = fields.get("Elem")
    if isinstance(elem, Struct) and "Schema" in elem.fields:
        schema_rules(elem.fields["Schema"], f"{path}.", elem.where, rules, arguments,
                     fields.get("ConfigMode") == "SchemaConfigModeAttr")
    elif isinstance(elem, Struct):
        rules.extend(validator_rules(elem.fields.get("ValidateFunc") or elem.fields.get("ValidateDiagFunc"),
                                     path, elem.where, True))
    elif elem is not None:
        rules.append({"path": path, "kind": "unresolved", "source": at, "detail": f"Elem: {_describe(elem)}"})


def extract(mirror: Path, tag: str, tf_types: list[str]) -> dict[str, Any]:
    tree = GitTree(mirror, tag)
    source = Source(tree)
    evaluator = Evaluator(source)
    resources: dict[str, Any] = {}
    try:
        for tf_type in sorted(set(tf_types)):
            style, file, schema = resource_schema(source, evaluator, tf_type)
            rules: list[dict[str, Any]] = []
            arguments: list[str] = []
            schema_rules(schema, "", file, rules, arguments)
            rules.sort(key=lambda r: (r["path"], r["kind"], json.dumps(r, sort_keys=True)))
            resources[tf_type] = {"declared": style, "source": file, "arguments": sorted(arguments), "rules": rules}
    finally:
        tree.close()
    # Files the mirror lists without content; anything declared in them evaluated as unresolved.
    missing = sorted(set(source.missing))
    return {"provider": "hashicorp/azurerm", "tag": tag, "resources": resources, "unreadable_files": missing}


def render(table: dict[str, Any]) -> str:
    """Sorted JSON with one rule per line, so a provider bump reads as a short diff."""
    one = lambda value: json.dumps(value, sort_keys=True)  # noqa: E731
    lines = ["{", f' "provider": {one(table["provider"])},', f' "tag": {one(table["tag"])},',
             f' "unreadable_files": {one(table["unreadable_files"])},', ' "resources": {']
    names = sorted(table["resources"])
    for i, name in enumerate(names):
        resource = table["resources"][name]
        lines += [f"  {one(name)}: {{", f'   "declared": {one(resource["declared"])},',
                  f'   "source": {one(resource["source"])},', f'   "arguments": {one(resource["arguments"])},',
                  '   "rules": [']
        lines += [f"    {one(rule)}{',' if j < len(resource['rules']) - 1 else ''}"
                  for j, rule in enumerate(resource["rules"])]
        lines += ["   ]", "  }" + ("," if i < len(names) - 1 else "")]
    return "\n".join([*lines, " }", "}"]) + "\n"


def stack_resource_types(root: Path = REPO_ROOT) -> list[str]:
    """Every azurerm resource type the stacks import (`from cdktn_provider_azurerm.<module> import ...`)."""
    found: set[str] = set()
    pattern = re.compile(r"cdktn_provider_azurerm\.(\w+)|cdktn_provider_azurerm import ([\w, ()\n]+)")
    for path in (root / "stacks").rglob("*.py"):
        for match in pattern.finditer(path.read_text(encoding="utf-8")):
            modules = [match.group(1)] if match.group(1) else re.findall(r"\w+", match.group(2))
            found.update(f"azurerm_{m}" for m in modules if m not in ("provider",) and not m.startswith("data_"))
    return sorted(found)


def synth_resource_types(outdir: Path) -> list[str]:
    found: set[str] = set()
    for stack_file in outdir.glob("stacks/*/cdk.tf.json"):
        found.update(t for t in json.loads(stack_file.read_text()).get("resource", {}) if t.startswith("azurerm_"))
    return sorted(found)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path, required=True, help="git directory of terraform-provider-azurerm")
    parser.add_argument("--tag", default="v4.81.0")
    parser.add_argument("--out", type=Path, default=DEFAULT_TABLE)
    parser.add_argument("--outdir", type=Path, default=REPO_ROOT / "cdktf.out", help="a synth to read types from")
    parser.add_argument("--type", action="append", default=[], help="extra resource type (repeatable)")
    parser.add_argument("--prune", action="store_true", help="drop types of the current table the stacks no longer use")
    args = parser.parse_args(argv)
    kept = set() if args.prune or not args.out.is_file() else set(json.loads(args.out.read_text())["resources"])
    types = sorted(set(stack_resource_types()) | set(synth_resource_types(args.outdir)) | set(args.type) | kept)
    table = extract(args.mirror, args.tag, types)
    args.out.write_text(render(table), encoding="utf-8")
    counts: dict[str, int] = {}
    for resource in table["resources"].values():
        for rule in resource["rules"]:
            counts[rule["kind"]] = counts.get(rule["kind"], 0) + 1
    print(f"{len(table['resources'])} resource types -> {args.out}")
    for kind, count in sorted(counts.items()):
        print(f"  {kind:22} {count}")
    mismatched = differences(table, types)
    for tf_type, (bound_only, table_only) in mismatched.items():
        print(f"{tf_type}: arguments the bindings have but the table lacks {bound_only}; "
              f"the table has but the bindings lack {table_only}", file=sys.stderr)
    return 1 if mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
