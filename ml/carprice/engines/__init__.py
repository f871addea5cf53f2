"""Prep engines: the set-level steps of medallion prep, once per engine, side by side.

Every engine runs the same row logic (ml/carprice/rows.py) and differs only in how it lists and reads
landed files, deduplicates, inserts new bronze rows and recomputes silver and gold:

- `local` (ml/carprice/engines/local.py): Arrow and delta-rs in one process; the default, what the local
  twin, `make train` and the unit tests run.
- `spark` (ml/carprice/engines/spark.py): Apache Spark, the row logic through Arrow batches (`mapInArrow`);
  what the Databricks prep job runs.

The engine is chosen by `CARPRICE_PREP_ENGINE` (the environment's `prep.engine`, or `make train
PREP_ENGINE=spark`).
"""

from __future__ import annotations

import os

from ml.carprice.engines.base import Engine, Ingested, Refined

__all__ = ["ENGINES", "ENGINE_ENV", "Engine", "Ingested", "Refined", "configured"]

ENGINE_ENV = "CARPRICE_PREP_ENGINE"
ENGINES = ("local", "spark")


def configured(name: str | None = None) -> Engine:
    """The engine `name` (default: `CARPRICE_PREP_ENGINE`, else local); a clear error for an unknown name."""
    chosen = (name or os.environ.get(ENGINE_ENV) or "local").strip().lower()
    if chosen == "local":
        from ml.carprice.engines.local import LocalEngine

        return LocalEngine()
    if chosen == "spark":
        from ml.carprice.engines.spark import SparkEngine

        return SparkEngine.local_session()
    raise ValueError(f"{ENGINE_ENV}={chosen!r}: the prep engine must be one of {', '.join(ENGINES)}")
