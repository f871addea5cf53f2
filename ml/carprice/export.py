"""Export a fitted model: ONNX for fast serving, the MLflow model for registration and no-code
deployment, and the model card that records what the model is and how it was judged."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pandas as pd
from onnx import helper
from skl2onnx import to_onnx
from skl2onnx.common.data_types import FloatTensorType
from sklearn.compose import TransformedTargetRegressor

from ml.carprice import dataset as datasets
from ml.carprice.features import Encoding

ONNX_FILE = "model.onnx"
CARD_FILE = "model_card.json"
MLFLOW_DIR = "mlflow"
ML_PACKAGE = Path(__file__).resolve().parents[1]
ONNX_INPUT = "features"
ONNX_OUTPUT = "price"
# skops loads only types it is told to trust: scikit-learn's own estimators are trusted by default;
# these are the rest our pipeline holds (our encoder, and two scikit-learn internals).
SKOPS_TRUSTED_TYPES = ("ml.carprice.model.RowEncoder", "sklearn.tree._tree.Tree", "sklearn.utils._bunch.Bunch")
# The modules the MLflow model needs to import RowEncoder (shipped in its code/ folder, so a no-code
# deployment loads it without our repository).
MODEL_CODE = ("__init__.py", "carprice/__init__.py", "carprice/model.py", "carprice/features.py",
              "carprice/dataset.py", "carprice/declaration.py", "carprice/expressions.py")


def to_onnx_model(model: TransformedTargetRegressor) -> onnx.ModelProto:
    """The ensemble after the encoder, on one float tensor [N, width] (encoding runs in Python, see
    features.py); skl2onnx has no converter for TransformedTargetRegressor, so the inverse of a log
    target, Exp, is appended as one more node."""
    pipeline = model.regressor_
    encoder = pipeline.named_steps["encode"]
    dataset = datasets.from_card(encoder.declaration) if encoder.declaration else datasets.active()
    width = Encoding.from_dict(encoder.encoding_, dataset).width
    inner = to_onnx(pipeline.named_steps["ensemble"], initial_types=[(ONNX_INPUT, FloatTensorType([None, width]))],
                    target_opset={"": 17, "ai.onnx.ml": 3})
    graph = inner.graph
    log_output = graph.output[0]
    inverse = "Exp" if dataset.target.log else "Identity"
    graph.node.append(helper.make_node(inverse, [log_output.name], [ONNX_OUTPUT], name="inverse_target"))
    graph.output.remove(log_output)
    graph.output.append(helper.make_tensor_value_info(ONNX_OUTPUT, onnx.TensorProto.FLOAT, [None, 1]))
    onnx.checker.check_model(inner)
    return inner


def encoding_card(model: TransformedTargetRegressor) -> dict[str, Any]:
    """What serving needs to build the ONNX input from a car: the fitted encoder's state."""
    return dict(model.regressor_.named_steps["encode"].encoding_)


def feature_card(dataset: datasets.Dataset) -> dict[str, Any]:
    """The columns as a reader of the card wants them: required, allowed values or range, unit."""
    out: dict[str, Any] = {}
    for column in dataset.columns:
        entry: dict[str, Any] = {"type": column.type, "required": column.required, "label": column.label}
        if column.is_category:
            entry["allowed"] = list(column.values)
        elif column.minimum is not None:
            entry.update(min=column.minimum, max=column.maximum)
        if column.unit:
            entry["unit"] = column.unit
        out[column.name] = entry
    return out


def save_mlflow(model: TransformedTargetRegressor, example: pd.DataFrame, path: Path) -> None:
    import mlflow.sklearn  # imported here: only export needs MLflow
    from mlflow.models import infer_signature

    if path.exists():
        shutil.rmtree(path)
    signature = infer_signature(example, np.asarray(model.predict(example)))
    with tempfile.TemporaryDirectory() as staging:
        package = Path(staging) / "ml"
        for name in MODEL_CODE:
            (package / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ML_PACKAGE / name, package / name)
        # skops: MLflow's safe format (no pickle); save_model loads it back with exactly these trusted types.
        mlflow.sklearn.save_model(
            model, str(path), signature=signature, input_example=example.head(2), code_paths=[str(package)],
            serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_SKOPS, pip_requirements=_requirements(),
            skops_trusted_types=list(SKOPS_TRUSTED_TYPES),
        )


def _requirements() -> list[str]:
    """Pinned from this environment: inferring them makes MLflow load the model in a subprocess (~10 s)."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in ("scikit-learn", "skops", "numpy", "pandas", "pydantic")]


def write_card(model_dir: Path, card: dict[str, Any]) -> None:
    (model_dir / CARD_FILE).write_text(json.dumps(card, indent=2, sort_keys=False) + "\n")
