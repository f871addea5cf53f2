"""Export a fitted model: ONNX for fast serving, the MLflow model for registration and no-code
deployment, and the model card that records what the model is and how it was judged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType, StringTensorType
from sklearn.compose import TransformedTargetRegressor

from ml.carprice.schema import CATEGORICAL_FEATURES, FEATURES, REQUIRED_FEATURES, CarFeatures, allowed_values

ONNX_FILE = "model.onnx"
CARD_FILE = "model_card.json"
MLFLOW_DIR = "mlflow"
ONNX_OUTPUT = "price"


def onnx_input_types() -> list[tuple[str, Any]]:
    """One [N, 1] input per schema field: strings for categories, float32 for numbers (NaN = missing);
    float32 is also what sklearn trees compare in, so ONNX takes the same splits."""
    return [(name, StringTensorType([None, 1]) if name in CATEGORICAL_FEATURES else FloatTensorType([None, 1]))
            for name in FEATURES]


def to_onnx_model(model: TransformedTargetRegressor) -> onnx.ModelProto:
    """skl2onnx has no converter for TransformedTargetRegressor, so convert the inner pipeline (which
    predicts log price) and append the inverse transform, Exp, as one more node."""
    inner = to_onnx(model.regressor_, initial_types=onnx_input_types(), target_opset={"": 17, "ai.onnx.ml": 3})
    graph = inner.graph
    log_output = graph.output[0]
    log_name = log_output.name
    graph.node.append(helper.make_node("Exp", [log_name], [ONNX_OUTPUT], name="inverse_log"))
    graph.output.remove(log_output)
    graph.output.append(helper.make_tensor_value_info(ONNX_OUTPUT, onnx.TensorProto.FLOAT, [None, 1]))
    onnx.checker.check_model(inner)
    return inner


def feature_card() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, info in CarFeatures.model_fields.items():
        entry: dict[str, Any] = {"required": name in REQUIRED_FEATURES}
        if name in CATEGORICAL_FEATURES:
            entry["allowed"] = list(allowed_values(name))
        else:
            for meta in info.metadata:
                for attr in ("ge", "le"):
                    if getattr(meta, attr, None) is not None:
                        entry["min" if attr == "ge" else "max"] = getattr(meta, attr)
            nested = getattr(info.annotation, "__args__", ())
            for arg in nested:
                for meta in getattr(arg, "__metadata__", ()):
                    for attr in ("ge", "le"):
                        if getattr(meta, attr, None) is not None:
                            entry["min" if attr == "ge" else "max"] = getattr(meta, attr)
            if info.description:
                entry["unit"] = info.description
        out[name] = entry
    return out


def save_mlflow(model: TransformedTargetRegressor, example: pd.DataFrame, path: Path) -> None:
    import mlflow.sklearn  # imported here: only export needs MLflow
    from mlflow.models import infer_signature

    if path.exists():
        shutil.rmtree(path)
    signature = infer_signature(example, np.asarray(model.predict(example)))
    # skops is MLflow's safe default format; it loads only types it is told to trust.
    mlflow.sklearn.save_model(
        model, str(path), signature=signature, input_example=example.head(2),
        serialization_format="pickle",
    )


def write_card(model_dir: Path, card: dict[str, Any]) -> None:
    (model_dir / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
