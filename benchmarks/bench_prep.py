"""Prep benchmark: 1,000,000 deterministic synthetic listings (feeds and capture files, benchmarks/listings.py)
through medallion prep on Spark in local mode against the floor of the single-node engine, both measured in this
run on this machine, each in its own process (peak memory summed over the process tree, so the JVM and Spark's
Python workers count). Target: Spark >= 1.5x the floor's rows per second, the identical gold checksum, and a
peak of at most 8 GiB. Rows per second count the listings over prep's own run (JVM start-up reported apart).

`python -m benchmarks.bench_prep` runs both; `make bench-prep` calls it. LISTINGS=<n> runs a smaller size.
SPARK_ONE_CORE=1 also runs Spark on one core (`local[1]`) and prints its efficiency per core against the floor
and how it scales to every core: what the ratio on a machine with more cores can be read from.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.listings import land
from benchmarks.measure import measure

LISTINGS = int(os.environ.get("LISTINGS", "1000000"))
ROWS_PER_FILE = 20_000
TARGET_RATIO = 1.5
MEMORY_LIMIT_MIB = 8 * 1024
WHEN = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def run_engine(engine_name: str, lake: Path, result: Path) -> None:
    """One engine's prep over the landed lake (the measured child process)."""
    from ml.carprice import engines, rows
    from ml.carprice.lake import Lake
    from ml.carprice.prep import GOLD_TABLE, run_prep

    started = time.perf_counter()
    name, _, cores = engine_name.partition(":")
    if cores:
        from ml.carprice.engines.spark import SparkEngine

        engine: engines.Engine = SparkEngine.local_session(cores=int(cores))
    else:
        engine = engines.configured(name)
    ready = time.perf_counter() - started
    started = time.perf_counter()
    report = run_prep(lake, source=None, engine=engine, now=WHEN)
    seconds = time.perf_counter() - started
    checksum = rows.checksum(Lake.at(lake).read_arrow("gold", GOLD_TABLE))
    result.write_text(json.dumps({"seconds": seconds, "startup": ready, "checksum": checksum,
                                  "gold_rows": report.gold_rows, "rejected": report.rejected,
                                  "unlabelled": report.unpriced, "records": report.source_rows}))


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-prep-") as tmp:
        base = Path(tmp)
        print(f"  landing {LISTINGS:,} listings ...", flush=True)
        made = land(base / "landed" / "bronze", LISTINGS, ROWS_PER_FILE)
        print(f"  landed {sum(made.values())} files ({made})", flush=True)
        results = {}
        for engine in ("local", "spark", *(("spark:1",) if os.environ.get("SPARK_ONE_CORE") else ())):
            slug = engine.replace(":", "-")
            lake = base / slug
            shutil.copytree(base / "landed", lake)
            out = base / f"{slug}.json"
            print(f"  {engine}: running ...", flush=True)
            run = measure([sys.executable, "-m", "benchmarks.bench_prep", engine, str(lake), str(out)])
            results[engine] = {**json.loads(out.read_text()), "peak_mib": run.peak_mib}
            shutil.rmtree(lake)
    floor, spark = results["local"], results["spark"]
    floor_rate, spark_rate = LISTINGS / floor["seconds"], LISTINGS / spark["seconds"]
    ratio = spark_rate / floor_rate
    for name, r, rate in (("single-node (floor)", floor, floor_rate), ("spark local", spark, spark_rate)):
        print(f"  {name:20} {rate:10,.0f} listings/s  ({r['seconds']:.1f} s prep, {r['startup']:.1f} s start-up, "
              f"peak {r['peak_mib'] / 1024:.2f} GiB)  gold {r['gold_rows']:,} rows, checksum {r['checksum']}")
    same = floor["checksum"] == spark["checksum"] and all(
        floor[k] == spark[k] for k in ("gold_rows", "rejected", "unlabelled", "records"))
    print(f"  ratio spark/floor: {ratio:.2f}x (target >= {TARGET_RATIO}x); peak {spark['peak_mib'] / 1024:.2f} GiB "
          f"(limit {MEMORY_LIMIT_MIB / 1024:.0f} GiB); identical gold: {same} ({os.cpu_count()} cores)")
    if "spark:1" in results:
        one = results["spark:1"]
        one_rate = LISTINGS / one["seconds"]
        print(f"  spark on one core   {one_rate:10,.0f} listings/s: {one_rate / floor_rate:.2f}x the floor per core; "
              f"all {os.cpu_count()} cores {spark_rate / one_rate:.2f}x one; gold identical: "
              f"{one['checksum'] == floor['checksum']}")
    if not same:
        raise RuntimeError("the engines' gold tables differ")
    verdict = ratio >= TARGET_RATIO and spark["peak_mib"] <= MEMORY_LIMIT_MIB
    print(f"  {'MET' if verdict else 'NOT MET'}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4:
        run_engine(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        main()
