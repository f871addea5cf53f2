"""Print what the last synth produced: per stack, in deploy order, its resource count by type."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from tools.synth_output import SynthError, deploy_order, load_stacks


def summarize(outdir: Path) -> str:
    stacks = load_stacks(outdir)
    lines = []
    total = 0
    environments = sorted({name.split("-", 1)[0] for name in stacks})
    for environment in environments:
        selected = {n: s for n, s in stacks.items() if n.startswith(f"{environment}-")}
        lines.append(f"{environment}:")
        for name in deploy_order(selected):
            counts = Counter({t: len(items) for t, items in stacks[name].resources().items()})
            count = sum(counts.values())
            total += count
            ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
            by_type = ", ".join(f"{n} {t.removeprefix('azurerm_')}" for t, n in ranked[:4])
            more = f", +{len(ranked) - 4} more types" if len(ranked) > 4 else ""
            lines.append(f"  {name:<22} {count:>3} resources  {by_type}{more}")
    lines.append(f"{'total':<24} {total:>3} resources in {len(stacks)} stacks")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    args = parser.parse_args(argv)
    try:
        print(summarize(args.outdir))
    except SynthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
