"""Where a synthesized resource comes from: its construct path and the Python file that defines it.

The construct path is in each resource's "//" metadata. The Python file is found by rebuilding the
construct tree (no synthesis, ~1 s) and taking, for each resource, the nearest enclosing construct whose
class lives in this repository: the module that owns the setting a developer must change. The map is
cached next to the synthesized output, which a new synth replaces wholesale.
"""

from __future__ import annotations

import inspect
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from tools.checks.scan import REPO_ROOT
from tools.synth_output import SynthStack

SOURCES_FILE = "construct-sources.json"


def construct_metadata(stacks: dict[str, SynthStack]) -> dict[tuple[str, str], str]:
    """(stack, unique id) -> construct path, for every resource and data source of every stack."""
    paths: dict[tuple[str, str], str] = {}
    for name in sorted(stacks):
        document = stacks[name].config
        for section in ("resource", "data"):
            for blocks in document.get(section, {}).values():
                for unique_id, body in blocks.items():
                    meta = body.get("//", {}).get("metadata", {}) if isinstance(body, dict) else {}
                    if "path" in meta:
                        paths[(name, unique_id)] = meta["path"]
    return paths


def _defining_file(scopes: Iterable[object]) -> str | None:
    """The repo file of the innermost construct (in `scopes`, root first) whose class this repo defines."""
    for scope in reversed(list(scopes)):
        module = type(scope).__module__
        if module.split(".")[0] in {"stacks", "tests"}:
            source = inspect.getsourcefile(type(scope))
            if source:
                return os.path.relpath(source, REPO_ROOT)
    return None


def build_source_map(environments: list[str] | None = None) -> dict[str, str]:
    """Construct path -> Python file, for every construct of every environment's stacks."""
    from cdktn import App

    from stacks.config import load_environments
    from stacks.main import build_environment

    with tempfile.TemporaryDirectory(prefix="scan-tree-") as scratch:
        app = App(outdir=scratch, stack_traces=False)
        for config in load_environments(environments):
            build_environment(app, config)
        mapping: dict[str, str] = {}
        for node in app.node.find_all():
            source = _defining_file(node.node.scopes)
            if source:
                mapping[node.node.path] = source
    return mapping


def source_map(outdir: Path, environments: list[str] | None = None) -> dict[str, str]:
    """The cached map for this synth output, building it on first use."""
    cache = outdir / SOURCES_FILE
    if cache.is_file():
        loaded: dict[str, str] = json.loads(cache.read_text(encoding="utf-8"))
        return loaded
    mapping = build_source_map(environments)
    cache.write_text(json.dumps(mapping, indent=0, sort_keys=True), encoding="utf-8")
    return mapping


def file_for(mapping: dict[str, str], construct_path: str) -> str:
    """The file for a path, falling back to the nearest mapped ancestor (e.g. a stack's own file)."""
    parts = construct_path.split("/")
    while parts:
        found = mapping.get("/".join(parts))
        if found:
            return found
        parts.pop()
    return "(unknown)"
