"""One real platform scan per test session, shared by the policy and scan tests (xdist group "scan")."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tools.checks.scan import REPO_ROOT, offline_environment
from tools.checks.scan.runner import ScanOutcome, run_scan

_CACHE: dict[str, ScanOutcome] = {}


def platform_scan(tmp_path_factory: pytest.TempPathFactory) -> ScanOutcome:
    """`make scan` on a checkout without cdktf.out/: synthesize every environment, then scan it."""
    if "scan" not in _CACHE:
        work = tmp_path_factory.mktemp("platform-scan")
        _CACHE["scan"] = run_scan(work / "cdktf.out", work / "reports" / "checkov")
    return _CACHE["scan"]


def run_policies(folder: Path, reports: Path, check_ids: list[str]) -> list[dict[str, Any]]:
    """checkov with only the given organisation policies over `folder`; every result, passed or failed."""
    command = [
        sys.executable, "-m", "tools.checks.scan.engine", "-d", str(folder), "--framework", "terraform_json",
        "--skip-download", "--external-checks-dir", "policies", "--check", ",".join(check_ids),
        "-o", "json", "--output-file-path", str(reports),
    ]
    done = subprocess.run(command, cwd=REPO_ROOT, env=offline_environment(), capture_output=True, text=True)
    results_file = reports / "results_json.json"
    assert results_file.is_file(), done.stderr[-3000:]
    raw = json.loads(results_file.read_text(encoding="utf-8"))
    reports_list = raw if isinstance(raw, list) else [raw]
    return [
        item
        for report in reports_list
        for key in ("passed_checks", "failed_checks")
        for item in report.get("results", {}).get(key, [])
    ]
