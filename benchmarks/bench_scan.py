"""Policy scan benchmark: wall time of `make scan`'s scan over every stack of every environment.

Floor, measured in the same run: a checkov process that only starts (imports checkov) and exits, the
cost no invocation can avoid. Target: the whole scan (13 stacks, built-in checks + organisation policies,
four report formats, construct-to-file map) in <= 15 s on this machine.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.checks.scan import REPO_ROOT, offline_environment
from tools.checks.scan.freshness import ensure_synth
from tools.checks.scan.runner import run_scan
from tools.checks.scan.sources import SOURCES_FILE

TARGET_SECONDS = 15.0


def _checkov_startup_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import checkov.main"], cwd=REPO_ROOT, env=offline_environment(), check=True)
    return time.perf_counter() - started


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="bench-scan-"))
    outdir = work / "cdktf.out"
    ensure_synth(outdir)  # not timed: `make scan` after `make synth` starts here
    floor = min(_checkov_startup_seconds() for _ in range(2))
    runs = []
    for attempt in range(2):
        (outdir / SOURCES_FILE).unlink(missing_ok=True)  # time the construct map too, as on a fresh synth
        outcome = run_scan(outdir, work / f"reports-{attempt}", synth=False)
        assert outcome.ok, outcome.problems
        runs.append(outcome.seconds)
    best = min(runs)
    stacks = len({f.stack for f in outcome.result.findings})
    print(f"  floor (checkov start-up only): {floor:.1f} s")
    verdict = "met" if best <= TARGET_SECONDS else "MISSED"
    print(f"  scan of {stacks} stacks, {outcome.result.checks_run} checks: best {best:.1f} s of {len(runs)} "
          f"= {best / floor:.1f}x floor; target <= {TARGET_SECONDS:.0f} s: {verdict}")


if __name__ == "__main__":
    main()
