"""Policy scans: checkov (built-in Azure checks + policies/) over every synthesized stack.

`python -m tools.checks.scan` (what `make scan` runs) synthesizes when cdktf.out/ is stale, scans it, writes
CLI, JSON, JUnit XML and SARIF reports, and prints each finding with its construct path and the
Python file that defines the construct. Suppressions come only from `.checkov.baseline`.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECKOV_CONFIG = REPO_ROOT / ".checkov.yaml"
BASELINE = REPO_ROOT / ".checkov.baseline"
POLICIES_DIR = REPO_ROOT / "policies"
DEFAULT_OUTDIR = REPO_ROOT / "cdktf.out"
DEFAULT_REPORTS = REPO_ROOT / "reports" / "checkov"

# checkov stays offline: no update check, no platform mapping download, no package (SCA) scan, no telemetry.
OFFLINE_ENV = {
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "BC_SKIP_MAPPING": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false",
    "CHECKPOINT_DISABLE": "1",
    "DO_NOT_TRACK": "1",
    "LOG_LEVEL": "WARNING",
}


def offline_environment() -> dict[str, str]:
    return {**os.environ, **OFFLINE_ENV}
