"""`make bench`: run every benchmarks/bench_*.py (or those named on the command line) in turn."""

from __future__ import annotations

import importlib
import sys
import time
from pathlib import Path


def main(names: list[str]) -> int:
    modules = names or sorted(p.stem for p in Path(__file__).parent.glob("bench_*.py"))
    failed = []
    for name in modules:
        print(f"\n== {name}", flush=True)
        started = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception as exc:  # one broken benchmark must not hide the others' numbers
            print(f"  {name} failed: {exc}", flush=True)
            failed.append(name)
        print(f"  ({time.perf_counter() - started:.0f} s)", flush=True)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
