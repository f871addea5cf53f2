# Function app (functions/): stream scoring and the HTTPS pricing workflow.
.PHONY: package-functions bench-functions

package-functions: $(SETUP_STAMP)  ## build dist/functions.zip (function app, contract, scoring code, model) for zip deploy
	@$(PY) -m tools.deploy.functions.package

bench-functions: $(SETUP_STAMP)  ## score_listings events/s (batch of 100) vs the pricer's own batch throughput
	@$(PY) -m benchmarks bench_functions
