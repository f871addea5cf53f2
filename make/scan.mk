# Policy scans: checkov's Azure checks + policies/ over every synthesized stack of every environment.
# Synthesizes first when cdktf.out/ is missing or stale; writes reports/checkov/ (CLI, JSON, JUnit XML, SARIF).
export CKV_SKIP_PACKAGE_UPDATE_CHECK := true

.PHONY: scan
scan: $(SETUP_STAMP)  ## checkov over every stack: zero failed checks, suppressions listed, reports in reports/checkov/
	@$(PY) -m tools.checks.scan
