"""Check every literal of the synthesized stacks against the provider's plan-time argument rules.

`make validate` runs this over cdktf.out/ (synthesizing first when it is stale). A violation names the
stack, the resource, its construct path, the Python file that built it, the argument, the value and what
the provider allows, with the provider source line that says so. Terraform references (`${...}`) are
unknown until apply and are skipped, as the provider skips them. The semantics follow the plugin SDK's
`schemaMap.validate` (vendor/github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema/schema.go).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.checks.provider_rules import AZAPI_TABLE, DEFAULT_TABLE, KNOWN_VIOLATIONS, REPO_ROOT
from tools.checks.provider_rules.azapi_check import check_stack, load_azapi_table
from tools.checks.provider_rules.custom_validators import validator_for

GROUP_KINDS = ("exactly_one_of", "at_least_one_of")


@dataclass(frozen=True)
class Violation:
    stack: str
    address: str  # resource type.unique id, as in cdk.tf.json
    construct_path: str
    argument: str
    kind: str
    value: Any
    message: str
    source: str  # the provider file:line that states the rule

    @property
    def key(self) -> str:
        return f"{self.stack} {self.address} {self.argument} {self.kind}"

    def describe(self, python_file: str | None = None) -> str:
        built_by = f" ({python_file})" if python_file else ""
        setting = self.argument if self.kind in GROUP_KINDS else f"{self.argument} = {json.dumps(self.value)}"
        return (f"{self.stack}: {self.address}\n  construct {self.construct_path}{built_by}\n"
                f"  {setting}: {self.message}\n  provider: {self.source}")


def is_reference(value: Any) -> bool:
    """Wholly or partly unknown until apply: any `${...}` inside."""
    return "${" in json.dumps(value)


def present(value: Any) -> bool:
    return value is not None and value != []


def resolve(body: Any, key: str) -> Any:
    """The value at an SDK key such as `network_rules.0.default_action` (a one-item block is an object)."""
    current = body
    for segment in key.split("."):
        if segment.isdigit():
            items = current if isinstance(current, list) else [current] if isinstance(current, dict) else []
            current = items[int(segment)] if int(segment) < len(items) else None
        elif isinstance(current, dict):
            current = current.get(segment)
        else:
            return None
    return current


def instances(body: dict[str, Any], path: str) -> Iterator[tuple[str, Any]]:
    """(concrete argument path, value) for each place a rule path occurs; `a.b` visits every `a` block."""
    def walk(node: Any, segments: list[str], shown: str) -> Iterator[tuple[str, Any]]:
        if not segments:
            yield shown, node
            return
        if isinstance(node, list):
            for i, item in enumerate(node):
                yield from walk(item, segments, f"{shown}[{i}]")
            return
        if isinstance(node, dict) and segments[0] in node:
            child = node[segments[0]]
            yield from walk(child, segments[1:], f"{shown}.{segments[0]}" if shown else segments[0])

    yield from walk(body, path.split("."), "")


def _value_problem(rule: dict[str, Any], value: Any) -> str | None:
    check = _VALUE_CHECKS.get(rule["kind"])
    return check(rule, value) if check is not None else None


def _any_of_problem(rule: dict[str, Any], value: Any) -> str | None:
    problems = [_value_problem(alt, value) for alternative in rule["alternatives"] for alt in alternative]
    return None if any(p is None for p in problems) else "matches none of: " + "; ".join(filter(None, problems))


def _string_in_slice_problem(rule: dict[str, Any], value: Any) -> str | None:
    allowed = rule["values"]
    ok = isinstance(value, str) and (
        value in allowed or (rule["ignore_case"] and value.casefold() in {v.casefold() for v in allowed}))
    case = "any case" if rule["ignore_case"] else "case-sensitive"
    return None if ok else f"must be one of {', '.join(allowed)} ({case})"


def _float_between_problem(rule: dict[str, Any], value: Any) -> str | None:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else _as_float(value)
    return _range_problem(number, rule, "a number")


def _string_len_problem(rule: dict[str, Any], value: Any) -> str | None:
    length = len(value.encode()) if isinstance(value, str) else -1
    ok = rule["min"] <= length <= rule["max"]
    return None if ok else f"length must be in [{rule['min']}, {rule['max']}]"


def _string_match_problem(rule: dict[str, Any], value: Any) -> str | None:
    try:
        pattern = re.compile(rule["pattern"])
    except re.error:
        return None  # an RE2-only pattern: not checked rather than guessed
    return None if isinstance(value, str) and pattern.search(value) else f"must match {rule['pattern']}"


def _custom_validator_problem(rule: dict[str, Any], value: Any) -> str | None:
    translated = validator_for(rule)
    if translated is None:
        return None
    check, source = translated
    problem = check(value)
    return None if problem is None else f"{problem} (custom validator {rule['detail']}, translated from {source})"


# The value check of each rule kind; a kind without one (the combinations, unresolved) checks no single value.
_VALUE_CHECKS: dict[str, Callable[[dict[str, Any], Any], str | None]] = {
    "any_of": _any_of_problem,
    "string_in_slice": _string_in_slice_problem,
    "int_between": lambda rule, value: _range_problem(_as_int(value), rule, "an integer"),
    "float_between": _float_between_problem,
    "int_in_slice": lambda rule, value: (
        None if _as_int(value) in rule["values"] else f"must be one of {', '.join(map(str, rule['values']))}"),
    "string_len_between": _string_len_problem,
    "string_not_empty": lambda _, value: None if isinstance(value, str) and value != "" else "must not be empty",
    "string_not_whitespace": lambda _, value: (
        None if isinstance(value, str) and value.strip() != "" else "must not be empty or whitespace"),
    "string_match": _string_match_problem,
    "not_checked": _custom_validator_problem,
}


def _range_problem(number: float | None, rule: dict[str, Any], noun: str) -> str | None:
    low, high = rule["min"], rule["max"]
    if number is not None and (low is None or number >= low) and (high is None or number <= high):
        return None
    return f"must be {noun} in [{'-inf' if low is None else low}, {'inf' if high is None else high}]"


def _as_float(value: Any) -> float | None:
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def _parent_present(body: dict[str, Any], path: str) -> bool:
    parent = path.rpartition(".")[0]
    return not parent or any(present(v) for _, v in instances(body, parent))


def _combination_problem(rule: dict[str, Any], body: dict[str, Any], value: Any) -> str | None:
    kind, keys = rule["kind"], rule["keys"]
    if kind == "conflicts_with":
        if not present(value) or is_reference(value):
            return None
        clashing = [k for k in keys if present(resolve(body, k)) and not _unknown(resolve(body, k))]
        return f"conflicts with {', '.join(clashing)}" if clashing else None
    if kind == "required_with":
        missing = [k for k in keys if not present(resolve(body, k))]
        return f"requires {', '.join(missing)} to be set too" if present(value) and missing else None
    return None


def _group_problem(rule: dict[str, Any], body: dict[str, Any]) -> str | None:
    """exactly_one_of / at_least_one_of over absolute keys, the attribute's own included; a reference is unknown."""
    keys = _group_keys(rule)
    set_keys = [k for k in keys if present(resolve(body, k)) and not _unknown(resolve(body, k))]
    unknown = [k for k in keys if _unknown(resolve(body, k))]
    if rule["kind"] == "exactly_one_of":
        if len(set_keys) > 1:
            return f"only one of {', '.join(keys)} may be set, found {', '.join(set_keys)}"
        if not set_keys and not unknown:
            return f"exactly one of {', '.join(keys)} must be set"
    if rule["kind"] == "at_least_one_of" and not set_keys and not unknown:
        return f"at least one of {', '.join(keys)} must be set"
    return None


def _group_keys(rule: dict[str, Any]) -> list[str]:
    """The SDK adds the attribute's own key (`block.0.name` inside a block) to the keys it lists."""
    return sorted({*rule["keys"], ".0.".join(rule["path"].split("."))})


def _unknown(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("${") and value.endswith("}")


def check_resource(stack: str, tf_type: str, unique_id: str, body: dict[str, Any],
                   rules: list[dict[str, Any]]) -> list[Violation]:
    construct_path = body.get("//", {}).get("metadata", {}).get("path", "")
    found: list[Violation] = []
    seen_groups: set[str] = set()

    def add(argument: str, rule: dict[str, Any], value: Any, message: str) -> None:
        found.append(Violation(stack, f"{tf_type}.{unique_id}", construct_path, argument, rule["kind"], value,
                               message, rule["source"]))

    for rule in rules:
        kind = rule["kind"]
        if kind in GROUP_KINDS:
            group = f"{kind} {' '.join(_group_keys(rule))}"
            if group not in seen_groups and _parent_present(body, rule["path"]):
                seen_groups.add(group)
                if (problem := _group_problem(rule, body)) is not None:
                    add(rule["path"], rule, None, problem)
            continue
        for argument, value in instances(body, rule["path"]):
            for item, problem in _instance_problems(rule, body, value):
                add(argument, rule, item, problem)
    return found


def _instance_problems(rule: dict[str, Any], body: dict[str, Any], value: Any) -> list[tuple[Any, str]]:
    """(offending value, problem) for one instance of the rule's argument (each element, for element rules);
    a reference is known only at apply time and is not checked."""
    if rule["kind"] in ("conflicts_with", "required_with"):
        problem = _combination_problem(rule, body, value)
        return [] if problem is None else [(value, problem)]
    values = value if rule.get("element") and isinstance(value, list) else (
        list(value.values()) if rule.get("element") and isinstance(value, dict) else [value])
    found = []
    for item in values:
        if item is None or is_reference(item):
            continue
        if (problem := _value_problem(rule, item)) is not None:
            found.append((item, problem))
    return found


@dataclass
class Outcome:
    violations: list[Violation] = field(default_factory=list)
    uncovered: list[str] = field(default_factory=list)  # azurerm types in the synth but not in the table
    resources_checked: int = 0


def check_outdir(outdir: Path, table: dict[str, Any]) -> Outcome:
    outcome = Outcome()
    uncovered: set[str] = set()
    for stack_file in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        stack = stack_file.parent.name
        document = json.loads(stack_file.read_text(encoding="utf-8"))
        for tf_type, blocks in sorted(document.get("resource", {}).items()):
            if not tf_type.startswith("azurerm_"):
                continue
            if tf_type not in table["resources"]:
                uncovered.add(tf_type)
                continue
            rules = table["resources"][tf_type]["rules"]
            for unique_id, body in sorted(blocks.items()):
                outcome.resources_checked += 1
                outcome.violations += check_resource(stack, tf_type, unique_id, body, rules)
    outcome.uncovered = sorted(uncovered)
    return outcome


def load_table(path: Path = DEFAULT_TABLE) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def load_known(path: Path = KNOWN_VIOLATIONS) -> set[str]:
    """Violation keys accepted until their fix lands: `stack type.id argument kind` per line, # comments."""
    if not path.is_file():
        return set()
    lines = (line.split("#", 1)[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return {" ".join(line.split()) for line in lines if line}


def report(outcome: Outcome, known: set[str], python_file: Any = None) -> tuple[list[str], list[str]]:
    """(problems, notes): new violations, stale allow-list entries and uncovered types are problems."""
    problems: list[str] = []
    notes: list[str] = []
    keys = {v.key for v in outcome.violations}
    for violation in outcome.violations:
        text = violation.describe(python_file(violation.construct_path) if python_file else None)
        (notes if violation.key in known else problems).append(
            ("known, listed in known-violations.txt: " if violation.key in known else "") + text)
    problems += [f"known-violations.txt lists `{k}`, which no longer occurs: remove the line"
                 for k in sorted(known - keys)]
    problems += [f"{t} is not in the rules table: run `make provider-rules`" for t in outcome.uncovered]
    return problems, notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", type=Path, default=REPO_ROOT / "cdktf.out")
    parser.add_argument("--table", type=Path, default=DEFAULT_TABLE)
    parser.add_argument("--known", type=Path, default=KNOWN_VIOLATIONS, help="allow-list of known violations")
    parser.add_argument("--azapi-table", type=Path, default=AZAPI_TABLE, help="azapi resource types table")
    parser.add_argument("--no-synth", action="store_true", help="check cdktf.out/ as it is")
    args = parser.parse_args(argv)
    if not args.no_synth:
        from tools.checks.scan.freshness import ensure_synth

        ensure_synth(args.outdir)
    table = load_table(args.table)
    outcome = check_outdir(args.outdir, table)
    python_file = None
    if outcome.violations:
        from tools.checks.scan.sources import file_for, source_map

        mapping = source_map(args.outdir)
        python_file = lambda path: file_for(mapping, path)  # noqa: E731
    problems, notes = report(outcome, load_known(args.known), python_file)
    for line in notes + problems:
        print(line, file=sys.stderr if line in problems else sys.stdout)
    print(f"provider rules ({table['tag']}): {outcome.resources_checked} resources checked, "
          f"{len(problems)} problem(s), {len(notes)} known violation(s)")
    body_problems = check_azapi_bodies(args.outdir, args.azapi_table)
    return 1 if problems or body_problems else 0


def check_azapi_bodies(outdir: Path, table_path: Path) -> list[str]:
    """The azapi bodies against Azure's resource types (azapi_check.py); prints and returns the problems."""
    table = load_azapi_table(table_path)
    problems, checked = [], 0
    for stack_file in sorted(outdir.glob("stacks/*/cdk.tf.json")):
        found, count = check_stack(stack_file.parent.name, json.loads(stack_file.read_text(encoding="utf-8")), table)
        problems += found
        checked += count
    lines = []
    if problems:
        from tools.checks.scan.sources import file_for, source_map

        mapping = source_map(outdir)
        lines = [problem.describe(file_for(mapping, problem.construct_path)) for problem in problems]
    for line in lines:
        print(line, file=sys.stderr)
    print(f"azapi bodies (Azure resource types at {table['commit'][:12]}): {checked} bodies checked, "
          f"{len(lines)} problem(s)")
    return lines


if __name__ == "__main__":
    sys.exit(main())
