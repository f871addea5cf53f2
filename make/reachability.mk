# Static network reachability of the synthesized platform (tools/checks/reachability/): every required flow in
# tools/checks/reachability/flows.yaml must resolve and route in every environment. `make validate` runs it.
.PHONY: reachability reachability-doc
reachability: $(SETUP_STAMP)  ## check every required network flow is reachable in each environment (synthesizes if stale)
	@$(PY) -m tools.checks.reachability

reachability-doc: $(SETUP_STAMP)  ## rewrite docs/reachability.md (who reaches what) from the model
	@$(PY) -m tools.checks.reachability --write-doc docs/reachability.md
