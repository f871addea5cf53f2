"""Suppressions: `.checkov.baseline`, checkov's baseline format plus a reason per finding.

Each entry names a check ID, a resource address and the stack file(s) it covers (a glob such as
"/stacks/dev-*/cdk.tf.json"). Stock checkov matches baseline entries by resource address alone and
then drops every passed check from its reports; `ScopedBaseline` (used by tools.checks.scan.engine) honours
the file glob too, so a dev-only suppression never hides the same resource in prod, and it keeps the
passed checks, so the reports count every check that ran.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

SUPPRESSED_PREFIX = "suppressed by .checkov.baseline: "


@dataclass(frozen=True)
class Suppression:
    file_glob: str
    resource: str
    check_id: str
    reason: str

    def covers(self, file_path: str, resource: str, check_id: str) -> bool:
        return check_id == self.check_id and resource == self.resource and fnmatchcase(file_path, self.file_glob)


class BaselineError(ValueError):
    """The baseline file is malformed: the message names the entry."""


def load_suppressions(path: Path) -> list[Suppression]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    found: list[Suppression] = []
    for group in raw.get("failed_checks", []):
        for finding in group.get("findings", []):
            reason = str(finding.get("reason", "")).strip()
            if len(reason) < 20:
                raise BaselineError(f"{path}: {finding.get('resource')} {finding.get('check_ids')}: needs a reason")
            for check_id in finding["check_ids"]:
                found.append(Suppression(group["file"], finding["resource"], check_id, reason))
    return found


def make_scoped_baseline_class() -> type:
    """A checkov Baseline subclass (built lazily: importing checkov takes seconds)."""
    from checkov.common.models.enums import CheckResult
    from checkov.common.output.baseline import Baseline

    class ScopedBaseline(Baseline):  # type: ignore[misc]
        def from_json(self, file_path: str) -> None:
            super().from_json(file_path)
            self.suppressions = load_suppressions(Path(file_path))

        def compare_and_reduce_reports(self, scan_reports: list[Any]) -> None:
            for report in scan_reports:
                still_failed = []
                for record in report.failed_checks:
                    match = next(
                        (s for s in self.suppressions if s.covers(record.file_path, record.resource, record.check_id)),
                        None,
                    )
                    if match is None:
                        still_failed.append(record)
                        continue
                    record.check_result["result"] = CheckResult.SKIPPED
                    record.check_result["suppress_comment"] = SUPPRESSED_PREFIX + match.reason
                    report.skipped_checks.append(record)
                report.failed_checks = still_failed

    return ScopedBaseline
