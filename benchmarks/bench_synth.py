"""Full synth of every stack of every environment vs the floor (cdktn + provider imports + one empty stack).

Both run as every synth runs (stacks.SYNTH_ARGS: `python -O`, without the bindings' typeguard checks).
Targets: ratio <= 1.5 and peak memory (process tree, Node included) under 1 GiB.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from benchmarks.measure import best_of
from stacks import SYNTH_ARGS, SYNTH_PYTHON_FLAGS

RUNS = 5


def main() -> None:
    python = sys.executable
    print(f"synth: best of {RUNS} runs each, floor and full synth in turns", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        floor, full = best_of(
            RUNS,
            [python, *SYNTH_PYTHON_FLAGS, "-m", "benchmarks.synth_floor"],
            [python, *SYNTH_ARGS, "--outdir", str(Path(tmp) / "cdktf.out")],
        )
    ratio = full.seconds / floor.seconds
    print(f"  floor (imports + empty stack): {floor.seconds:6.2f} s  peak {floor.peak_mib:6.0f} MiB")
    print(f"  full synth, all environments:  {full.seconds:6.2f} s  peak {full.peak_mib:6.0f} MiB")
    verdict = "ok" if ratio <= 1.5 and full.peak_mib < 1024 else "MISSED"
    print(f"  ratio {ratio:.2f} (target <= 1.5), peak {full.peak_mib:.0f} MiB (target < 1024): {verdict}")


if __name__ == "__main__":
    main()
