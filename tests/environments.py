"""Environment files the tests own (tests/fixtures/environments/): `public`, environment `pub` (endpoints open to
the team's ranges) and `private`, environment `priv` (private networking, deploy agents, gateways). Tests that need
a config to vary write one of these with their change; the real stacks/environments/*.yaml stay the operators' to
edit. Short names: the tightest Azure names (storage, Key Vault: 24 characters) hold a name of up to four."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import yaml

FIXTURE_ENVIRONMENTS = Path(__file__).resolve().parent / "fixtures" / "environments"
Kind = Literal["public", "private"]
NAMES: dict[Kind, str] = {"public": "pub", "private": "priv"}


def environment_data(kind: Kind = "public") -> dict[str, Any]:
    return yaml.safe_load((FIXTURE_ENVIRONMENTS / f"{NAMES[kind]}.yaml").read_text(encoding="utf-8"))


Change = Callable[[dict[str, Any]], Any]


def write_environment(folder: Path, kind: Kind = "public", change: Change | None = None) -> Path:
    """`<folder>/<name>.yaml`: the test-owned environment with `change` applied to its data."""
    data = environment_data(kind)
    if change is not None:
        change(data)
    path = folder / f"{NAMES[kind]}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
