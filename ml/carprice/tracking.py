"""Local MLflow tracking: one run per training with params, both models' CV figures and the gate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ml.carprice.gate import MetricsFile

EXPERIMENT = "carprice"


def log_run(tracking_dir: Path, metrics: MetricsFile, *, params: dict[str, Any], model_dir: Path | None) -> str:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # A plain folder store: no database server or SQLAlchemy needed for a local record of runs.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    import mlflow

    evaluation = metrics.evaluation
    tracking_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_dir.resolve().as_uri())
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run() as run:
        mlflow.log_params({"cv_repeats": evaluation.cv.repeats, **params})
        for prefix, figures in (("candidate", evaluation.candidate), ("baseline", evaluation.baseline),
                                ("strong_baseline", evaluation.strong_baseline)):
            for name in ("mae", "rmse", "r2"):
                value = getattr(figures, name)
                mlflow.log_metrics({f"{prefix}_{name}": value.mean, f"{prefix}_{name}_std": value.std,
                                    f"{prefix}_{name}_low": value.low, f"{prefix}_{name}_high": value.high})
        ratio = evaluation.mae_ratio
        strong = evaluation.strong_mae_ratio
        mlflow.log_metrics({"mae_ratio": ratio.mean, "mae_ratio_low": ratio.low, "mae_ratio_high": ratio.high,
                            "strong_mae_ratio": strong.mean, "strong_mae_ratio_high": strong.high})
        if evaluation.grouped is not None:
            mlflow.log_metrics({"grouped_mae_ratio": evaluation.grouped.mae_ratio.mean,
                                "grouped_strong_mae_ratio": evaluation.grouped.strong_mae_ratio.mean,
                                "grouped_candidate_r2": evaluation.grouped.candidate.r2.mean})
        mlflow.set_tags({"gate": "promoted" if metrics.gate.promoted else "rejected",
                         "gate_reasons": " | ".join(metrics.gate.reasons)[:5000]})
        if model_dir is not None:
            mlflow.log_artifact(str(model_dir / "model_card.json"))
        return str(run.info.run_id)
