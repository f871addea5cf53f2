"""The design reads top-down: deployed code never reaches back into the tools around it, and no two top-level
packages (or two modules) import each other, directly or round a longer loop. Read from the source with ast,
so a new import that breaks the layering fails here, not in a package that cannot import on App Service."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("contract", "stacks", "runtime", "app", "functions", "ml", "policies", "tools", "benchmarks")
# What runs in Azure (the web app, the function app, the scoring code they and Azure ML run): none of it may
# import the repository's tools, benchmarks, tests or infrastructure code.
DEPLOYED = ("contract", "runtime", "app", "functions", "ml")
DEV_ONLY = ("tools", "benchmarks", "tests", "stacks")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "__pycache__" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


MODULES = _modules()


def _imports(module: str, path: Path) -> Iterator[str]:
    """Every module (of this repository) that `module` imports, wherever in the file the import is."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([base] if base else [])])
            names = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for name in names:
            while name and name not in MODULES:
                name = name.rpartition(".")[0]
            if name and name != module:
                yield name


GRAPH = {module: set(_imports(module, path)) for module, path in MODULES.items()}


def _top(module: str) -> str:
    return module.split(".")[0]


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop in the graph, as the path round it, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)):
            return found
    return None


def test_deployed_code_never_imports_tools_benchmarks_tests_or_stacks() -> None:
    reaching_back = sorted(f"{module} imports {target}" for module, targets in GRAPH.items()
                           if _top(module) in DEPLOYED for target in targets if _top(target) in DEV_ONLY)
    assert reaching_back == []


def test_top_level_packages_form_no_import_cycle() -> None:
    packages: dict[str, set[str]] = {}
    for module, targets in GRAPH.items():
        packages.setdefault(_top(module), set()).update(_top(t) for t in targets if _top(t) != _top(module))
    assert _cycle(packages) is None


def test_no_two_modules_import_each_other_round_a_loop() -> None:
    assert _cycle(GRAPH) is None


def test_the_cycle_finder_finds_a_loop() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
