"""A construct with one hardened setting turned off makes the scan fail, naming the construct and its file."""

from __future__ import annotations

import pytest

from stacks.modules import key_vault
from tools.checks.scan.__main__ import main
from tools.checks.scan.runner import run_scan
from tools.checks.scan.summary import render

pytestmark = pytest.mark.xdist_group("scan-weakened")


def test_key_vault_without_purge_protection_fails_the_scan_with_construct_path_and_file(
    tmp_path, monkeypatch, capsys
):
    real_vault = key_vault.AzKeyVault

    def vault_without_purge_protection(*args, **kwargs):
        return real_vault(*args, **{**kwargs, "purge_protection_enabled": False})

    monkeypatch.setattr(key_vault, "AzKeyVault", vault_without_purge_protection)
    outdir, reports = tmp_path / "cdktf.out", tmp_path / "reports"
    outcome = run_scan(outdir, reports, environments=["dev"])

    assert not outcome.ok
    failed = {(f.check_id, f.construct_path, f.python_file) for f in outcome.result.failed}
    assert ("CKV_CARPRICE_5", "dev-foundation/KeyVault/Vault", "stacks/modules/key_vault.py") in failed
    assert ("CKV_AZURE_110", "dev-foundation/KeyVault/Vault", "stacks/modules/key_vault.py") in failed
    # Every vault built by the module fails (the platform's and the ML workspace's), and only vaults fail.
    assert {f.stack for f in outcome.result.failed} == {"dev-foundation", "dev-ml"}
    assert {f.python_file for f in outcome.result.failed} == {"stacks/modules/key_vault.py"}
    message = render(outcome)
    assert "construct: dev-foundation/KeyVault/Vault" in message
    assert "defined in: stacks/modules/key_vault.py" in message
    assert "purge_protection_enabled must be true" in message

    # `make scan` (python -m tools.checks.scan) exits non-zero and prints the same message.
    monkeypatch.undo()
    assert main(["--outdir", str(outdir), "--reports", str(reports), "--no-synth"]) == 1
    printed = capsys.readouterr().out
    assert "FAILED checks" in printed and "dev-foundation/KeyVault/Vault" in printed
