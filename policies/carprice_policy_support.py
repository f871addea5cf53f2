"""Shared helpers of the organisation policies (not a check: checkov imports it, registers nothing).

checkov hands a check each resource as HCL-style values wrapped in lists; these helpers unwrap them and
read the facts a resource alone cannot tell: which environment it belongs to (its `environment` tag)
and what that environment allows (stacks/environments/<name>.yaml, the same file the stacks use).
"""

from __future__ import annotations

import sys
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENTS_DIR = REPO_ROOT / "stacks" / "environments"
TAGGABLE_LIST = Path(__file__).resolve().parent / "taggable_resource_types.txt"
REQUIRED_TAGS = ("environment", "owner", "cost-center", "managed-by")
POLICY_PREFIX = "CKV_CARPRICE_"

if str(REPO_ROOT) not in sys.path:  # checkov runs from its own script dir; the contract lives in the repo
    sys.path.append(str(REPO_ROOT))


def value(conf: dict[str, Any], key: str, default: Any = None) -> Any:
    """The attribute's value, unwrapped from checkov's one-element list."""
    raw = conf.get(key, default)
    while isinstance(raw, list) and len(raw) == 1:
        raw = raw[0]
    return default if raw is None else raw


def block(conf: dict[str, Any], key: str) -> dict[str, Any]:
    """A nested block (e.g. `site_config`), or {} when absent."""
    found = value(conf, key, {})
    return found if isinstance(found, dict) else {}


def is_true(conf: dict[str, Any], key: str) -> bool:
    return value(conf, key) is True


def is_false(conf: dict[str, Any], key: str) -> bool:
    return value(conf, key) is False


def construct_path(conf: dict[str, Any]) -> str:
    """The construct path cdktn records in the resource's "//" metadata ("" if not synthesized by cdktn)."""
    meta = block(conf, "//")
    return str(value(block(meta, "metadata") if meta else {}, "path", ""))


def tags(conf: dict[str, Any]) -> dict[str, Any]:
    found = value(conf, "tags", {})
    return found if isinstance(found, dict) else {}


@cache
def environment(name: str) -> dict[str, Any] | None:
    """The environment's settings, or None when no environment file has that name."""
    path = ENVIRONMENTS_DIR / f"{name}.yaml"
    if not path.is_file():
        return None
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    return loaded if isinstance(loaded, dict) else None


def environment_of(conf: dict[str, Any]) -> dict[str, Any] | None:
    name = tags(conf).get("environment")
    return environment(str(value({"v": name}, "v"))) if name else None


@lru_cache(maxsize=1)
def taggable_types() -> tuple[str, ...]:
    lines = TAGGABLE_LIST.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))
