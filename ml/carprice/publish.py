"""Publish a batch scoring run (predictions.csv files from ml.carprice.batch) into the Cosmos DB
batch-results container, where the app's batch page reads the latest run.

One code path for Azure (`make ml-batch-score` publishes the batch endpoint's output after the job) and
the local twin (its batch run over the Azurite lake). Idempotent: a document's id is its car id and model
version, so publishing a run again (or a re-run with the same model) overwrites rather than duplicates.
Every document carries the run's id and scoring time; the page shows the run with the latest time.

The caller brings the credential (runtime.credentials.cosmos_credential picks it for an endpoint).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import contract
from ml.carprice.batch import OUTPUT_FILE
from ml.carprice.dataset import Dataset
from ml.carprice.schema import served_dataset

BATCH_PARTITION_FIELD = contract.BATCH_PARTITION_KEY.lstrip("/")

_ID_UNSAFE = re.compile(r"[/\\?#\s]+")  # characters Cosmos DB does not allow in an id


@dataclass(frozen=True)
class PublishReport:
    run_id: str
    model_version: str
    scored_at: str
    rows: int
    priced: int
    failed: int

    def line(self) -> str:
        return f"published run {self.run_id}: {self.priced} priced, {self.failed} not priced"


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
    """Rows of one predictions.csv, or of every predictions.csv under a folder (a batch job's output)."""
    files = sorted(path.rglob(OUTPUT_FILE)) if path.is_dir() else [path]
    rows: list[dict] = []
    for file in files:
        with file.open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def default_run_id(rows: list[dict]) -> str:
    """A run named by its model and scoring time, for runs that have no job name."""
    scored_at = max(r.get("scored_at") or "" for r in rows)
    model_version = sorted({r.get("model_version") or "unknown" for r in rows})[-1]
    return f"{model_version}@{scored_at}"


def to_documents(rows: list[dict], run_id: str | None = None,
                 dataset: Dataset | None = None) -> tuple[list[dict], PublishReport]:
    if not rows:
        raise ValueError("the batch run has no predictions")
    dataset = dataset or served_dataset()
    level = dataset.spec.level_column
    numbers = (*dataset.numeric, "price", "price_low", "price_high")
    scored_at = max(r.get("scored_at") or "" for r in rows)
    model_version = sorted({r.get("model_version") or "unknown" for r in rows})[-1]
    run_id = run_id or default_run_id(rows)
    docs = []
    for row in rows:
        doc: dict = {k: (v if v != "" else None) for k, v in row.items()}
        doc.update({k: _number(row.get(k) or "") for k in numbers if k in row})
        car_id = str(row["car_id"])
        doc |= {
            "id": _ID_UNSAFE.sub("_", f"{car_id}.{row.get('model_version') or model_version}"),
            "car_id": car_id,
            # the partition key must be a string even for a bad row
            BATCH_PARTITION_FIELD: (row.get(level) if level else None) or "unknown",
            "run_id": run_id,
            "scored_at": scored_at,
            "row_scored_at": row.get("scored_at"),
            "error": _errors(row.get("error") or ""),
        }
        docs.append(doc)
    docs = list({d["id"]: d for d in docs}.values())  # identical cars share an id: keep one
    failed = sum(1 for d in docs if d["error"])
    return docs, PublishReport(run_id, model_version, scored_at, len(docs), len(docs) - failed, failed)


def publish_rows(upsert: Callable[[dict], Any], rows: list[dict], run_id: str | None = None,
                 parallel: int = 8) -> PublishReport:
    """Upsert every document of the run (a few at a time: one round trip each); raises the first failure."""
    docs, report = to_documents(rows, run_id)
    with ThreadPoolExecutor(max_workers=parallel) as pool:
        list(pool.map(upsert, docs))
    return report


def batch_container(cosmos_endpoint: str, credential: Any, *, emulator: bool = False) -> Any:
    """The batch-results container. Azure: an Entra ID identity with data-plane access only (the data stack
    owns the container). The local emulator (`emulator`): self-signed TLS, and the container is created."""
    from azure.cosmos import CosmosClient, PartitionKey

    client = CosmosClient(cosmos_endpoint, credential=credential, connection_verify=not emulator)
    if emulator:
        database = client.create_database_if_not_exists(contract.COSMOS_DATABASE)
        return database.create_container_if_not_exists(
            contract.BATCH_CONTAINER, partition_key=PartitionKey(path=contract.BATCH_PARTITION_KEY))
    return client.get_database_client(contract.COSMOS_DATABASE).get_container_client(contract.BATCH_CONTAINER)


def publish_folder(path: Path, run_id: str | None, cosmos_endpoint: str, credential: Any, *,
                   emulator: bool = False) -> PublishReport:
    container = batch_container(cosmos_endpoint, credential, emulator=emulator)
    return publish_rows(container.upsert_item, read_predictions(path), run_id)
