"""Run checkov with the scoped baseline: `python -m tools.checks.scan.engine <checkov arguments>`.

A separate process per scan: checkov keeps global registries (external checks register once per process).
"""

from __future__ import annotations

import os
import sys

from tools.checks.scan import OFFLINE_ENV
from tools.checks.scan.baseline import make_scoped_baseline_class


def main(argv: list[str]) -> int:
    os.environ.update(OFFLINE_ENV)
    import checkov.main as checkov_main

    # checkov.main looks its Baseline class up as a module global when a scan runs: replacing that global is
    # the one way to give it the scoped baseline.
    vars(checkov_main)["Baseline"] = make_scoped_baseline_class()
    return int(checkov_main.Checkov(argv=argv).run() or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
