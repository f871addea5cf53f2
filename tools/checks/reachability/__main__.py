"""`make reachability`: evaluate every required flow in every synthesized environment; exit 1 if one is
unreachable. `--write-doc PATH` writes the matrix (docs/reachability.md); `--check-doc PATH` fails when it is stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from stacks.config import load_environments
from tools.checks.reachability.flows import FLOWS_FILE, Result, evaluate_environment, load_flows
from tools.checks.reachability.report import render
from tools.synth_output import SynthError, load_stacks


def evaluate(outdir: Path, flows_file: Path = FLOWS_FILE) -> dict[str, list[Result]]:
    """Results per environment synthesized into `outdir`, in the order of stacks/environments/."""
    stacks = load_stacks(outdir)
    flows = load_flows(flows_file)
    results: dict[str, list[Result]] = {}
    for config in load_environments():
        if any(name.startswith(f"{config.name}-") for name in stacks):
            ranges = tuple(config.network.allowed_ip_ranges)
            results[config.name] = evaluate_environment(config.name, stacks, ranges, flows)
    if not results:
        raise SynthError(f"no environment's stacks in {outdir}")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Check that every required network flow is reachable.")
    parser.add_argument("--outdir", type=Path, default=Path("cdktf.out"))
    parser.add_argument("--write-doc", type=Path, help="write the reachability matrix (markdown) here")
    parser.add_argument("--check-doc", type=Path, help="fail when this matrix differs from the model's")
    parser.add_argument("--no-synth", action="store_true", help="read cdktf.out/ as it is")
    args = parser.parse_args(argv)
    if not args.no_synth:
        from tools.checks.scan.freshness import ensure_synth

        ensure_synth(args.outdir)
    try:
        results = evaluate(args.outdir)
    except SynthError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for env, env_results in results.items():
        reached = sum(r.outcome.reachable for r in env_results)
        print(f"{env}: {reached} of {len(env_results)} required flows reachable")
        for r in env_results:
            if not r.outcome.reachable:
                failed += 1
                print(f"  UNREACHABLE {r.source} -> {r.target} [{r.subresource}] ({r.why}): {r.outcome.path}")
    document = render(results)
    if args.write_doc:
        args.write_doc.write_text(document, encoding="utf-8")
        print(f"wrote {args.write_doc}")
        return 0
    if args.check_doc and (not args.check_doc.is_file() or args.check_doc.read_text(encoding="utf-8") != document):
        print(f"{args.check_doc} is stale: run `make reachability-doc`", file=sys.stderr)
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
