"""The synth floor: import cdktn and every provider module the stacks use, then synthesize one empty stack."""

from __future__ import annotations

import importlib
import re
import sys
import tempfile
from pathlib import Path

from cdktn import App, TerraformStack

STACKS_DIR = Path(__file__).resolve().parent.parent / "stacks"


def provider_modules() -> list[str]:
    """Every provider module the stacks import, read from their source (so the floor follows the stacks)."""
    pattern = re.compile(r"^from (cdktn_provider_[a-z0-9_]+\.[a-z0-9_]+) import", re.MULTILINE)
    return sorted({m for path in STACKS_DIR.rglob("*.py") for m in pattern.findall(path.read_text())})


def main() -> None:
    for module in provider_modules():
        importlib.import_module(module)
    with tempfile.TemporaryDirectory() as outdir:
        app = App(outdir=outdir, stack_traces=False)
        TerraformStack(app, "empty")
        app.synth()


if __name__ == "__main__":
    main()
    sys.exit(0)
