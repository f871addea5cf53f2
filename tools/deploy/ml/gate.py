"""The promotion gate as the pipeline sees it: read the evaluate step's metrics.json and stop on a rejection.

The ML project's evaluate step decides (ml/carprice/gate.py holds the thresholds, the decision and the file's
one format); this command only reads that file, strictly, and refuses to go on when it is missing, unreadable
or not exactly that format: a rollout never happens by default.
`python -m tools.deploy.ml.gate <metrics.json | folder>` exits 0 to promote, 3 when the gate rejects, 2 when
it cannot decide.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ml.carprice.gate import GateFileError, MetricsFile, read_metrics

__all__ = ["GATE_REJECTED_EXIT", "GateFileError", "MetricsFile", "main", "read_metrics"]
GATE_REJECTED_EXIT = 3


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m tools.deploy.ml.gate <metrics.json | evaluation folder>", file=sys.stderr)
        return 2
    try:
        metrics = read_metrics(Path(args[0]))
    except GateFileError as exc:
        print(f"gate: cannot decide, stopping: {exc}", file=sys.stderr)
        return 2
    print(metrics.summary())
    return 0 if metrics.gate.promoted else GATE_REJECTED_EXIT


if __name__ == "__main__":
    sys.exit(main())
