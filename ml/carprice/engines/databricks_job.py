"""The Databricks prep job's entry point: medallion prep on the job cluster's Spark, over what landed in bronze.

The job (stacks/modules/databricks_jobs.py) runs this file with the lake root as its one parameter, e.g.
`abfss://{layer}@<account>.dfs.core.windows.net`; Unity Catalog's external locations grant the cluster the
lake's bronze, silver and gold filesystems through the workspace's access connector.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

# The job runs this file from the workspace copy of the repository (stacks/modules/databricks_jobs.py): the
# copy's root is three folders up, and the packages import from there.
CODE_ROOT = Path(__file__).resolve().parents[3]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Medallion prep on Spark (Databricks job).")
    parser.add_argument("--lake-root", required=True, help="lake root URI with a {layer} placeholder")
    args = parser.parse_args(argv)
    if str(CODE_ROOT) not in sys.path:
        sys.path.insert(0, str(CODE_ROOT))

    from ml.carprice.engines.spark import SparkEngine
    from ml.carprice.prep import run_prep

    # In Azure only what landed in bronze is data; the repo's seed file is for a laptop.
    report = run_prep(args.lake_root, source=None, engine=SparkEngine.databricks())
    print("\n".join(report.lines()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
