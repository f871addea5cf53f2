"""`python -m tools.checks.scan [--outdir cdktf.out] [--reports reports/checkov] [--no-synth]` (make scan)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.checks.scan import DEFAULT_OUTDIR, DEFAULT_REPORTS
from tools.checks.scan.runner import run_scan
from tools.checks.scan.summary import render


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="checkov policy scan of every synthesized stack")
    parser.add_argument("--outdir", type=Path, default=DEFAULT_OUTDIR, help="synthesized stacks (default cdktf.out)")
    parser.add_argument("--reports", type=Path, default=DEFAULT_REPORTS, help="report folder (reports/checkov)")
    parser.add_argument("--no-synth", action="store_true", help="scan the folder as it is, even if stale")
    args = parser.parse_args(argv)
    outcome = run_scan(args.outdir, args.reports, synth=not args.no_synth)
    print(render(outcome), flush=True)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
