"""Expand a pipeline the way Azure DevOps compiles it: templates inlined, `${{ }}` resolved per environment.

Covers the template language this repository uses: `template:` references (stages, jobs, steps,
variables) with parameters, `${{ parameters.x }}` / `${{ variables.x }}` inside strings, and
`${{ if <expr> }}` / `${{ else }}` keys with eq, ne, in, and, or, not. Runtime conditions and `$(macros)`
are left as they are. The result lists stages -> jobs -> steps in order, which the dry run walks and the
tests read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.checks.pipelines.check import PIPELINES, load

_WHOLE = re.compile(r"^\$\{\{\s*(.+?)\s*\}\}$")
_INNER = re.compile(r"\$\{\{\s*(.+?)\s*\}\}")
_IF = re.compile(r"^\$\{\{\s*if\s+(.+?)\s*\}\}$")
_ELSE = re.compile(r"^\$\{\{\s*else\s*\}\}$")


class ExpandError(Exception):
    pass


@dataclass
class Job:
    name: str
    kind: str  # "job" | "deployment"
    definition: dict[str, Any]
    steps: list[dict[str, Any]]
    variables: dict[str, str]
    environment: str | None = None


@dataclass
class Stage:
    name: str
    definition: dict[str, Any]
    jobs: list[Job] = field(default_factory=list)


@dataclass
class Pipeline:
    name: str
    definition: dict[str, Any]
    stages: list[Stage]
    variables: dict[str, str]


def evaluate(expression: str, scope: dict[str, Any]) -> Any:
    """A compile-time expression: literals, parameters.x, variables.x and a few functions."""
    expression = expression.strip()
    if expression.startswith("'") and expression.endswith("'"):
        return expression[1:-1]
    if expression in ("true", "false"):
        return expression == "true"
    if re.fullmatch(r"-?\d+", expression):
        return int(expression)
    if match := re.fullmatch(r"(parameters|variables)\.([A-Za-z_][A-Za-z0-9_]*)", expression):
        kind, name = match.groups()
        values = scope[kind]
        if name not in values:
            raise ExpandError(f"{kind}.{name} is not defined here")
        return values[name]
    if match := re.fullmatch(r"([a-zA-Z]+)\((.*)\)", expression, re.DOTALL):
        function, inner = match.groups()
        args = [evaluate(arg, scope) for arg in _split_arguments(inner)]
        as_text = [str(a).lower() if isinstance(a, bool) else str(a) for a in args]
        functions = {
            "eq": lambda: as_text[0].lower() == as_text[1].lower(),
            "ne": lambda: as_text[0].lower() != as_text[1].lower(),
            "in": lambda: as_text[0].lower() in [a.lower() for a in as_text[1:]],
            "and": lambda: all(_truthy(a) for a in args),
            "or": lambda: any(_truthy(a) for a in args),
            "not": lambda: not _truthy(args[0]),
        }
        if function not in functions:
            raise ExpandError(f"compile-time function {function}() is not supported by the expander")
        return functions[function]()
    raise ExpandError(f"cannot evaluate ${{{{ {expression} }}}}")


def _truthy(value: Any) -> bool:
    return value.lower() not in ("", "false", "0") if isinstance(value, str) else bool(value)


def _split_arguments(text: str) -> list[str]:
    args, depth, quoted, current = [], 0, False, ""
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
        if char == "," and depth == 0 and not quoted:
            args.append(current)
            current = ""
        else:
            current += char
    if current.strip():
        args.append(current)
    return args


def resolve(node: Any, scope: dict[str, Any]) -> Any:
    """Substitute `${{ }}` in strings and apply if/else keys; lists and mappings recursively."""
    if isinstance(node, str):
        if (match := _WHOLE.match(node)) and not node.startswith("${{ if") and not _ELSE.match(node):
            return evaluate(match.group(1), scope)
        return _INNER.sub(lambda m: _text(evaluate(m.group(1), scope)), node)
    if isinstance(node, list):
        return [resolve(item, scope) for item in node]
    if isinstance(node, dict):
        return _resolve_mapping(node, scope)
    return node


def _resolve_mapping(node: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """A mapping's keys and values resolved; an `${{ if }}` key (and the `${{ else }}` after it) merges its
    mapping in when taken."""
    result: dict[str, Any] = {}
    taken: bool | None = None
    for key, value in node.items():
        if match := _IF.match(key):
            taken = _truthy(evaluate(match.group(1), scope))
            if taken:
                result.update(resolve(value, scope))
        elif _ELSE.match(key):
            if taken is None:
                raise ExpandError("${{ else }} without ${{ if }}")
            if not taken:
                result.update(resolve(value, scope))
            taken = None
        else:
            result[resolve(key, scope)] = resolve(value, scope)
    return result


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _parameters(declared: Any, given: dict[str, Any]) -> dict[str, Any]:
    values = {}
    for spec in declared or []:
        name = spec["name"]
        if name in given:
            values[name] = given[name]
        elif "default" in spec:
            values[name] = spec["default"]
        else:
            raise ExpandError(f"parameter {name} is required")
        allowed = spec.get("values")
        if allowed and str(values[name]) not in [str(v) for v in allowed]:
            raise ExpandError(f"parameter {name}={values[name]!r} is not one of {allowed}")
    return values


def _variables(entries: Any, base: Path, scope: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    if isinstance(entries, dict):
        return {k: str(v) for k, v in entries.items()}
    for entry in entries or []:
        if "template" in entry:
            path = (base / resolve(entry["template"], scope)).resolve()
            found.update(_variables(load(path).get("variables", {}), path.parent, scope))
        elif "name" in entry:
            found[entry["name"]] = str(entry.get("value", ""))
    return found


def _inline(items: list[Any], kind: str, base: Path, scope: dict[str, Any]) -> list[tuple[Any, Path, dict[str, Any]]]:
    """(item, folder it came from, scope it resolves in) for a list that may hold `template:` entries and
    conditional insertions (`- ${{ if <expr> }}:` followed by a list, optionally `- ${{ else }}:`)."""
    result = []
    taken: bool | None = None
    for item in items or []:
        key = next(iter(item)) if isinstance(item, dict) and len(item) == 1 else None
        if isinstance(key, str) and (match := _IF.match(key)):
            taken = _truthy(evaluate(match.group(1), scope))
            if taken:
                result.extend(_inline(item[key], kind, base, scope))
            continue
        if isinstance(key, str) and _ELSE.match(key):
            if taken is None:
                raise ExpandError("${{ else }} without ${{ if }}")
            if not taken:
                result.extend(_inline(item[key], kind, base, scope))
            taken = None
            continue
        taken = None
        if isinstance(item, dict) and "template" in item and len(set(item) - {"template", "parameters"}) == 0:
            path = (base / resolve(item["template"], scope)).resolve()
            document = load(path)
            given = resolve(item.get("parameters", {}), scope)
            inner = {"parameters": _parameters(document.get("parameters"), given), "variables": scope["variables"]}
            result.extend(_inline(document.get(kind, []), kind, path.parent, inner))
        else:
            result.append((item, base, scope))
    return result


def expand(pipeline: Path, parameters: dict[str, Any] | None = None) -> Pipeline:
    document = load(pipeline)
    scope: dict[str, Any] = {"parameters": _parameters(document.get("parameters"), parameters or {}), "variables": {}}
    scope["variables"] = _variables(document.get("variables"), pipeline.parent, scope)
    stages_source = document.get("stages") or [{"stage": "default", "jobs": document.get("jobs", [])}]
    stages = []
    for item, base, stage_scope in _inline(stages_source, "stages", pipeline.parent, scope):
        variables = {**stage_scope["variables"], **_variables(item.get("variables"), base, stage_scope)}
        inner = {"parameters": stage_scope["parameters"], "variables": variables}
        header = resolve({k: v for k, v in item.items() if k != "jobs"}, inner)
        stage = Stage(str(resolve(item["stage"], inner)), header)
        for job_item, job_base, job_scope in _inline(item.get("jobs", []), "jobs", base, inner):
            stage.jobs.append(_job(job_item, job_base, job_scope, pipeline, document))
        stages.append(stage)
    return Pipeline(pipeline.stem, document, stages, scope["variables"])


def _job(item: dict[str, Any], base: Path, scope: dict[str, Any], pipeline: Path, document: dict[str, Any]) -> Job:
    kind = "deployment" if "deployment" in item else "job"
    steps_source = item["strategy"]["runOnce"]["deploy"]["steps"] if kind == "deployment" else item.get("steps", [])
    steps = [resolve(step, step_scope) for step, _, step_scope in _inline(steps_source, "steps", base, scope)]
    definition = resolve({k: v for k, v in item.items() if k not in ("steps", "strategy")}, scope)
    definition.setdefault("pool", resolve(document.get("pool"), scope))
    environment = definition.get("environment") if kind == "deployment" else None
    return Job(str(definition[kind]), kind, definition, steps, dict(scope["variables"]), environment)


def pipeline_paths() -> list[Path]:
    return sorted(p for p in PIPELINES.glob("*.yml"))
