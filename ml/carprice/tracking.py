"""Local MLflow tracking: one run per training with params, both models' CV metrics and the gate."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ml.carprice.evaluate import Evaluation, GateDecision

EXPERIMENT = "carprice"


def log_run(tracking_dir: Path, evaluation: Evaluation, decision: GateDecision, *, params: dict[str, Any],
            model_dir: Path | None) -> str:
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # A plain folder store: no database server or SQLAlchemy needed for a local record of runs.
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    import mlflow

    tracking_dir.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(tracking_dir.resolve().as_uri())
    mlflow.set_experiment(EXPERIMENT)
    with mlflow.start_run() as run:
        mlflow.log_params({"cv_repeats": evaluation.repeats, **params})
        for prefix, metrics in (("candidate", evaluation.candidate), ("baseline", evaluation.baseline)):
            mlflow.log_metrics({f"{prefix}_{k}": v for k, v in metrics.as_dict().items()})
        mlflow.log_metric("mae_ratio", evaluation.candidate.mae / evaluation.baseline.mae)
        mlflow.set_tags({"gate": "promoted" if decision.promoted else "rejected",
                         "gate_reasons": " | ".join(decision.reasons)})
        if model_dir is not None:
            mlflow.log_artifact(str(model_dir / "model_card.json"))
        return str(run.info.run_id)
