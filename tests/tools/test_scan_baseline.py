"""Suppression scoping and synth freshness: the rules that keep `make scan` honest and fast."""

from __future__ import annotations

import json
import os

import pytest

from tools.checks.scan import BASELINE
from tools.checks.scan.baseline import BaselineError, Suppression, load_suppressions
from tools.checks.scan.freshness import needs_synth


def test_a_suppression_covers_only_its_check_resource_and_stack_files():
    entry = Suppression("/stacks/dev-*/cdk.tf.json", "resource.Vault_1", "CKV_AZURE_1", "a reason long enough")
    assert entry.covers("/stacks/dev-data/cdk.tf.json", "resource.Vault_1", "CKV_AZURE_1")
    assert not entry.covers("/stacks/prod-data/cdk.tf.json", "resource.Vault_1", "CKV_AZURE_1")
    assert not entry.covers("/stacks/dev-data/cdk.tf.json", "resource.Vault_2", "CKV_AZURE_1")
    assert not entry.covers("/stacks/dev-data/cdk.tf.json", "resource.Vault_1", "CKV_AZURE_2")


def test_every_baseline_entry_names_one_check_one_resource_and_a_reason():
    entries = load_suppressions(BASELINE)
    assert entries
    assert len({(e.file_glob, e.resource, e.check_id) for e in entries}) == len(entries)
    assert all(e.file_glob.startswith("/stacks/") and e.file_glob.endswith("/cdk.tf.json") for e in entries)


def test_an_entry_without_a_reason_is_rejected(tmp_path):
    baseline = tmp_path / ".checkov.baseline"
    baseline.write_text(json.dumps({"failed_checks": [
        {"file": "/stacks/*/cdk.tf.json", "findings": [{"resource": "resource.X", "check_ids": ["CKV_AZURE_1"]}]}
    ]}))
    with pytest.raises(BaselineError, match="needs a reason"):
        load_suppressions(baseline)


def test_synthesizes_when_output_is_missing_or_older_than_the_sources(tmp_path):
    root = tmp_path / "repo"
    (root / "stacks").mkdir(parents=True)
    source = root / "stacks" / "storage.py"
    source.write_text("x = 1\n")
    outdir = tmp_path / "cdktf.out"
    assert needs_synth(outdir, root)
    (outdir / "stacks" / "dev-data").mkdir(parents=True)
    (outdir / "stacks" / "dev-data" / "cdk.tf.json").write_text("{}")
    manifest = outdir / "manifest.json"
    manifest.write_text("{}")
    os.utime(source, (1_000, 1_000))
    assert not needs_synth(outdir, root)
    os.utime(source, (manifest.stat().st_mtime + 10,) * 2)
    assert needs_synth(outdir, root)


def test_synthesizes_when_an_environment_is_missing(tmp_path):
    root = tmp_path / "repo"
    (root / "stacks" / "environments").mkdir(parents=True)
    for env in ("dev", "prod"):
        (root / "stacks" / "environments" / f"{env}.yaml").write_text("name: x\n")
    outdir = tmp_path / "cdktf.out"
    (outdir / "stacks" / "dev-data").mkdir(parents=True)
    (outdir / "stacks" / "dev-data" / "cdk.tf.json").write_text("{}")
    (outdir / "manifest.json").write_text("{}")
    os.utime(root / "stacks" / "environments" / "dev.yaml", (1_000, 1_000))
    os.utime(root / "stacks" / "environments" / "prod.yaml", (1_000, 1_000))
    assert needs_synth(outdir, root)  # `make synth ENV=dev` left prod out
    assert not needs_synth(outdir, root, environments=["dev"])
