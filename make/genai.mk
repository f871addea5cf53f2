# The generative-AI tier: the Azure checks (genai-infra) and the assistant (app/assistant/, tools/checks/genai/).
# Targets that read cdktf.out/ need a synthesized environment first.
.PHONY: genai-preflight search-index index-gold assistant-eval assistant-gate bench-assistant

genai-preflight: $(SETUP_STAMP)  ## before applying <env>-genai: model versions and SKUs offered in its region, quota left (ENV=...)
	@test -n "$(ENV)" || { echo "ENV is required (make genai-preflight ENV=dev)" >&2; exit 2; }
	@$(PY) -m tools.deploy.infra.genai_preflight --env $(ENV) --outdir $(CDKTF_OUT)

# Endpoints: the environment's CARPRICE_SEARCH_ENDPOINT / CARPRICE_OPENAI_ENDPOINT (the genai stack's outputs).
search-index: $(SETUP_STAMP)  ## create or update the listings index from contract/listings_index.py (ENV=... or CARPRICE_SEARCH_ENDPOINT=...)
	@$(PY) -m tools.deploy.genai.search_index create $(if $(ENV),--env $(ENV) --outdir $(CDKTF_OUT))

index-gold: $(SETUP_STAMP)  ## make the listings index's gold listings equal the gold table (ENV=..., or CARPRICE_SEARCH_ENDPOINT, CARPRICE_OPENAI_ENDPOINT, CARPRICE_LAKE_ROOT)
	@$(PY) -m tools.deploy.genai.search_index fill-gold $(if $(ENV),--env $(ENV) --outdir $(CDKTF_OUT))

assistant-eval: $(SETUP_STAMP)  ## offline evaluation: golden set vs the stand-ins -> reports/assistant-evaluation.md (fails below threshold)
	@test -f ml/outputs/model/model.onnx || $(MAKE) --no-print-directory train
	@$(PY) -m tools.checks.genai.evaluate

# azure-ai-evaluation needs pandas < 3: the gate runs from its own venv. Exit 3 = held back (a warning), not a failure.
GATE_VENV := .venv-assistant-gate
assistant-gate:  ## judge the staging slot's assistant with azure-ai-evaluation and the safety probes (APP_URL, JUDGE_ENDPOINT, JUDGE_DEPLOYMENT, SEARCH_ENDPOINT)
	@test -x $(GATE_VENV)/bin/python || python3 -m venv $(GATE_VENV)
	@$(GATE_VENV)/bin/python -m pip install -q -r tools/checks/genai/requirements-gate.txt
	@$(GATE_VENV)/bin/python -m tools.checks.genai.gate --app-url "$(APP_URL)" --judge-endpoint "$(JUDGE_ENDPOINT)" \
		--judge-deployment "$(JUDGE_DEPLOYMENT)" --search-endpoint "$(SEARCH_ENDPOINT)"

bench-assistant: $(SETUP_STAMP)  ## the assistant's own overhead per answer (stand-in time excluded) vs the prediction API
	@$(PY) -m benchmarks bench_assistant
