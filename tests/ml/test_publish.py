"""A batch run's predictions reach the Cosmos DB batch container once, with the run's id (emulator)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.carprice.batch import score_file
from ml.carprice.prep import DEFAULT_SOURCE
from ml.carprice.publish import batch_container, publish_folder
from tools.local.emulators import CosmosEmulator

pytestmark = pytest.mark.slow


def test_a_batch_jobs_output_folder_is_published_once_with_its_run_id(model_dir: Path, tmp_path: Path) -> None:
    # A batch job's output: one predictions.csv per input file, in a folder per file.
    lines = DEFAULT_SOURCE.read_text().splitlines()
    for name, chunk in (("first", lines[1:11]), ("second", lines[11:21])):
        (tmp_path / f"{name}.csv").write_text("\n".join([lines[0], *chunk]) + "\n")
        score_file(model_dir, tmp_path / f"{name}.csv", tmp_path / "out" / name / "predictions.csv")
    with CosmosEmulator() as cosmos:
        report = publish_folder(tmp_path / "out", "batch-job-7", cosmos.endpoint, cosmos.key, emulator=True)
        again = publish_folder(tmp_path / "out", "batch-job-7", cosmos.endpoint, cosmos.key, emulator=True)
        container = batch_container(cosmos.endpoint, cosmos.key, emulator=True)
        docs = list(container.query_items("SELECT * FROM c", enable_cross_partition_query=True))
    assert report == again and report.rows == 20 and report.priced + report.failed == 20
    assert len(docs) == 20 and {d["run_id"] for d in docs} == {"batch-job-7"}
    assert all(d["price"] is None or d["price_low"] <= d["price"] <= d["price_high"] for d in docs)
