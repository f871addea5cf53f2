# Deploy tooling the Azure DevOps pipelines call (pipelines/); each also runs from a laptop after `az login`.
CDKTF_OUT ?= cdktf.out
ML_RESULTS ?= reports/ml/$(ENV)
APP_PACKAGE ?= dist/app.zip
need-env = $(if $(ENV),,$(error set ENV, e.g. make $@ ENV=dev))

.PHONY: bootstrap-state diff deploy verify ml-train-remote ml-gate ml-rollout ml-batch-score app-rollout pipelines-check

bootstrap-state: $(SETUP_STAMP)  ## create the Terraform state RG, storage account (no shared keys), container (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.bootstrap_state --env $(ENV)

diff: $(SETUP_STAMP)  ## cdktn diff per stack in dependency order; output in reports/diff/<env> (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.cdktn_run diff --env $(ENV) --outdir $(CDKTF_OUT) $(if $(LOCAL_STATE),--local-state)

deploy: $(SETUP_STAMP)  ## cdktn deploy per stack in dependency order, synth output as-is (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.cdktn_run deploy --env $(ENV) --outdir $(CDKTF_OUT) $(if $(LOCAL_STATE),--local-state)

verify: $(SETUP_STAMP)  ## compare Azure with the synthesized stacks (type, name, tags); non-zero on drift (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.verify --env $(ENV) --outdir $(CDKTF_OUT)

ml-train-remote: $(SETUP_STAMP)  ## submit the Azure ML pipeline job, wait, download the evaluation (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml_jobs train --env $(ENV) --outdir $(CDKTF_OUT) --results $(ML_RESULTS)

ml-gate: $(SETUP_STAMP)  ## read the evaluation's gate decision; exit 3 when it rejects (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml_gate $(ML_RESULTS)

ml-rollout: $(SETUP_STAMP)  ## the registered version, blue/green deploy, smoke test, traffic steps, rollback on failure (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml_jobs rollout --env $(ENV) --outdir $(CDKTF_OUT) --results $(ML_RESULTS)

ml-batch-score: $(SETUP_STAMP)  ## batch endpoint over the cars prep left on the lake, run published to Cosmos DB (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml_jobs batch-score --env $(ENV) --outdir $(CDKTF_OUT)

app-rollout: $(SETUP_STAMP)  ## app package to every region's staging slot, warm-up, swap, Traffic Manager check (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.app_rollout --env $(ENV) --outdir $(CDKTF_OUT) --package $(APP_PACKAGE)

pipelines-check: $(SETUP_STAMP)  ## validate pipelines/ against the Azure Pipelines schema and the repo
	@$(PY) -m tools.deploy.pipeline_check
