"""Shared fixtures: the real synthesized stacks of both environments, built once per test worker."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def synth_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("deploy-synth") / "cdktf.out"
    env = {**os.environ, "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run(
        [sys.executable, "-m", "stacks.main", "--outdir", str(outdir)],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True,
    )
    return outdir
