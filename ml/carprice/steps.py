"""The Azure ML pipeline's steps as one CLI (each component runs one subcommand):

  prep      source file -> bronze/silver/gold in the lake; gold is also written to --gold-out as Parquet
  evaluate  gold -> repeated CV of candidate and baseline + the gate's decision: metrics.json to --metrics-out
  train     gold + metrics.json -> the candidate fitted and exported (ONNX + MLflow + card) to --model-out;
            without --gold/--metrics it runs the whole local build on --lake-root
  register  register --model as ML_MODEL_NAME in the workspace, only if metrics.json says the gate promoted it

The data set is the selected declaration (CARPRICE_DATASET); metrics.json is ml/carprice/gate.py's format.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

import pandas as pd

from contract import ML_MODEL_NAME
from ml.carprice.dataset import active
from ml.carprice.gate import GateRejected, read_metrics, write_metrics
from ml.carprice.prep import load_gold, run_prep

GOLD_FILE = f"{active().gold_table}.parquet"


def prep(args: argparse.Namespace) -> None:
    # In Azure only what landed in bronze (feeds, captured events) is data; the repo's CSV seeds a laptop.
    report = run_prep(args.lake_root, **({"source": None} if args.landed_only else {}))
    print("\n".join(report.lines()))
    args.gold_out.mkdir(parents=True, exist_ok=True)
    gold = load_gold(args.lake_root)
    gold.to_parquet(args.gold_out / GOLD_FILE, index=False)
    if args.score_out is not None:
        write_cars_to_score(args.lake_root, gold, args.score_out)


def write_cars_to_score(lake_root: str | None, gold: pd.DataFrame, folder: Path) -> Path:
    """Every listed car (gold and those without a price) without its price, as CSV: the batch deployment
    reads files, and prices them for the app's batch page."""
    from ml.carprice.lake import Lake
    from ml.carprice.prep import UNPRICED_TABLE

    unpriced = Lake.at(lake_root).read("silver", UNPRICED_TABLE)
    cars = pd.concat([gold, unpriced], ignore_index=True).drop(columns=[active().target.name], errors="ignore")
    folder.mkdir(parents=True, exist_ok=True)
    cars.to_csv(folder / "cars.csv", index=False)
    return folder / "cars.csv"


def _gold(folder: Path) -> pd.DataFrame:
    return pd.read_parquet(folder / GOLD_FILE)


def evaluate(args: argparse.Namespace) -> None:
    from ml.carprice.training import evaluate_gold

    champion = read_metrics(args.champion_metrics) if args.champion_metrics else None
    metrics = evaluate_gold(_gold(args.gold), active(), quick=args.quick, champion=champion)
    write_metrics(args.metrics_out, metrics.evaluation, metrics.gate)
    print(metrics.summary())


def train(args: argparse.Namespace) -> None:
    from ml.carprice.training import build_model_artifacts, export_model

    if args.gold is not None and args.metrics is not None:
        out, version = export_model(_gold(args.gold), active(), read_metrics(args.metrics), args.model_out / "model")
        print(f"model {version}: {out}")
        return
    # The same function `make train` runs, so Azure and a laptop export identical model folders.
    out = build_model_artifacts(args.model_out / "model", lake_root=args.lake_root, progress=print)
    print(f"model folder: {out}")


def register(args: argparse.Namespace) -> None:
    metrics = read_metrics(args.metrics)
    if not metrics.gate.promoted:
        print("gate rejected the candidate; nothing registered")
        return
    from azure.ai.ml import MLClient
    from azure.ai.ml.entities import Model
    from azure.identity import DefaultAzureCredential

    client = MLClient(DefaultAzureCredential(), args.subscription, args.resource_group, args.workspace)
    staged = Path("register") / "model"
    shutil.copytree(args.model / "model", staged, dirs_exist_ok=True)
    # The rollout (tools/deploy/ml/rollout.py) finds this version by the pipeline job that registered it.
    tags = {"pipeline_job": os.environ.get("AZUREML_ROOT_RUN_ID", ""), **metrics.as_tags()}
    registered = client.models.create_or_update(Model(path=str(staged), name=ML_MODEL_NAME, type="custom_model",
                                                      tags=tags))
    print(f"registered {registered.name}:{registered.version}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prep")
    p.add_argument("--lake-root", default=None)
    p.add_argument("--gold-out", type=Path, required=True)
    p.add_argument("--landed-only", action="store_true", help="no seed CSV: bronze is what landed in the lake")
    p.add_argument("--score-out", type=Path, default=None, help="folder for the cars the batch endpoint prices")
    p = sub.add_parser("evaluate")
    p.add_argument("--gold", type=Path, required=True)
    p.add_argument("--quick", action="store_true", help="the gate config's quick_repeats instead of repeats")
    p.add_argument("--champion-metrics", type=Path, default=None, help="the live model's metrics.json, if any")
    p.add_argument("--metrics-out", type=Path, required=True)
    p = sub.add_parser("train")
    p.add_argument("--lake-root", default=None)
    p.add_argument("--gold", type=Path, default=None, help="prep's gold output (with --metrics: no re-evaluation)")
    p.add_argument("--metrics", type=Path, default=None, help="the evaluate step's output folder")
    p.add_argument("--model-out", type=Path, required=True)
    p = sub.add_parser("register")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--metrics", type=Path, required=True)
    p.add_argument("--subscription", required=True)
    p.add_argument("--resource-group", required=True)
    p.add_argument("--workspace", required=True)
    args = parser.parse_args(argv)
    try:
        {"prep": prep, "evaluate": evaluate, "train": train, "register": register}[args.step](args)
    except GateRejected as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
