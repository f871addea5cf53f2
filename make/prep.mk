# Medallion prep engines (ml/carprice/engines/): the single-node engine and Spark (the Databricks job's).
.PHONY: bench-prep

bench-prep: $(SETUP_STAMP)  ## 1M synthetic listings: Spark local mode vs the single-node floor (rows/s, peak memory, checksum)
	@$(PY) -m benchmarks bench_prep
