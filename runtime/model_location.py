"""Where a deployed app finds its model folder: the `model/` folder a package ships at its root (the packagers
put it there), else the folder `make train` writes in the repository."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGED_MODEL_DIR = ROOT / "model"
TRAINED_MODEL_DIR = ROOT / "ml" / "outputs" / "model"


def default_model_dir() -> Path:
    return PACKAGED_MODEL_DIR if (PACKAGED_MODEL_DIR / "model.onnx").is_file() else TRAINED_MODEL_DIR
