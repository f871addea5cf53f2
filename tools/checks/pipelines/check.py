"""`make pipelines-check`: every pipeline and template in pipelines/ is one Azure DevOps can run.

- validates against Microsoft's Azure Pipelines schema (pipelines/schema/, MIT), task inputs included;
- every `template:` reference resolves to a file (with `${{ parameters.environment }}` expanded);
- every `make` target and script a step calls exists in the repo;
- every `$(variable)` is predefined by Azure Pipelines, set in a variable template, or documented;
- the variable templates name exactly the environments in stacks/environments/.

YAML is read with every scalar as a string, as the schema expects (it describes `true` as the string "true").
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from stacks.config import environment_names

ROOT = Path(__file__).resolve().parents[3]
PIPELINES = ROOT / "pipelines"
SCHEMA = PIPELINES / "schema" / "service-schema.json"
VARIABLE_TEMPLATES = PIPELINES / "templates" / "variables"
DOCS = ROOT / "docs" / "deploy.md"  # its "Run it in Azure DevOps" section
PREDEFINED_PREFIXES = ("Agent.", "Build.", "Pipeline.", "System.", "Environment.", "Release.", "Strategy.")
_MAKE_CALL = re.compile(r"(?:^|[\s;&|(])make\s+([a-z][a-z0-9-]*)")
_SCRIPT_CALL = re.compile(r"(?:^|\s)(?:bash|sh)\s+([\w./-]+\.sh)")
_MACRO = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.]*)\)")
_COMPILE_VARIABLE = re.compile(r"\$\{\{\s*variables\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_TARGET_LINE = re.compile(r"^([a-z][a-z0-9-]*)\s*:(?!=)", re.MULTILINE)


def pipeline_files() -> list[Path]:
    return sorted(p for p in PIPELINES.rglob("*.yml") if "schema" not in p.relative_to(PIPELINES).parts)


def load(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.BaseLoader)  # noqa: S506 - strings only


def _compile_time(value: Any) -> bool:
    """A whole `${{ ... }}` value: Azure DevOps resolves it (to its declared type) before validation."""
    return isinstance(value, str) and re.fullmatch(r"\$\{\{.*\}\}", value.strip(), re.DOTALL) is not None


def _is_bool(_: Any, value: Any) -> bool:
    return (isinstance(value, bool) or (isinstance(value, str) and value.lower() in ("true", "false"))
            or _compile_time(value))


def _is_number(_: Any, value: Any) -> bool:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return True
    return isinstance(value, str) and (re.fullmatch(r"-?\d+(\.\d+)?", value) is not None or _compile_time(value))


@cache
def validator() -> jsonschema.protocols.Validator:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    # Without "$schema", references resolve with this validator class (and its string booleans), not Draft 7's.
    schema.pop("$schema", None)
    checker = jsonschema.Draft7Validator.TYPE_CHECKER.redefine_many(
        {"boolean": _is_bool, "number": _is_number, "integer": _is_number}
    )
    kind = jsonschema.validators.extend(jsonschema.Draft7Validator, type_checker=checker)
    return kind(schema)


@cache
def _task_schemas() -> dict[str, dict[str, Any]]:
    """Task name (e.g. 'AzureCLI@2') -> the schema of that task's step, inputs included."""
    schemas = {}
    for option in validator().schema["definitions"]["task"]["anyOf"]:
        pattern = option.get("properties", {}).get("task", {}).get("pattern", "")
        match = re.fullmatch(r"\^(.+)\$", pattern)
        if match:
            schemas[match.group(1).replace("\\", "")] = option
    return schemas


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def template_kind(document: Any) -> str | None:
    """'stages', 'jobs', 'steps' or 'variables' for a template file (its one content key), else None."""
    if isinstance(document, dict) and "trigger" not in document and "pr" not in document:
        kinds = [k for k in ("stages", "jobs", "steps", "variables") if k in document]
        if len(kinds) == 1 and set(document) <= {kinds[0], "parameters"}:
            return kinds[0]
    return None


def schema_errors(document: Any, is_template: bool = False) -> list[str]:
    """Pipelines against the whole schema; templates against the schema's <kind>Template definition."""
    problems = []
    check = validator()
    kind = template_kind(document) if is_template else None
    if is_template and kind is None:
        return ["template must hold exactly one of stages, jobs, steps, variables (plus parameters)"]
    if kind is not None:
        check = check.evolve(schema={**check.schema, "$ref": f"#/definitions/{kind}Template"})
    best = jsonschema.exceptions.best_match(check.iter_errors(document))
    if best is not None:
        where = "/".join(str(p) for p in best.absolute_path) or "(top)"
        problems.append(f"{where}: {best.message[:300]}")
    for node in walk(document):
        if isinstance(node, dict) and isinstance(node.get("task"), str):
            task_schema = _task_schemas().get(node["task"])
            if task_schema is None:
                problems.append(f"task {node['task']}: not a task the schema knows")
                continue
            for error in validator().evolve(schema=task_schema).iter_errors(node):
                problems.append(f"task {node['task']}: {error.message[:300]}")
    return problems


def template_references(path: Path, document: Any) -> list[tuple[str, Path]]:
    """(reference, resolved file) for every `template:`; a `${{ parameters.x }}` placeholder expands to each
    value x may take: each environment for `environment`, else the values the file declares for x."""
    declared = {p["name"]: p.get("values", []) for p in (document.get("parameters") or [])
                if isinstance(document, dict) and isinstance(p, dict) and "name" in p}
    found = []
    for node in walk(document):
        if isinstance(node, dict) and isinstance(node.get("template"), str):
            references = [node["template"]]
            while any("${{" in r for r in references):
                reference = next(r for r in references if "${{" in r)
                match = re.search(r"\$\{\{\s*parameters\.(\w+)\s*\}\}", reference)
                if match is None:
                    break
                name = match.group(1)
                values = environment_names() if name == "environment" else declared.get(name) or [""]
                references.remove(reference)
                references += [reference.replace(match.group(0), value) for value in values]
            found += [(r, (path.parent / r).resolve()) for r in references]
    return found


def commands(document: Any) -> list[str]:
    """Every command line a step runs: `script:` bodies and the `command` given to the azure-make template."""
    lines = []
    for node in walk(document):
        if isinstance(node, dict):
            for key in ("script", "bash", "command", "arguments", "inlineScript"):
                if isinstance(node.get(key), str):
                    lines.append(node[key])
            if isinstance(node.get("scriptPath"), str):
                lines.append(f"bash {node['scriptPath']}")
    return lines


def make_targets_called(document: Any) -> set[str]:
    return {target for line in commands(document) for target in _MAKE_CALL.findall(line)}


def scripts_called(document: Any) -> set[str]:
    return {script for line in commands(document) for script in _SCRIPT_CALL.findall(line)}


def defined_make_targets() -> set[str]:
    makefiles = [ROOT / "Makefile", *sorted((ROOT / "make").glob("*.mk"))]
    return {t for f in makefiles for t in _TARGET_LINE.findall(f.read_text(encoding="utf-8"))}


def variables_used(document: Any) -> set[str]:
    text = json.dumps(document)
    return set(_MACRO.findall(text)) | set(_COMPILE_VARIABLE.findall(text))


def template_variables() -> dict[str, dict[str, str]]:
    """Variable template file stem -> its variables."""
    result = {}
    for path in sorted(VARIABLE_TEMPLATES.glob("*.yml")):
        variables = load(path).get("variables", {})
        if isinstance(variables, list):
            variables = {v["name"]: v.get("value", "") for v in variables if isinstance(v, dict) and "name" in v}
        result[path.stem] = dict(variables)
    return result


def documented_variables() -> set[str]:
    """Pipeline variables documented in the README (a table row starting with `name`)."""
    if not DOCS.is_file():
        return set()
    return set(re.findall(r"^\|\s*`([A-Za-z_][A-Za-z0-9_.]*)`", DOCS.read_text(encoding="utf-8"), re.MULTILINE))


def environment_problems() -> list[str]:
    per_env = {stem: v for stem, v in template_variables().items() if stem != "common"}
    problems = []
    if sorted(per_env) != environment_names():
        problems.append(f"variable templates {sorted(per_env)} != stacks environments {environment_names()}")
    names = [set(v) for v in per_env.values()]
    if names and any(n != names[0] for n in names):
        problems.append("every environment's variable template must define the same variable names")
    for stem, variables in per_env.items():
        if variables.get("environmentName") != stem:
            problems.append(f"variables/{stem}.yml: environmentName is {variables.get('environmentName')!r}")
    return problems


def problems_in(path: Path) -> list[str]:
    document = load(path)
    known = {name for v in template_variables().values() for name in v} | documented_variables()
    problems = schema_errors(document, is_template="templates" in path.relative_to(PIPELINES).parts)
    for reference, resolved in template_references(path, document):
        if not resolved.is_file():
            problems.append(f"template {reference} does not resolve to a file")
    for target in sorted(make_targets_called(document) - defined_make_targets()):
        problems.append(f"calls `make {target}`, which no Makefile defines")
    for script in sorted(scripts_called(document)):
        if not (ROOT / script).is_file():
            problems.append(f"calls {script}, which does not exist")
    for name in sorted(variables_used(document)):
        if not name.startswith(PREDEFINED_PREFIXES) and name not in known:
            problems.append(f"uses variable {name}, defined in no variable template and not documented")
    return [f"{path.relative_to(ROOT)}: {p}" for p in problems]


def main() -> int:
    problems = environment_problems()
    files = pipeline_files()
    for path in files:
        problems.extend(problems_in(path))
    for problem in problems:
        print(problem)
    print(f"{len(files)} pipeline files checked: " + ("OK" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
