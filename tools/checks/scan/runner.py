"""One scan: synthesize if stale, run checkov once over every stack, read and judge the results."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tools.checks.scan import BASELINE, CHECKOV_CONFIG, REPO_ROOT, offline_environment
from tools.checks.scan.baseline import Suppression, load_suppressions
from tools.checks.scan.findings import ScanResult, read_results
from tools.checks.scan.freshness import ensure_synth
from tools.checks.scan.sources import source_map

MAX_SUPPRESSED_SHARE = 0.10  # suppressions must stay below 10 % of the checks run
REPORT_FORMATS = ("cli", "json", "junitxml", "sarif")


@dataclass
class ScanOutcome:
    result: ScanResult
    suppressions: list[Suppression]
    reports_dir: Path
    checkov_exit_code: int
    seconds: float
    outdir: Path = Path()
    stale_suppressions: list[Suppression] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def suppressed_share(self) -> float:
        return len(self.result.skipped) / max(self.result.checks_run, 1)

    @property
    def ok(self) -> bool:
        return not self.problems

    def uses(self, suppression: Suppression) -> int:
        return sum(
            suppression.covers(f.file_path, f.resource, f.check_id) for f in self.result.skipped
        )


def checkov_command(outdir: Path, reports_dir: Path, config: Path = CHECKOV_CONFIG) -> list[str]:
    """The whole scan is one checkov process over the folder: one start-up, one graph per stack."""
    command = [sys.executable, "-m", "tools.checks.scan.engine", "-d", str(outdir), "--config-file", str(config)]
    for fmt in REPORT_FORMATS:
        command += ["-o", fmt]
    return command + ["--output-file-path", str(reports_dir)]


def _stale(suppressions: list[Suppression], result: ScanResult, outdir: Path) -> list[Suppression]:
    """Entries whose stack files were scanned but that suppressed nothing: the finding is fixed, drop them."""
    from fnmatch import fnmatchcase

    scanned = [f"/{p.relative_to(outdir).as_posix()}" for p in outdir.glob("stacks/*/cdk.tf.json")]
    stale = []
    for entry in suppressions:
        in_scope = any(fnmatchcase(path, entry.file_glob) for path in scanned)
        used = any(entry.covers(f.file_path, f.resource, f.check_id) for f in result.skipped)
        if in_scope and not used:
            stale.append(entry)
    return stale


def run_scan(
    outdir: Path, reports_dir: Path, *, synth: bool = True, environments: list[str] | None = None,
    config: Path = CHECKOV_CONFIG, baseline: Path = BASELINE,
) -> ScanOutcome:
    """Scan `outdir` (synthesizing `environments`, default all, when it is stale) and judge the results."""
    started = time.perf_counter()
    outdir = outdir.resolve()
    if synth:
        ensure_synth(outdir, environments)
    reports_dir.mkdir(parents=True, exist_ok=True)
    # checkov runs in its own process while this one maps constructs to Python files (2 cores, 2 jobs).
    process = subprocess.Popen(
        checkov_command(outdir, reports_dir.resolve(), config), cwd=REPO_ROOT, env=offline_environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    sources = source_map(outdir, environments)
    _, stderr = process.communicate()
    results_json = reports_dir / "results_json.json"
    problems: list[str] = []
    if not results_json.is_file():
        raise RuntimeError(f"checkov wrote no results (exit code {process.returncode}):\n{stderr[-3000:]}")
    result = read_results(results_json, outdir, sources)
    suppressions = load_suppressions(baseline)
    outcome = ScanOutcome(
        result, suppressions, reports_dir, process.returncode, time.perf_counter() - started, outdir=outdir
    )
    outcome.stale_suppressions = _stale(suppressions, result, outdir)
    if result.failed:
        problems.append(f"{len(result.failed)} failed check(s)")
    if result.parsing_errors:
        problems.append(f"checkov could not parse: {', '.join(result.parsing_errors)}")
    if outcome.stale_suppressions:
        problems.append(f"{len(outcome.stale_suppressions)} suppression(s) in {baseline.name} match nothing")
    if outcome.suppressed_share >= MAX_SUPPRESSED_SHARE:
        problems.append(f"suppressions are {outcome.suppressed_share:.1%} of checks run (limit 10%)")
    if process.returncode not in (0, 1) or (process.returncode == 1 and not result.failed):
        problems.append(f"checkov exited with {process.returncode}: {stderr[-2000:]}")
    outcome.problems = problems
    return outcome
