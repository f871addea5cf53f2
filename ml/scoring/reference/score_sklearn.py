"""What a default deployment does (benchmark reference only): load the MLflow scikit-learn pipeline
and predict on a pandas DataFrame built from the JSON body, without validation."""

from __future__ import annotations

import json
import os
from pathlib import Path

import mlflow.sklearn
import pandas as pd

model = None


def init() -> None:
    global model
    root = Path(os.environ["AZUREML_MODEL_DIR"])
    folder = root / "mlflow" if (root / "mlflow").exists() else next(root.glob("*/mlflow"))
    model = mlflow.sklearn.load_model(str(folder))


def run(raw: str) -> list[float]:
    if model is None:
        raise RuntimeError("init() loads the model before run() is called")
    body = json.loads(raw)
    rows = body.get("data", body) if isinstance(body, dict) else body
    return [float(p) for p in model.predict(pd.DataFrame(rows if isinstance(rows, list) else [rows]))]
