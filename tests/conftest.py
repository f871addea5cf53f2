"""One synth of every environment per test session, shared by the tests that read it (they run in the "stacks" xdist group)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stacks.config import load_environments
from stacks.main import synthesize


@dataclass(frozen=True)
class SynthOutput:
    root: Path

    def stack(self, name: str) -> dict[str, Any]:
        return json.loads((self.root / "stacks" / name / "cdk.tf.json").read_text())

    def resources(self, stack: str, tf_type: str) -> list[dict[str, Any]]:
        return list(self.stack(stack).get("resource", {}).get(tf_type, {}).values())

    def one(self, stack: str, tf_type: str) -> dict[str, Any]:
        found = self.resources(stack, tf_type)
        assert len(found) == 1, f"expected one {tf_type} in {stack}, found {len(found)}"
        return found[0]

    def stack_names(self) -> list[str]:
        return sorted(json.loads((self.root / "manifest.json").read_text())["stacks"])


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> SynthOutput:
    outdir = tmp_path_factory.mktemp("synth") / "cdktf.out"
    synthesize(load_environments(), outdir, progress=False)
    return SynthOutput(outdir)
