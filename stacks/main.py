"""Entry point: for each environment, build its stacks; then synthesize them into cdktf.out/.

`cdktn synth` runs this module (see cdktf.json); so does `make synth [ENV=dev]`. A failed synth
(bad config, invalid name, construct error) leaves the previous cdktf.out/ exactly as it was:
the app synthesizes into a temporary sibling folder that replaces the old output only on success.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from cdktn import App

from stacks.agents import AgentsStack
from stacks.app_tier import AppStack
from stacks.base import PlatformStack
from stacks.config import ENVIRONMENTS_DIR, ConfigError, EnvironmentConfig, load_environments
from stacks.data import DataStack
from stacks.databricks import DatabricksStack, PrepStack
from stacks.edge import EdgeStack
from stacks.foundation import FoundationStack
from stacks.functions import FunctionsStack
from stacks.genai import GenAiStack
from stacks.global_data import GlobalDataStack
from stacks.ml import MlStack
from stacks.naming import NamingError

DEFAULT_OUTDIR = Path("cdktf.out")


def build_environment(app: App, config: EnvironmentConfig) -> list[PlatformStack]:
    """The stacks of one environment, in deploy order; dependencies form a one-way graph."""
    foundation = FoundationStack(app, config=config)
    data = DataStack(app, config=config, foundation=foundation)
    ml = MlStack(app, config=config, foundation=foundation, data=data)
    global_data = GlobalDataStack(app, config=config, foundation=foundation)
    genai = GenAiStack(app, config=config, foundation=foundation) if config.genai else None
    apps = [
        AppStack(
            app, config=config, region=region, foundation=foundation, global_data=global_data, ml=ml, genai=genai
        )
        for region in config.app_regions
    ]
    functions = FunctionsStack(
        app, config=config, foundation=foundation, data=data, ml=ml, global_data=global_data, genai=genai
    )
    edge = EdgeStack(app, config=config, foundation=foundation, apps=apps)
    # Declared, not only inferred from references: the deploy order is part of the design.
    for dependent in (data, ml, global_data):
        _depends(dependent, foundation)
    _depends(ml, data)
    _depends(functions, foundation, data, ml, global_data)
    for app_stack in apps:
        _depends(app_stack, global_data, ml)
        _depends(edge, app_stack)
    genai_stacks: list[PlatformStack] = []
    if genai is not None:
        _depends(genai, foundation)
        for caller in (functions, *apps):
            _depends(caller, genai)
        genai_stacks = [genai]
    stacks: list[PlatformStack] = [foundation, data, ml, global_data, *genai_stacks, functions, *apps, edge]
    if config.databricks is not None:
        stacks[3:3] = _spark_prep(app, config, foundation=foundation, data=data, ml=ml)
    if config.agents is not None:
        # The pool is bootstrapped first (make bootstrap); the foundation links it to the network.
        stacks = [AgentsStack(app, config=config), *stacks]
    return stacks


def _depends(dependent: PlatformStack, *dependencies: PlatformStack) -> None:
    for dependency in dependencies:
        dependent.add_dependency(dependency)


def _spark_prep(
    app: App, config: EnvironmentConfig, *, foundation: FoundationStack, data: DataStack, ml: MlStack
) -> list[PlatformStack]:
    """Spark prep: the workspace (in the network, leaving through the ML stack's NAT), then what runs in it."""
    databricks = DatabricksStack(app, config=config, foundation=foundation, data=data, ml=ml)
    prep = PrepStack(app, config=config, data=data, databricks=databricks)
    _depends(databricks, foundation, data, ml)
    _depends(prep, data, databricks)
    return [databricks, prep]


def synthesize(configs: Sequence[EnvironmentConfig], outdir: Path, *, progress: bool = True) -> None:
    """Synthesize every stack of `configs` into `outdir`, replacing it only when synthesis succeeds."""
    outdir = outdir.resolve()
    outdir.parent.mkdir(parents=True, exist_ok=True)
    staging = outdir.with_name(f".{outdir.name}.staging-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        app = App(outdir=str(staging), stack_traces=False)
        for config in configs:
            started = time.perf_counter()
            stacks = build_environment(app, config)
            if progress:
                elapsed = time.perf_counter() - started
                print(f"  built {config.name}: {len(stacks)} stacks in {elapsed:.1f} s", flush=True)
        started = time.perf_counter()
        app.synth()
        if progress:
            print(f"  synthesized to {outdir.name}/ in {time.perf_counter() - started:.1f} s", flush=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    previous = outdir.with_name(f".{outdir.name}.previous-{os.getpid()}")
    if outdir.exists():
        outdir.rename(previous)
    staging.rename(outdir)
    shutil.rmtree(previous, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Synthesize the blueprint's stacks.")
    parser.add_argument("--env", action="append", help="environment to synthesize (repeatable); default: all")
    parser.add_argument("--outdir", type=Path, default=None, help="output folder (default: cdktf.out)")
    parser.add_argument(
        "--local-state", action="store_true",
        help="use a local state backend (.terraform-state/) instead of the environment's remote state",
    )
    parser.add_argument("--environments-dir", type=Path, default=ENVIRONMENTS_DIR, help="folder of <env>.yaml files")
    args = parser.parse_args(argv)
    # `cdktn synth` passes its output folder in CDKTF_OUTDIR; honour it so the CLI finds what it expects.
    outdir = args.outdir or Path(os.environ.get("CDKTF_OUTDIR", DEFAULT_OUTDIR))
    started = time.perf_counter()
    try:
        configs = load_environments(args.env, args.environments_dir)
        if args.local_state:
            configs = [config.with_local_state() for config in configs]
        print(f"Synthesizing {', '.join(c.name for c in configs)} into {outdir}/ ...", flush=True)
        synthesize(configs, outdir)
    except (ConfigError, NamingError) as exc:
        print(f"error: {exc}\nnothing was written; {outdir}/ is unchanged", file=sys.stderr)
        return 2
    print(f"Done in {time.perf_counter() - started:.1f} s.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
