"""Both prep engines turn the same landed files into the same gold table: Spark (local mode, the Databricks
job's engine) against the single-node engine, on feeds and capture files with duplicates, invalid, unpriced
and unreadable records. One JVM for the module, in its own xdist group."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from benchmarks.listings import land
from ml.carprice import engines, rows
from ml.carprice.ingest import FILES_TABLE
from ml.carprice.ingest import REJECTED_TABLE as INGEST_REJECTED
from ml.carprice.lake import Lake
from ml.carprice.prep import GOLD_TABLE, REJECTED_TABLE, TABLE, UNPRICED_TABLE, run_prep

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("spark")]
LISTINGS = 1_500
WHEN = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def spark_engine() -> Iterator[engines.Engine]:
    pytest.importorskip("pyspark")
    from ml.carprice.engines.spark import SparkEngine

    engine = SparkEngine.local_session(cores=2)
    yield engine
    engine.spark.stop()


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("landed")
    land(root / "bronze", LISTINGS, rows_per_file=300)
    return root


def lake_copy(landed: Path, target: Path) -> Path:
    shutil.copytree(landed, target)
    return target


def test_spark_and_single_node_prep_give_the_same_gold_and_a_spark_rerun_changes_nothing(
        landed: Path, tmp_path: Path, spark_engine: engines.Engine) -> None:
    local_root, spark_root = lake_copy(landed, tmp_path / "local"), lake_copy(landed, tmp_path / "spark")
    by_local = run_prep(local_root, source=None, engine="local", now=WHEN)
    by_spark = run_prep(spark_root, source=None, engine=spark_engine, now=WHEN)
    assert by_spark == by_local
    # The input exercises every path: duplicates, rejections, rows without a price, unreadable records.
    assert by_local.duplicates_removed > 0 and by_local.rejected > 0 and by_local.unpriced > 0
    assert by_local.bronze_inserted == by_local.bronze_rows > by_local.gold_rows > 0

    local, spark = Lake.at(local_root), Lake.at(spark_root)
    for layer, table in (("gold", GOLD_TABLE), ("silver", UNPRICED_TABLE), ("silver", REJECTED_TABLE),
                         ("bronze", TABLE)):
        assert rows.checksum(spark.read_arrow(layer, table)) == rows.checksum(local.read_arrow(layer, table)), table
    unreadable = local.read_arrow("bronze", INGEST_REJECTED)
    assert unreadable.num_rows == spark.read_arrow("bronze", INGEST_REJECTED).num_rows > 0
    assert local.read_arrow("bronze", FILES_TABLE).num_rows == spark.read_arrow("bronze", FILES_TABLE).num_rows

    versions = {(layer, t): spark.version(layer, t) for layer, t in (("bronze", TABLE), ("gold", GOLD_TABLE))}
    again = run_prep(spark_root, source=None, engine=spark_engine, now=WHEN)
    assert (again.bronze_inserted, again.source_rows, again.gold_rows) == (0, 0, by_spark.gold_rows)
    assert {k: spark.version(*k) for k in versions} == versions


def test_an_unknown_engine_is_refused_with_the_setting_named() -> None:
    with pytest.raises(ValueError, match="CARPRICE_PREP_ENGINE='flink'.*local, spark"):
        engines.configured("flink")
