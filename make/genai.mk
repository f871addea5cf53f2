# The generative-AI tier's checks against Azure (reads cdktf.out/, synthesize first).
.PHONY: genai-preflight
genai-preflight: $(SETUP_STAMP)  ## before applying <env>-genai: model versions and SKUs offered in its region, quota left (ENV=...)
	@test -n "$(ENV)" || { echo "ENV is required (make genai-preflight ENV=dev)" >&2; exit 2; }
	@$(PY) -m tools.deploy.infra.genai_preflight --env $(ENV) --outdir cdktf.out
