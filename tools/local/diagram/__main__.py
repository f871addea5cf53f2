"""`python -m tools.local.diagram [--env prod]`: synthesize if needed, then draw docs/architecture/."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from stacks import SYNTH_ARGS
from tools.local.diagram.build import build
from tools.local.diagram.synth_graph import load


def _synthesized_envs(outdir: Path) -> set[str]:
    try:
        return {name.split("-", 1)[0] for name in load(outdir).stacks}
    except Exception:  # missing or half-written output: synthesize again
        return set()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--env", default="prod", help="environment to draw (default: prod)")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"), help="synthesized stacks to read")
    parser.add_argument("--docs", type=Path, default=Path("docs/architecture"), help="where pictures go")
    parser.add_argument("--pipelines", type=Path, default=Path("pipelines"), help="Azure Pipelines definitions")
    args = parser.parse_args(argv)

    if args.env not in _synthesized_envs(args.outdir):
        print(f"diagram: no {args.env} stacks in {args.outdir}/, synthesizing first", flush=True)
        subprocess.run([sys.executable, *SYNTH_ARGS, "--outdir", str(args.outdir)], check=True)
    written = build(load(args.outdir), args.env, args.docs, args.pipelines)
    for path in written:
        print(f"diagram: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
