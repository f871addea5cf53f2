# Function app (functions/): stream scoring and the HTTPS pricing workflow.
.PHONY: package-functions bench-functions

package-functions: $(SETUP_STAMP)  ## build dist/functions.zip (function app, contract, scoring code, model) for zip deploy
	@$(PY) -m tools.deploy.functions.package

bench-functions: $(SETUP_STAMP)  ## score_listings per event (batch of 100) vs the libraries' own work: decode, validate, price
	@$(PY) -m benchmarks bench_functions
