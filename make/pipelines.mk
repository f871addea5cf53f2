# Deploy tooling the Azure DevOps pipelines call (pipelines/); each also runs from a laptop after `az login`.
CDKTF_OUT ?= cdktf.out
PLAN_DIR ?= cdktf.out.plan-$(ENV)
ML_RESULTS ?= reports/ml/$(ENV)
APP_PACKAGE ?= dist/app.zip
FUNCTIONS_PACKAGE ?= dist/functions.zip
need-env = $(if $(ENV),,$(error set ENV, e.g. make $@ ENV=dev))
# Providers are downloaded once per machine (and cached between pipeline runs), not once per stack.
export TF_PLUGIN_CACHE_DIR ?= $(CURDIR)/.terraform-plugins
$(shell mkdir -p $(TF_PLUGIN_CACHE_DIR))

.PHONY: setup-deploy terraform bootstrap bootstrap-state plan plan-summary apply deploy verify \
	approve-private-endpoints \
	ml-train-remote ml-gate ml-gate-outcome ml-rollout ml-batch-score app-model app-rollout \
	functions-rollout pipelines-check pipelines-dry-run pipeline-tag

setup-deploy:  ## the slim install deploy jobs use: the Python environment only (no apt, dev tools or npm)
	@SETUP_PROFILE=deploy bash tools/setup.sh
	@touch $(SETUP_STAMP)

terraform:  ## install the Terraform version pinned in .terraform-version (checksum-verified)
	@bash tools/install_terraform.sh

bootstrap: $(SETUP_STAMP)  ## before the first deploy, in one pass: state backend + your data role on it, providers, agent pool (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.infra.bootstrap --env $(ENV) $(if $(LOCAL_STATE),--local-state)

bootstrap-state: $(SETUP_STAMP)  ## the state RG, storage account (no shared keys), container, and your data role on it (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.infra.bootstrap --env $(ENV) --state-only

plan: $(SETUP_STAMP)  ## terraform plan per stack in dependency order into a plan bundle (PLAN_DIR) (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.infra.plan plan --env $(ENV) --outdir $(CDKTF_OUT) --plan-dir $(PLAN_DIR) $(if $(LOCAL_STATE),--local-state)

plan-summary: $(SETUP_STAMP)  ## print the plan table and hasChanges as Azure Pipelines logging commands (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.infra.plan summary --env $(ENV) --plan-dir $(PLAN_DIR)

apply: $(SETUP_STAMP)  ## apply the reviewed saved plans of PLAN_DIR in dependency order; deferred stacks wait for the next plan (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.infra.plan apply --env $(ENV) --plan-dir $(PLAN_DIR) $(if $(LOCAL_STATE),--local-state) \
		$(if $(ATTEMPT),--attempt $(ATTEMPT)) $(if $(filter true 1,$(FINAL_ROUND)),--final-round)

deploy: $(SETUP_STAMP)  ## plan + apply rounds until nothing changes, then approve the factory's private endpoints, from a laptop (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.infra.plan deploy --env $(ENV) --outdir $(CDKTF_OUT) --plan-dir $(PLAN_DIR) $(if $(LOCAL_STATE),--local-state)
	@$(PY) -m tools.deploy.infra.private_endpoints --env $(ENV) --outdir $(CDKTF_OUT)

approve-private-endpoints: $(SETUP_STAMP)  ## approve the pending connections of this ENV's Data Factory managed private endpoints on the lake
	@$(need-env)$(PY) -m tools.deploy.infra.private_endpoints --env $(ENV) --outdir $(CDKTF_OUT)

verify: $(SETUP_STAMP)  ## compare Azure with the synthesized stacks (type, name, tags); non-zero on drift (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.infra.verify --env $(ENV) --outdir $(CDKTF_OUT)

ml-train-remote: $(SETUP_STAMP)  ## submit the Azure ML pipeline job, wait, download the evaluation (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml.jobs train --env $(ENV) --outdir $(CDKTF_OUT) --results $(ML_RESULTS)

ml-gate: $(SETUP_STAMP)  ## read the evaluation's gate decision; exit 3 when it rejects (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml.gate $(ML_RESULTS)

ml-gate-outcome: $(SETUP_STAMP)  ## make ml-gate for a pipeline: a rejection is reported and sets promote=false, not a failure
	@$(need-env)$(PY) -m tools.checks.pipelines.outcome --variable promote --rejected-exit 3 -- \
		$(MAKE) --no-print-directory ml-gate ENV=$(ENV) ML_RESULTS=$(ML_RESULTS)

ml-rollout: $(SETUP_STAMP)  ## the registered version, blue/green deploy, smoke test, traffic steps, rollback on failure (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml.jobs rollout --env $(ENV) --outdir $(CDKTF_OUT) --results $(ML_RESULTS)

ml-batch-score: $(SETUP_STAMP)  ## batch endpoint over the cars prep left on the lake, run published to Cosmos DB (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.ml.jobs batch-score --env $(ENV) --outdir $(CDKTF_OUT)

app-model: $(SETUP_STAMP)  ## the model version the environment's online endpoint serves, into ml/outputs/model (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.app.model --env $(ENV) --outdir $(CDKTF_OUT)

app-rollout: $(SETUP_STAMP)  ## app package to every region's staging slot, warm-up, swap (back on failure), Traffic Manager check (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.app.rollout --env $(ENV) --outdir $(CDKTF_OUT) --package $(APP_PACKAGE)

functions-rollout: $(SETUP_STAMP)  ## function app package by one deploy, price check, redeploy of the previous package on failure (ENV=...)
	@$(need-env)$(PY) -m tools.deploy.app.functions_rollout --env $(ENV) --outdir $(CDKTF_OUT) --package $(FUNCTIONS_PACKAGE)

pipelines-check: $(SETUP_STAMP)  ## validate pipelines/ against the Azure Pipelines schema and the repo
	@$(PY) -m tools.checks.pipelines.check

pipelines-dry-run: $(SETUP_STAMP)  ## walk every pipeline against a fake Azure, then play the scenarios (PIPELINE=..., SCENARIO=n)
	@$(if $(SCENARIO),,$(PY) -m tools.checks.pipelines.dry_run $(if $(PIPELINE),--pipeline $(PIPELINE)) &&) \
		$(if $(PIPELINE),true,$(PY) -m tools.checks.pipelines.scenarios $(if $(SCENARIO),--scenario $(SCENARIO)))

pipeline-tag:  ## tag the current Azure Pipelines run (TAG=...): pipeline completion triggers filter on tags
	@$(if $(TAG),,$(error set TAG, e.g. make $@ TAG=model-promoted))echo "##vso[build.addbuildtag]$(TAG)"
