"""The synth as users run it (`cdktn synth` through cdktf.json, `make synth`, the tools: stacks.SYNTH_ARGS) runs
under `python -O`, without the jsii bindings' typeguard checks. It must write exactly what the checked synth of the
test session writes, and a wrong value must still stop it with the value's key named."""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from stacks import SYNTH_ARGS, SYNTH_PYTHON_FLAGS

pytestmark = pytest.mark.xdist_group("stacks")
ROOT = Path(__file__).resolve().parents[2]


def test_cdktn_synth_runs_the_synth_command_the_tools_run():
    app = json.loads((ROOT / "cdktf.json").read_text())["app"]
    assert shlex.split(app) == [".venv/bin/python", *SYNTH_ARGS]


def test_the_optimized_synth_writes_exactly_what_the_checked_synth_writes(synth, tmp_path):
    outdir = tmp_path / "cdktf.out"
    subprocess.run([sys.executable, *SYNTH_ARGS, "--outdir", str(outdir)], cwd=ROOT, check=True, capture_output=True)
    written = sorted(p.relative_to(outdir) for p in outdir.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(synth.root) for p in synth.root.rglob("*") if p.is_file())
    assert [p for p in written if (outdir / p).read_bytes() != (synth.root / p).read_bytes()] == []


def test_a_wrong_value_still_stops_the_optimized_synth_with_its_key_named(tmp_path):
    script = (
        "from cdktn import App, TerraformStack\n"
        "from cdktn_provider_azurerm.resource_group import ResourceGroup\n"
        f"app = App(outdir={str(tmp_path)!r})\n"
        "ResourceGroup(TerraformStack(app, 'stack'), 'group', name='rg-x', location=123)\n"
    )
    run = subprocess.run([sys.executable, *SYNTH_PYTHON_FLAGS, "-c", script], capture_output=True, text=True)
    assert run.returncode != 0
    assert "Key 'location': Unable to deserialize value as string" in run.stderr
    assert "ResourceGroup" in run.stderr
