"""The scan names each finding's resource type and construct from the synthesized stacks as the shared reader
(tools/synth_output.py) loads them: the stacks the manifest lists, and a clear error when there is none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SynthOutput
from tools.checks.scan.findings import read_results
from tools.synth_output import SynthError

pytestmark = pytest.mark.xdist_group("stacks")


def _results(tmp_path: Path, stack: str, address: str) -> Path:
    item = {"check_id": "CKV_AZURE_1", "check_name": "a check", "check_result": {"result": "FAILED"},
            "file_path": f"/stacks/{stack}/cdk.tf.json", "resource": address}
    path = tmp_path / "results_json.json"
    path.write_text(json.dumps([{"results": {"failed_checks": [item]}}]), encoding="utf-8")
    return path


def test_a_finding_names_the_type_and_construct_the_synth_output_declares(synth: SynthOutput, tmp_path: Path) -> None:
    stack = "dev-data"
    (tf_type, unique_id, body), *_ = ((t, u, b) for t, blocks in synth.stack(stack)["resource"].items()
                                      for u, b in blocks.items())
    # checkov reports module-style addresses whose prefix is not the type: the type comes from the stack
    (finding,) = read_results(_results(tmp_path, stack, f"module.x.{unique_id}"), synth.root, {}).failed
    assert finding.resource_type == tf_type
    assert finding.construct_path == body["//"]["metadata"]["path"]


def test_output_without_a_manifest_is_an_error_naming_the_fix(synth: SynthOutput, tmp_path: Path) -> None:
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "dev-data").mkdir(parents=True)
    (outdir / "stacks" / "dev-data" / "cdk.tf.json").write_text(json.dumps(synth.stack("dev-data")))
    with pytest.raises(SynthError, match="make synth"):
        read_results(_results(tmp_path, "dev-data", "azurerm_x.y"), outdir, {})
