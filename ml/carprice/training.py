"""prep -> evaluate -> gate -> train -> export: the one function every caller uses (`make train`, the Azure ML
pipeline's steps run the same functions, other areas' tests build a model with `quick=True`).

The data set is the selected declaration (CARPRICE_DATASET, `make train DATASET=...`); the gate's settings
come from ml/carprice/gate.yml. The evaluation and the decision land in the model folder's metrics.json
(ml/carprice/gate.py), the file the pipeline's gate and the rollout read.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from contract import ML_MODEL_NAME
from ml.carprice import dataset as datasets
from ml.carprice import model as models
from ml.carprice.dataset import Dataset
from ml.carprice.evaluate import evaluate
from ml.carprice.export import (
    MLFLOW_DIR,
    ONNX_FILE,
    ONNX_INPUT,
    ONNX_OUTPUT,
    encoding_card,
    feature_card,
    save_mlflow,
    to_onnx_model,
    write_card,
)
from ml.carprice.gate import (
    INTERVAL_NOTE,
    GateConfig,
    GateFileError,
    GateRejected,
    MetricsFile,
    decide,
    load_config,
    read_metrics,
    write_metrics,
)
from ml.carprice.lake import ML_ROOT
from ml.carprice.prep import load_gold, run_prep
from ml.carprice.report import CARD_MARKDOWN, card_markdown
from ml.carprice.tracking import log_run

__all__ = ["DEFAULT_MODEL_DIR", "GateRejected", "build_model_artifacts", "evaluate_gold", "export_model"]
DEFAULT_MODEL_DIR = ML_ROOT / "outputs" / "model"


def champion_of(model_dir: Path, say: Callable[[str], None]) -> MetricsFile | None:
    """The metrics of the model currently in `model_dir`, if it has readable ones."""
    if not (model_dir / "metrics.json").exists():
        return None
    try:
        return read_metrics(model_dir / "metrics.json")
    except GateFileError as exc:
        say(f"      the current model's metrics cannot be compared ({exc}); judging the candidate on its own")
        return None


def evaluate_gold(gold: pd.DataFrame, dataset: Dataset, *, config: GateConfig | None = None, quick: bool = False,
                  champion: MetricsFile | None = None, n_jobs: int | None = None) -> MetricsFile:
    """Candidate vs both baselines on repeated CV of gold, and the gate's decision (the evaluate step)."""
    config = config or load_config(dataset=dataset)
    x, y = models.features_frame(gold, dataset), models.target(gold, dataset)
    contenders = {"candidate": models.candidate(dataset), "baseline": models.baseline(dataset),
                  "strong_baseline": models.strong_baseline(dataset)}
    evaluation = evaluate(dataset, contenders, x, y, config, quick=quick, n_jobs=n_jobs,
                          recipe=models.recipe(dataset), descriptions=models.MODELS)
    decision = decide(evaluation, config, champion.evaluation if champion is not None else None)
    return MetricsFile(format="carprice-metrics/2", evaluation=evaluation, gate=decision)


def export_model(gold: pd.DataFrame, dataset: Dataset, metrics: MetricsFile, out_dir: Path) -> tuple[Path, str]:
    """Fit the candidate on all of gold and write the model folder (model.onnx, model_card.json, metrics.json,
    mlflow/), swapped in only when complete. Refuses when the metrics say the gate rejected it."""
    if not metrics.gate.promoted:
        raise GateRejected(metrics.gate)
    x, y = models.features_frame(gold, dataset), models.target(gold, dataset)
    fitted = models.candidate(dataset).fit(x, y)
    staging = Path(tempfile.mkdtemp(prefix="model-", dir=out_dir.parent if out_dir.parent.exists() else None))
    onnx_bytes = to_onnx_model(fitted).SerializeToString()
    (staging / ONNX_FILE).write_bytes(onnx_bytes)
    save_mlflow(fitted, x, staging / MLFLOW_DIR)
    created = datetime.now(UTC)
    card = _card(dataset, metrics, created, hashlib.sha256(onnx_bytes).hexdigest()[:8], encoding_card(fitted))
    write_card(staging, card)
    (staging / CARD_MARKDOWN).write_text(card_markdown(metrics, dataset.spec.description, dataset.target.unit or
                                                       "target units"), encoding="utf-8")
    write_metrics(staging, metrics.evaluation, metrics.gate)
    # Swap in the new model only when it is complete, so a reader never sees half a model.
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(out_dir)
    return out_dir, str(card["model_version"])


def build_model_artifacts(out_dir: Path, *, lake_root: str | Path | None = None, quick: bool = False,
                          storage_options: dict[str, str] | None = None, tracking_dir: Path | None = None,
                          progress: Callable[[str], None] | None = None, dataset: Dataset | None = None,
                          gate_config: GateConfig | None = None, n_jobs: int | None = None) -> Path:
    """Build the lake tables, cross-validate candidate and both baselines, gate, train and export the model
    folder. Returns `out_dir`. `quick` runs the config's quick_repeats instead of repeats (same gate). The
    gate's settings default to gate.yml under the declaration's own. Raises GateRejected if the candidate is
    not promoted (the champion in `out_dir` stays)."""
    say = progress or (lambda _line: None)
    ds = dataset or datasets.active()
    out_dir = Path(out_dir)
    config = gate_config or load_config(dataset=ds)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    say(f"[1/4] prep: {ds.name} ({Path(ds.origin).name}): bronze -> silver -> gold")
    report = run_prep(lake_root, storage_options=storage_options, dataset=ds)
    for line in report.lines():
        say("      " + line)
    gold = load_gold(lake_root, storage_options, dataset=ds)
    timings["prep_s"] = time.perf_counter() - start

    start = time.perf_counter()
    repeats = int(config.value("quick_repeats" if quick else "repeats"))
    say(f"[2/4] evaluate: candidate vs linear and strong baselines, {repeats}x repeated "
        f"{int(config.value('folds'))}-fold CV on {len(gold)} rows (seeds from {int(config.value('first_seed'))})")
    metrics = evaluate_gold(gold, ds, config=config, quick=quick, champion=champion_of(out_dir, say), n_jobs=n_jobs)
    timings["evaluate_s"] = time.perf_counter() - start
    say(metrics.summary())

    tracking = tracking_dir or out_dir.parent / "mlruns"
    params = {"quick": quick, "dataset": ds.name}
    if not metrics.gate.promoted:
        log_run(tracking, metrics, params=params, model_dir=None)
        raise GateRejected(metrics.gate)

    start = time.perf_counter()
    say(f"[3/4] train + [4/4] export: candidate on all of gold -> ONNX + MLflow model + card in {out_dir}")
    _, version = export_model(gold, ds, metrics, out_dir)
    timings["train_export_s"] = time.perf_counter() - start
    log_run(tracking, metrics, params={**params, **timings}, model_dir=out_dir)
    say(f"      model {version} written ({', '.join(f'{k} {v:.1f}' for k, v in timings.items())})")
    return out_dir


def _card(dataset: Dataset, metrics: MetricsFile, created: datetime, digest: str, encoding: dict[str, Any]
          ) -> dict[str, Any]:
    interval = metrics.evaluation.price_interval
    return {
        "model_name": ML_MODEL_NAME,
        "model_version": f"{created:%Y%m%d.%H%M%S}.{digest}",
        "created_at": created.isoformat(timespec="seconds"),
        "description": dataset.spec.description,
        "training_rows": metrics.evaluation.rows,
        "dataset": dataset.card(),
        "features": feature_card(dataset),
        "onnx": {"file": ONNX_FILE, "input": ONNX_INPUT, "output": ONNX_OUTPUT, "encoding": encoding},
        # The same figures and decision as metrics.json (mean, spread and interval per metric).
        "evaluation": json.loads(metrics.evaluation.model_dump_json()),
        "gate": json.loads(metrics.gate.model_dump_json()),
        "notes": {"intervals": INTERVAL_NOTE, "models": dict(metrics.evaluation.models)},
        "price_interval": {"quantiles": list(interval.quantiles), "ratio_low": round(interval.ratio_low, 4),
                           "ratio_high": round(interval.ratio_high, 4)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="prep -> evaluate -> gate -> train -> export the model")
    parser.add_argument("--out", type=Path, default=None,
                        help="output folder: the model goes to <out>/model, the lake to <out>/lake, MLflow runs to "
                             "<out>/mlruns (default: ml/outputs in the checkout)")
    parser.add_argument("--lake-root", default=None, help="folder or abfss:// URI (default <out>/lake)")
    parser.add_argument("--dataset", type=Path, default=None, help="a data set declaration (default: CARPRICE_DATASET "
                                                                    "or ml/data/automobile.yml)")
    parser.add_argument("--gate", type=Path, default=None, help="a gate file whose settings override the defaults "
                                                                 "and the declaration's")
    parser.add_argument("--jobs", type=int, default=None, help="parallel fits during evaluation (default 2)")
    parser.add_argument("--quick", action="store_true", help="the gate config's quick_repeats instead of repeats")
    args = parser.parse_args(argv)
    out = args.out or DEFAULT_MODEL_DIR.parent
    try:
        dataset = datasets.load(args.dataset) if args.dataset else datasets.active()
        config = load_config(dataset=dataset, override=args.gate)
        build_model_artifacts(out / "model", lake_root=args.lake_root or (out / "lake" if args.out else None),
                              quick=args.quick, tracking_dir=out / "mlruns", dataset=dataset, gate_config=config,
                              n_jobs=args.jobs, progress=lambda line: print(line, flush=True))
    except GateRejected as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (datasets.DatasetError, GateFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
