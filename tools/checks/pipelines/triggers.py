"""FAKE Azure DevOps trigger evaluation: which pipelines a push or a finished run starts.

Rules, as Azure Pipelines documents them:
- CI trigger (learn.microsoft.com/azure/devops/pipelines/repos/azure-repos-git#ci-triggers): a push to an
  included branch starts the pipeline when a changed file matches an included path (a folder includes
  everything under it; `*` and `?` are wildcards); `trigger: none` never starts it.
- Pipeline completion trigger (learn.microsoft.com/azure/devops/pipelines/process/pipeline-triggers and
  yaml-schema/resources-pipelines-pipeline-trigger): a successful run of the pipeline named in `source`
  starts this one when its branch is included and it carries every tag listed under `trigger.tags`.
- Manual runs are always possible; each parameter needs a default for a run started by a trigger.
"""

from __future__ import annotations

import fnmatch
import subprocess
from pathlib import Path
from typing import Any

from tools.checks.pipelines.check import PIPELINES, load

# The names the pipelines get when imported into Azure DevOps (docs/deploy.md, "Import the pipelines"):
# `source:` in a pipeline resource refers to these.
PIPELINE_NAMES = {
    "pr-validation": "carprice-pr-validation",
    "infrastructure": "carprice-infrastructure",
    "ml": "carprice-ml",
    "app": "carprice-app",
}


def _definitions() -> dict[str, Any]:
    return {stem: load(PIPELINES / f"{stem}.yml") for stem in PIPELINE_NAMES}


def _path_matches(path: str, pattern: str) -> bool:
    pattern = pattern.rstrip("/")
    if any(char in pattern for char in "*?"):
        return fnmatch.fnmatch(path, pattern) or fnmatch.fnmatch(path, pattern + "/*")
    return path == pattern or path.startswith(pattern + "/")


def _branch_included(filters: Any, branch: str) -> bool:
    if not isinstance(filters, dict):
        return True
    included = filters.get("include", ["*"])
    excluded = filters.get("exclude", [])
    return any(fnmatch.fnmatch(branch, b) for b in included) and not any(fnmatch.fnmatch(branch, b) for b in excluded)


def started_by_push(changed: list[str], branch: str = "main") -> list[str]:
    """Pipelines (file stems) a push of `changed` files to `branch` starts."""
    started = []
    for stem, definition in _definitions().items():
        trigger = definition.get("trigger")
        if trigger in (None, "none") or not isinstance(trigger, dict):
            continue
        if not _branch_included(trigger.get("branches"), branch):
            continue
        paths = trigger.get("paths", {})
        included = paths.get("include", ["*"])
        excluded = paths.get("exclude", [])
        if any(any(_path_matches(p, i) for i in included) and not any(_path_matches(p, e) for e in excluded)
               for p in changed):
            started.append(stem)
    return started


def started_by_completion(finished: str, tags: set[str], branch: str = "main") -> list[str]:
    """Pipelines (file stems) that a successful run of `finished` (a file stem) with `tags` starts."""
    started = []
    for stem, definition in _definitions().items():
        for resource in (definition.get("resources") or {}).get("pipelines", []):
            if resource.get("source") != PIPELINE_NAMES[finished]:
                continue
            trigger = resource.get("trigger", "none")
            if trigger in ("none", "false"):
                continue
            settings = trigger if isinstance(trigger, dict) else {}
            if _branch_included(settings.get("branches"), branch) and set(settings.get("tags", [])) <= tags:
                started.append(stem)
    return started


def tracked_files(root: Path) -> list[str]:
    listing = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True).stdout
    return [name for name in listing.decode().split("\0") if name]
