"""The text `make scan` prints: totals, each suppression with its reason, each failure with its construct."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from tools.checks.scan import REPO_ROOT
from tools.checks.scan.runner import ScanOutcome


def _shown(path: Path) -> str:
    """Repo-relative when inside the repo (reports/checkov), absolute otherwise."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(resolved)


def totals_line(outcome: ScanOutcome) -> str:
    result = outcome.result
    stacks = sorted({f.stack for f in result.findings})
    return (
        f"checkov over {len(stacks)} stacks: {result.checks_run} checks run, "
        f"{len(result.with_result('PASSED'))} passed, {len(result.failed)} failed, "
        f"{len(result.skipped)} suppressed ({outcome.seconds:.1f} s)"
    )


def render(outcome: ScanOutcome) -> str:
    result = outcome.result
    by_policy = Counter(f.check_id for f in result.findings if "CARPRICE" in f.check_id)
    lines = [
        totals_line(outcome),
        f"  organisation policies (policies/): {sum(by_policy.values())} checks over {len(by_policy)} policies",
        f"Suppressions: {len(outcome.suppressions)} entries in .checkov.baseline, covering "
        f"{len(result.skipped)} of {result.checks_run} checks run ({outcome.suppressed_share:.1%}; limit 10%)",
    ]
    for entry in outcome.suppressions:
        lines.append(f"  - {entry.check_id} on {entry.resource} in {entry.file_glob} ({outcome.uses(entry)} results)")
        lines.append(f"      reason: {entry.reason}")
    for entry in outcome.stale_suppressions:
        lines.append(f"STALE suppression (matches nothing; remove it): {entry.check_id} on {entry.resource}")
    if result.failed:
        lines.append(f"FAILED checks ({len(result.failed)}): fix the construct in the file named below")
        for finding in sorted(result.failed, key=lambda f: (f.stack, f.construct_path, f.check_id)):
            lines.append(f"  [{finding.stack}] {finding.describe()}")
    reports = ", ".join(sorted(p.name for p in outcome.reports_dir.glob("results_*")))
    lines.append(f"Reports in {_shown(outcome.reports_dir)}/: {reports}")
    verdict = "PASSED, zero failed checks" if outcome.ok else "FAILED: " + "; ".join(outcome.problems)
    lines.append(f"RESULT: {verdict}")
    return "\n".join(lines)
