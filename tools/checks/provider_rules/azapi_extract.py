"""Extract the Azure resource types the azapi provider validates `azapi_resource` bodies against.

The azapi provider embeds Azure's published resource types (the `Azure/bicep-types-az` definitions, one
`types.json` per provider namespace and API version under `internal/azure/generated/`) and checks every body
against them at plan time (`internal/services/resource.go`, `schemaValidate`). This reads exactly the
`type@api-version` pairs the synthesized stacks use from a git mirror of `Azure/terraform-provider-azapi`,
keeps each pair's body type and every type reachable from it, renumbered, and writes a committed table that
`azapi_check.py` reads offline:

    make azapi-types AZAPI_MIRROR=<git dir> AZAPI_REF=<tag or commit>
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.checks.provider_rules import AZAPI_TABLE, REPO_ROOT
from tools.synth_output import load_stacks

GENERATED = "internal/azure/generated"
# The fields the checker reads, per kind of type (descriptions and the rest stay behind).
KEPT = {
    "StringType": ("minLength", "maxLength", "pattern"),
    "StringLiteralType": ("value",),
    "IntegerType": ("minValue", "maxValue"),
    "BooleanType": (),
    "AnyType": (),
    "ArrayType": ("itemType", "minLength", "maxLength"),
    "ObjectType": ("name", "properties", "additionalProperties"),
    "DiscriminatedObjectType": ("name", "discriminator", "baseProperties", "elements"),
    "UnionType": ("elements",),
}


def pairs_in_synth(outdir: Path) -> list[str]:
    """Every `Namespace/type@api-version` an `azapi_resource` of the synthesized stacks declares."""
    found = {
        body["type"]
        for stack in load_stacks(outdir).values()
        for body in stack.resources().get("azapi_resource", {}).values()
    }
    return sorted(found)


def _git(mirror: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(mirror), *args], check=True, capture_output=True, text=True).stdout


def types_file(files: list[str], namespace: str, api_version: str) -> str:
    suffix = f"/{namespace.lower()}/{api_version}/types.json"
    matches = [f for f in files if f.startswith(GENERATED) and f.endswith(suffix)]
    if len(matches) != 1:
        raise SystemExit(f"{namespace}@{api_version}: expected one {suffix} under {GENERATED}, found {matches}")
    return matches[0]


def _index(ref: dict[str, str]) -> int:
    return int(ref["$ref"].rsplit("/", 1)[1])


def closure(types: list[dict[str, Any]], root: int) -> tuple[list[dict[str, Any]], int]:
    """The types reachable from `root`, renumbered from 0, with references as plain integers."""
    order: list[int] = []
    position: dict[int, int] = {}
    pending = [root]
    while pending:
        index = pending.pop()
        if index in position:
            continue
        position[index] = len(order)
        order.append(index)
        pending.extend(_references(types[index]))

    def ref(value: dict[str, str]) -> int:
        return position[_index(value)]

    renumbered = []
    for index in order:
        original = types[index]
        kind = original["$type"]
        kept: dict[str, Any] = {"kind": kind}
        for key in KEPT[kind]:
            if key not in original:
                continue
            value = original[key]
            if key in ("properties", "baseProperties"):
                value = {name: {"type": ref(p["type"]), "flags": p.get("flags", 0)} for name, p in value.items()}
            elif key in ("itemType", "additionalProperties"):
                value = ref(value)
            elif key == "elements":
                value = {k: ref(v) for k, v in value.items()} if isinstance(value, dict) else [ref(v) for v in value]
            kept[key] = value
        renumbered.append(kept)
    return renumbered, 0


def _references(entry: dict[str, Any]) -> list[int]:
    refs: list[int] = []
    for key in ("properties", "baseProperties"):
        refs += [_index(p["type"]) for p in entry.get(key, {}).values()]
    for key in ("itemType", "additionalProperties"):
        if isinstance(entry.get(key), dict):
            refs.append(_index(entry[key]))
    elements = entry.get("elements")
    if isinstance(elements, dict):
        refs += [_index(v) for v in elements.values()]
    elif isinstance(elements, list):
        refs += [_index(v) for v in elements]
    return refs


def extract(mirror: Path, ref: str, pairs: list[str]) -> dict[str, Any]:
    commit = _git(mirror, "rev-parse", f"{ref}^{{commit}}").strip()
    files = _git(mirror, "ls-tree", "-r", "--name-only", commit, GENERATED).splitlines()
    resources: dict[str, Any] = {}
    for pair in pairs:
        resource_type, api_version = pair.split("@")
        path = types_file(files, resource_type.split("/")[0], api_version)
        types = json.loads(_git(mirror, "show", f"{commit}:{path}"))
        roots = [i for i, t in enumerate(types)
                 if t.get("$type") == "ResourceType" and t["name"].lower() == pair.lower()]
        if len(roots) != 1:
            raise SystemExit(f"{pair}: expected one ResourceType in {path}, found {len(roots)}")
        body, _ = closure(types, _index(types[roots[0]]["body"]))
        resources[pair] = {"source": path, "types": body}
    return {"repository": "Azure/terraform-provider-azapi", "ref": ref, "commit": commit, "resources": resources}


def write_table(table: dict[str, Any], out: Path) -> None:
    """One resource per key and one type per line, so a review reads the diff."""
    lines = ["{",
             f'  "repository": {json.dumps(table["repository"])},',
             f'  "ref": {json.dumps(table["ref"])},',
             f'  "commit": {json.dumps(table["commit"])},',
             '  "resources": {']
    pairs = sorted(table["resources"])
    for n, pair in enumerate(pairs):
        entry = table["resources"][pair]
        lines.append(f"    {json.dumps(pair)}: {{\"source\": {json.dumps(entry['source'])}, \"types\": [")
        lines += [f"      {json.dumps(t, sort_keys=True)}{',' if i < len(entry['types']) - 1 else ''}"
                  for i, t in enumerate(entry["types"])]
        lines.append(f"    ]}}{',' if n < len(pairs) - 1 else ''}")
    lines += ["  }", "}", ""]
    out.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mirror", type=Path, required=True, help="git dir of Azure/terraform-provider-azapi")
    parser.add_argument("--ref", default="HEAD", help="tag or commit of the provider")
    parser.add_argument("--outdir", type=Path, default=REPO_ROOT / "cdktf.out", help="synthesized stacks")
    parser.add_argument("--out", type=Path, default=AZAPI_TABLE)
    args = parser.parse_args(argv)
    pairs = pairs_in_synth(args.outdir)
    table = extract(args.mirror, args.ref, pairs)
    write_table(table, args.out)
    sizes = ", ".join(f"{p} ({len(e['types'])} types)" for p, e in sorted(table["resources"].items()))
    print(f"wrote {args.out.relative_to(REPO_ROOT)} from {table['commit'][:12]}: {sizes}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
