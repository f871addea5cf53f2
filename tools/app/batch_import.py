"""Loads a batch scoring run's predictions.csv (written by ml.carprice.batch.score_file) into the Cosmos DB
batch-results container, so the batch page serves precomputed prices without calling the model.

Idempotent: a row's id is its car id and model version, so importing the same file twice (or a re-run
with the same model) overwrites rather than duplicates. Every row of a run carries the run's id and
time; the page shows the run with the latest time.

    python -m tools.app.batch_import path/to/predictions.csv     (Cosmos endpoint from CARPRICE_COSMOS_ENDPOINT)
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from app.settings import Settings
from app.store.cosmos import CosmosStore
from ml.carprice.schema import NUMERIC_FEATURES

_NUMBERS = (*NUMERIC_FEATURES, "price", "price_low", "price_high")
_ID_UNSAFE = re.compile(r"[/\\?#\s]+")  # characters Cosmos DB does not allow in an id


@dataclass(frozen=True)
class ImportReport:
    run_id: str
    model_version: str
    scored_at: str
    rows: int
    priced: int
    failed: int


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


def _errors(text: str) -> list[dict] | None:
    """The error column is a JSON list of {field, reason}; keep it structured for the page."""
    if not text.strip():
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return [{"field": "(row)", "reason": text}]
    return parsed if isinstance(parsed, list) else [{"field": "(row)", "reason": str(parsed)}]


def read_predictions(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def to_documents(rows: list[dict]) -> tuple[list[dict], ImportReport]:
    if not rows:
        raise ValueError("the predictions file has no rows")
    scored_at = max(r.get("scored_at") or "" for r in rows)
    versions = sorted({r.get("model_version") or "unknown" for r in rows})
    model_version = versions[-1]
    run_id = f"{model_version}@{scored_at}"
    docs = []
    for row in rows:
        doc: dict = {k: (v if v != "" else None) for k, v in row.items()}
        doc.update({k: _number(row.get(k) or "") for k in _NUMBERS if k in row})
        car_id = str(row["car_id"])
        doc |= {
            "id": _ID_UNSAFE.sub("_", f"{car_id}.{row.get('model_version') or model_version}"),
            "car_id": car_id,
            "make": row.get("make") or "unknown",  # the partition key must be a string even for a bad row
            "run_id": run_id,
            "scored_at": scored_at,
            "row_scored_at": row.get("scored_at"),
            "error": _errors(row.get("error") or ""),
        }
        docs.append(doc)
    docs = list({d["id"]: d for d in docs}.values())  # identical cars share an id: keep one
    failed = sum(1 for d in docs if d["error"])
    return docs, ImportReport(run_id, model_version, scored_at, len(docs), len(docs) - failed, failed)


def import_predictions(store: CosmosStore, path: Path, parallel: int = 8) -> ImportReport:
    docs, report = to_documents(read_predictions(path))
    store.ensure_containers()
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(store.upsert_batch_result, docs))  # list(): surface the first failure
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions_csv", type=Path)
    args = parser.parse_args(argv)
    store = CosmosStore(Settings())
    try:
        report = import_predictions(store, args.predictions_csv)
    finally:
        store.close()
    print(f"imported run {report.run_id}: {report.priced} priced, {report.failed} not priced")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
