"""Batch endpoint driver: Azure ML calls `init()` once per worker and `run(mini_batch)` with a list of
input CSV files. Each file is scored into `<output>/<file stem>/predictions.csv` (the contract in
ml/carprice/batch.py); the deployment's output folder is the lake's gold `predictions/` path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

_PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])
if _PACKAGE_PARENT not in sys.path:
    sys.path.insert(0, _PACKAGE_PARENT)

from ml.carprice.batch import OUTPUT_FILE, score_file  # noqa: E402
from ml.carprice.pricer import Pricer  # noqa: E402
from ml.scoring.score import find_model_dir  # noqa: E402

# Set by Azure ML for batch deployments; a local run may set it too.
OUTPUT_ENV = "AZUREML_BI_OUTPUT_PATH"
pricer: Pricer | None = None
model_dir: Path | None = None


def init() -> None:
    global pricer, model_dir
    model_dir = find_model_dir(Path(os.environ["AZUREML_MODEL_DIR"]))
    pricer = Pricer.load(model_dir)


def run(mini_batch: list[str]) -> list[str]:
    """Returns one summary line per file (what `summary_only` output mode records)."""
    assert pricer is not None and model_dir is not None, "init() was not called"
    output_root = Path(os.environ.get(OUTPUT_ENV, "batch-output"))
    summary = []
    for name in mini_batch:
        source = Path(name)
        target = output_root / source.stem / OUTPUT_FILE
        rows = score_file(model_dir, source, target, pricer=pricer)
        summary.append(f"{source.name}: {rows} rows -> {target}")
    return summary
