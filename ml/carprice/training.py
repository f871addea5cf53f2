"""prep -> train -> evaluate -> export: the one function every caller uses (`make train`, the Azure ML
pipeline's steps run the same modules, other areas' tests build a model with `quick=True`)."""

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

from contract import ML_MODEL_NAME
from ml.carprice import model as models
from ml.carprice.evaluate import (
    INTERVAL_QUANTILES,
    MAE_RATIO_LIMIT,
    R2_TARGET,
    Evaluation,
    GateDecision,
    cross_validate,
    gate,
)
from ml.carprice.export import (
    CARD_FILE,
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
from ml.carprice.lake import ML_ROOT
from ml.carprice.prep import load_gold, run_prep
from ml.carprice.tracking import log_run

DEFAULT_MODEL_DIR = ML_ROOT / "outputs" / "model"
FULL_REPEATS, QUICK_REPEATS = 3, 1


class GateRejected(RuntimeError):
    """The candidate did not pass the promotion gate; the champion (if any) stays in place."""

    def __init__(self, decision: GateDecision) -> None:
        super().__init__("candidate not promoted: " + "; ".join(decision.reasons))
        self.decision = decision


def _champion_mae(model_dir: Path) -> float | None:
    card_path = model_dir / CARD_FILE
    if not card_path.exists():
        return None
    card = json.loads(card_path.read_text())
    return float(card["metrics"]["candidate"]["mae"])


def metrics_table(evaluation: Evaluation, decision: GateDecision) -> str:
    rows = [("candidate", evaluation.candidate), ("baseline (linear regression)", evaluation.baseline)]
    lines = [f"{'model':<30}{'MAE':>10}{'RMSE':>10}{'R²':>8}   ({evaluation.repeats}x repeated 5-fold CV)"]
    lines += [f"{name:<30}{m.mae:>10,.0f}{m.rmse:>10,.0f}{m.r2:>8.3f}" for name, m in rows]
    verdict = "PROMOTED" if decision.promoted else "REJECTED"
    lines.append(f"gate: {verdict} — " + "; ".join(decision.reasons))
    return "\n".join(lines)


def build_model_artifacts(out_dir: Path, *, lake_root: str | Path | None = None, quick: bool = False,
                          storage_options: dict[str, str] | None = None, tracking_dir: Path | None = None,
                          progress: Callable[[str], None] | None = None) -> Path:
    """Build the lake tables, train, cross-validate against the baseline, gate, and export the model
    directory (model.onnx, model_card.json, mlflow/). Returns `out_dir`. `quick` runs one CV repeat
    instead of three (same gate). Raises GateRejected if the candidate is not promoted."""
    say = progress or (lambda _line: None)
    out_dir = Path(out_dir)
    timings: dict[str, float] = {}

    start = time.perf_counter()
    say("[1/4] prep: bronze -> silver -> gold")
    report = run_prep(lake_root, storage_options=storage_options)
    for line in report.lines():
        say("      " + line)
    gold = load_gold(lake_root, storage_options)
    x, y = models.features_frame(gold), models.target(gold)
    timings["prep_s"] = time.perf_counter() - start

    start = time.perf_counter()
    repeats = QUICK_REPEATS if quick else FULL_REPEATS
    say(f"[2/4] evaluate: candidate vs baseline, {repeats}x repeated 5-fold CV on {len(x)} cars")
    evaluation = cross_validate(models.candidate(), models.baseline(), x, y, repeats=repeats)
    decision = gate(evaluation, _champion_mae(out_dir))
    timings["evaluate_s"] = time.perf_counter() - start
    say(metrics_table(evaluation, decision))

    start = time.perf_counter()
    say("[3/4] train: candidate on all of gold")
    fitted = models.candidate().fit(x, y)
    timings["train_s"] = time.perf_counter() - start

    tracking = tracking_dir or out_dir.parent / "mlruns"
    if not decision.promoted:
        log_run(tracking, evaluation, decision, params={"quick": quick}, model_dir=None)
        raise GateRejected(decision)

    start = time.perf_counter()
    say(f"[4/4] export: ONNX + MLflow model + card -> {out_dir}")
    staging = Path(tempfile.mkdtemp(prefix="model-", dir=out_dir.parent if out_dir.parent.exists() else None))
    onnx_bytes = to_onnx_model(fitted).SerializeToString()
    (staging / ONNX_FILE).write_bytes(onnx_bytes)
    save_mlflow(fitted, x, staging / MLFLOW_DIR)
    created = datetime.now(UTC)
    card = _card(evaluation, decision, created, hashlib.sha256(onnx_bytes).hexdigest()[:8], len(x), quick,
                 encoding_card(fitted))
    write_card(staging, card)
    (staging / "metrics.json").write_text(json.dumps(card["metrics"], indent=2) + "\n")
    # Swap in the new model only when it is complete, so a reader never sees half a model.
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging.rename(out_dir)
    timings["export_s"] = time.perf_counter() - start
    log_run(tracking, evaluation, decision, params={"quick": quick, **timings}, model_dir=out_dir)
    say(f"      model {card['model_version']} written ({', '.join(f'{k} {v:.1f}' for k, v in timings.items())})")
    return out_dir


def _card(evaluation: Evaluation, decision: GateDecision, created: datetime, digest: str, rows: int,
          quick: bool, encoding: dict[str, Any]) -> dict[str, Any]:
    low, high = evaluation.interval_ratios
    return {
        "model_name": ML_MODEL_NAME,
        "model_version": f"{created:%Y%m%d.%H%M%S}.{digest}",
        "created_at": created.isoformat(timespec="seconds"),
        "description": "Market price (USD) of a car from its attributes; UCI Automobile data (CC BY 4.0).",
        "training_rows": rows,
        "features": feature_card(),
        "onnx": {"file": ONNX_FILE, "input": ONNX_INPUT, "output": ONNX_OUTPUT, "encoding": encoding},
        "metrics": {
            "cv": {"folds": 5, "repeats": evaluation.repeats, "quick": quick},
            "candidate": evaluation.candidate.as_dict(),
            "baseline": evaluation.baseline.as_dict(),
        },
        "gate": {"mae_ratio_limit": MAE_RATIO_LIMIT, "r2_target": R2_TARGET, **decision.as_dict()},
        "price_interval": {"quantiles": list(INTERVAL_QUANTILES), "ratio_low": round(low, 4),
                           "ratio_high": round(high, 4)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="prep -> train -> evaluate -> export the car-price model")
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--lake-root", default=None, help="folder or abfss:// URI (default ml/outputs/lake)")
    parser.add_argument("--quick", action="store_true", help="one CV repeat instead of three")
    args = parser.parse_args(argv)
    try:
        build_model_artifacts(args.out, lake_root=args.lake_root, quick=args.quick,
                              progress=lambda line: print(line, flush=True))
    except GateRejected as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
