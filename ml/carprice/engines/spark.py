"""The Spark prep engine: the same row logic (ml/carprice/rows.py) on each Arrow batch of a partition
(`mapInArrow`), and the set-level steps as Spark operations.

Where tables live is one small interface (`SparkTables`), because Spark's own Delta writer needs Delta Lake's
jars: on Databricks (`SparkDeltaTables`) the runtime ships them and Unity Catalog's external location grants
the lake; on a machine that cannot download them (tests, `make bench-prep`) `DeltaRsTables` moves Arrow
between Spark and delta-rs, the library the single-node engine writes with. Either way the tables are Delta.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from contract import LAKE_CAPTURE_FOLDER, LAKE_FEEDS_FOLDER
from ml.carprice import rows
from ml.carprice.dataset import Dataset, from_card
from ml.carprice.engines.base import Ingested, Refined
from ml.carprice.ingest import CAPTURE_SUFFIX, FEED_SUFFIXES, LAYER, LandedFile
from ml.carprice.lake import Lake

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

Batches = Callable[[Iterable[pa.RecordBatch]], Iterable[pa.RecordBatch]]
# The local session's size: what the benchmark's memory bound (JVM included) is measured against.
LOCAL_DRIVER_MEMORY = os.environ.get("CARPRICE_SPARK_DRIVER_MEMORY", "3g")


class SparkTables(Protocol):
    def exists(self, layer: str, table: str) -> bool: ...

    def read_arrow(self, layer: str, table: str) -> pa.Table: ...

    def append_arrow(self, layer: str, table: str, data: pa.Table, key: str) -> int: ...

    def read(self, layer: str, table: str) -> DataFrame: ...

    def insert_new(self, layer: str, table: str, frame: DataFrame, schema: pa.Schema, key: str) -> int: ...

    def overwrite(self, layer: str, table: str, frame: DataFrame, schema: pa.Schema) -> None: ...


class DeltaRsTables:
    """Delta tables written by delta-rs from Arrow the driver collects: for local mode, where Delta's Spark
    jars cannot be downloaded. Same tables, same merge, same skip-if-unchanged as the single-node engine."""

    def __init__(self, spark: SparkSession, lake: Lake) -> None:
        self.spark, self.lake = spark, lake

    def exists(self, layer: str, table: str) -> bool:
        return self.lake.exists(layer, table)

    def read(self, layer: str, table: str) -> DataFrame:
        return self.spark.createDataFrame(self.lake.read_arrow(layer, table))

    def read_arrow(self, layer: str, table: str) -> pa.Table:
        return self.lake.read_arrow(layer, table)

    def append_arrow(self, layer: str, table: str, data: pa.Table, key: str) -> int:
        return self.lake.append_new(layer, table, data, data.schema, key=key)

    def insert_new(self, layer: str, table: str, frame: DataFrame, schema: pa.Schema, key: str) -> int:
        data = frame.toArrow()
        return self.lake.append_new(layer, table, data, schema, key=key) if data.num_rows else 0

    def overwrite(self, layer: str, table: str, frame: DataFrame, schema: pa.Schema) -> None:
        self.lake.overwrite(layer, table, frame.toArrow().sort_by(rows.ID), schema)


class SparkDeltaTables:
    """Spark's own Delta reader and writer (Databricks Runtime), at the lake's abfss:// URIs."""

    def __init__(self, spark: SparkSession, lake: Lake) -> None:
        self.spark, self.lake = spark, lake

    def exists(self, layer: str, table: str) -> bool:
        from delta.tables import DeltaTable

        return bool(DeltaTable.isDeltaTable(self.spark, self.lake.uri(layer, table)))

    def read(self, layer: str, table: str) -> DataFrame:
        return self.spark.read.format("delta").load(self.lake.uri(layer, table))

    def read_arrow(self, layer: str, table: str) -> pa.Table:
        return self.read(layer, table).toArrow()

    def append_arrow(self, layer: str, table: str, data: pa.Table, key: str) -> int:
        frame = self.spark.createDataFrame(data, schema=spark_schema(data.schema))
        return self.insert_new(layer, table, frame, data.schema, key)

    def insert_new(self, layer: str, table: str, frame: DataFrame, schema: pa.Schema, key: str) -> int:
        from delta.tables import DeltaTable

        uri = self.lake.uri(layer, table)
        if not self.exists(layer, table):
            frame.write.format("delta").save(uri)
            metric = "numOutputRows"
        else:
            (DeltaTable.forPath(self.spark, uri).alias("t").merge(frame.alias("s"), f"t.{key} = s.{key}")
             .whenNotMatchedInsertAll().execute())
            metric = "numTargetRowsInserted"
        last = DeltaTable.forPath(self.spark, uri).history(1).select("operationMetrics").first()
        return int((last[0] or {}).get(metric, 0)) if last else 0

    def overwrite(self, layer: str, table: str, frame: DataFrame, schema: pa.Schema) -> None:
        uri = self.lake.uri(layer, table)
        if self.exists(layer, table):  # unchanged content: no new table version
            current = self.read(layer, table)
            if current.exceptAll(frame).isEmpty() and frame.exceptAll(current).isEmpty():
                return
        frame.write.format("delta").mode("overwrite").option("overwriteSchema", "true").save(uri)


def spark_schema(schema: pa.Schema) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(schema)


def _parse_batches(card: dict[str, Any], stamp: datetime, relative: dict[str, tuple[str, str]]) -> Batches:
    """binaryFile rows (path, content) -> landed rows, by the row logic the single-node engine runs."""

    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        dataset = from_card(card)
        for batch in batches:
            paths = [relative[p] for p in batch.column("path").to_pylist()]
            files = pa.Table.from_pydict({
                "path": [p for p, _ in paths], "kind": [k for _, k in paths], "content": batch.column("content"),
            }, schema=rows.FILES_SCHEMA)
            yield from rows.parse_files(files, dataset, stamp).to_batches()

    return run


def _validate_batches(card: dict[str, Any]) -> Batches:
    def run(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        dataset = from_card(card)
        for batch in batches:
            yield from rows.validate(batch, dataset).to_batches()

    return run


class SparkEngine:
    name = "spark"

    def __init__(self, spark: SparkSession, tables: Callable[[Lake], SparkTables]) -> None:
        self.spark = spark
        self._tables = tables

    @classmethod
    def local_session(cls, cores: int | None = None) -> SparkEngine:
        """Spark in local mode on this machine (tests, benchmark), tables through delta-rs."""
        from pyspark.sql import SparkSession

        # Spark's Python workers run this interpreter (its packages), not whatever `python3` is on PATH.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        if not os.environ.get("JAVA_HOME"):  # Spark 4.0 runs on Java 17 or 21: Debian's JDK when installed
            found = [*sorted(glob.glob("/usr/lib/jvm/java-17-openjdk-*")),
                     *sorted(glob.glob("/usr/lib/jvm/java-21-openjdk-*"))]
            if found:
                os.environ["JAVA_HOME"] = found[0]
        spark = (
            SparkSession.builder.master(f"local[{cores or '*'}]").appName("carprice-prep")
            .config("spark.driver.memory", LOCAL_DRIVER_MEMORY)
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", str(2 * (cores or os.cpu_count() or 2)))
            .config("spark.ui.enabled", "false")
            .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
            .config("spark.sql.execution.arrow.pyspark.enabled", "true")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        return cls(spark, lambda lake: DeltaRsTables(spark, lake))

    @classmethod
    def databricks(cls) -> SparkEngine:
        """The job cluster's session, tables through Spark's Delta writer."""
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        return cls(spark, lambda lake: SparkDeltaTables(spark, lake))

    # --- landed files ---------------------------------------------------------------------------------
    def _root(self, lake: Lake) -> str:
        """The bronze layer's folder as Hadoop writes it (the prefix of every binaryFile path)."""
        base = lake.uri(LAYER, "_").rsplit("/", 1)[0]
        jvm = self.spark.sparkContext._jvm
        assert jvm is not None
        path = jvm.org.apache.hadoop.fs.Path(base)
        filesystem = path.getFileSystem(self.spark.sparkContext._jsc.hadoopConfiguration())  # type: ignore[union-attr]
        return str(filesystem.makeQualified(path).toString()).rstrip("/")

    def list_landed(self, lake: Lake) -> list[LandedFile]:
        from pyspark.errors import AnalysisException

        root = self._root(lake)
        found: list[LandedFile] = []
        for kind, folder, suffixes in (("feed", LAKE_FEEDS_FOLDER, FEED_SUFFIXES),
                                       ("capture", LAKE_CAPTURE_FOLDER, (CAPTURE_SUFFIX,))):
            try:
                listing = (self.spark.read.format("binaryFile").option("recursiveFileLookup", "true")
                           .load(f"{root}/{folder}").select("path", "length", "modificationTime").collect())
            except AnalysisException as exc:  # no such folder yet: nothing landed there
                if "PATH_NOT_FOUND" in str(exc) or "does not exist" in str(exc):
                    continue
                raise
            for row in sorted(listing, key=lambda r: r.path):
                if row.path.lower().endswith(suffixes):
                    modified = row.modificationTime.replace(tzinfo=UTC).isoformat()
                    found.append(LandedFile(kind, row.path[len(root) + 1:], int(row.length), modified))
        return found

    def digests(self, lake: Lake, files: list[LandedFile]) -> dict[str, str]:
        from pyspark.sql import functions as F

        root = self._root(lake)
        hashed = (self.spark.read.format("binaryFile").load([f"{root}/{f.path}" for f in files])
                  .select("path", F.sha2("content", 256).alias("sha256")).collect())
        return {row.path[len(root) + 1:]: row.sha256 for row in hashed}

    # --- tables ---------------------------------------------------------------------------------------
    def exists(self, lake: Lake, layer: str, table: str) -> bool:
        return self._tables(lake).exists(layer, table)

    def read_small(self, lake: Lake, layer: str, table: str) -> pa.Table | None:
        tables = self._tables(lake)
        return tables.read_arrow(layer, table) if tables.exists(layer, table) else None

    def append_small(self, lake: Lake, layer: str, table: str, data: pa.Table, key: str) -> int:
        return self._tables(lake).append_arrow(layer, table, data, key) if data.num_rows else 0

    # --- the set-level steps --------------------------------------------------------------------------
    def ingest(self, lake: Lake, dataset: Dataset, files: list[LandedFile], seed: pa.Table | None,
               stamp: datetime) -> Ingested:
        from pyspark.sql import functions as F

        schema = rows.landed_schema(dataset)
        parts: list[DataFrame] = []
        if files:
            root = self._root(lake)
            relative = {f"{root}/{f.path}": (f.path, f.kind) for f in files}
            content = self.spark.read.format("binaryFile").load(list(relative)).select("path", "content")
            parts.append(content.mapInArrow(_parse_batches(dataset.card(), stamp, relative), spark_schema(schema)))
        if seed is not None:
            parts.append(self.spark.createDataFrame(seed, schema=spark_schema(schema)))
        if not parts:
            return Ingested(0, {}, [])
        landed = parts[0]
        for part in parts[1:]:
            landed = landed.unionByName(part)
        landed = landed.cache()
        try:
            bronze = landed.where(F.col(rows.REASON).isNull()).drop(rows.REASON)
            inserted = self._tables(lake).insert_new("bronze", dataset.table, bronze, rows.bronze_schema(dataset),
                                                     "bronze_id")
            counts = landed.groupBy("source").agg(F.count("line").alias("records"),
                                                  F.count(rows.REASON).alias("unreadable")).collect()
            bad = landed.where(F.col(rows.REASON).isNotNull()).select("source", "line", rows.REASON).collect()
        finally:
            landed.unpersist()
        return Ingested(inserted, {r.source: (r.records, r.unreadable) for r in counts},
                        [(r.source, r.line, r[rows.REASON]) for r in bad])

    def refine(self, lake: Lake, dataset: Dataset) -> Refined:
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        tables = self._tables(lake)
        bronze = tables.read("bronze", dataset.table)
        # First sighting of each row id (by source, line) is the one kept.
        first = Window.partitionBy(rows.ID).orderBy("source", "line", "bronze_id")
        deduplicated = (bronze.select("bronze_id", "source", rows.ID, "line", *rows.columns(dataset))
                        .withColumn("_n", F.row_number().over(first)).where("_n = 1").drop("_n", "bronze_id"))
        validated = deduplicated.mapInArrow(
            _validate_batches(dataset.card()), spark_schema(rows.validated_schema(dataset))).cache()
        try:
            by_status = {r[rows.STATUS]: r["count"] for r in validated.groupBy(rows.STATUS).count().collect()}
            silver_schema = rows.silver_schema(dataset)

            def part(status: str, schema: pa.Schema) -> DataFrame:
                return validated.where(F.col(rows.STATUS) == status).select(*schema.names)

            silver = part(rows.GOOD, silver_schema)
            tables.overwrite("silver", dataset.table, silver, silver_schema)
            tables.overwrite("silver", f"{dataset.table}_unlabelled", part(rows.UNLABELLED, silver_schema),
                             silver_schema)
            tables.overwrite("silver", f"{dataset.table}_rejected", part(rows.REJECTED, rows.REJECTED_SCHEMA),
                             rows.REJECTED_SCHEMA)
            tables.overwrite("gold", dataset.gold_table, silver, silver_schema)
            bronze_rows = bronze.count()
        finally:
            validated.unpersist()
        kept = sum(by_status.values())
        return Refined(bronze_rows, bronze_rows - kept, by_status.get(rows.GOOD, 0),
                       by_status.get(rows.UNLABELLED, 0), by_status.get(rows.REJECTED, 0))
