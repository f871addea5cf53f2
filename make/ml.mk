# ML project (ml/): medallion prep -> train -> evaluate -> export, batch scoring, local inference server.
.PHONY: train train-quick model-card dataset-reference batch-score score-server bench-ml

# DATASET=<declaration.yml> selects the data set (default ml/data/automobile.yml; see docs/dataset-reference.md),
# OUT=<folder> writes the model, lake and MLflow runs there instead of ml/outputs (nothing in the checkout),
# GATE=<gate file> overrides the gate's settings, JOBS=<n> sets the parallel fits (default 2).
WITH_DATASET = $(if $(DATASET),CARPRICE_DATASET=$(abspath $(DATASET)) )
TRAIN_ARGS = $(if $(OUT),--out $(abspath $(OUT))) $(if $(GATE),--gate $(abspath $(GATE))) $(if $(JOBS),--jobs $(JOBS))
# PREP_ENGINE=spark runs prep's set-level steps on Spark in local mode (default: the single-node engine).
WITH_ENGINE = $(if $(PREP_ENGINE),CARPRICE_PREP_ENGINE=$(PREP_ENGINE) )

train: $(SETUP_STAMP)  ## prep, repeated CV vs linear and forest baselines (plain and grouped), gate, export to ml/outputs/model [DATASET= OUT= GATE= JOBS= PREP_ENGINE=spark]
	@$(WITH_DATASET)$(WITH_ENGINE)$(PY) -m ml.carprice.training $(TRAIN_ARGS)

train-quick: $(SETUP_STAMP)  ## like train with the gate config's quick_repeats [DATASET= OUT= GATE= JOBS=]
	@$(WITH_DATASET)$(PY) -m ml.carprice.training --quick $(TRAIN_ARGS)

model-card: $(SETUP_STAMP)  ## after a full `make train`: the default data set's figures into docs/model-card.md and the README
	@$(PY) -m ml.carprice.report --from $(or $(OUT),ml/outputs)/model/metrics.json

dataset-reference: $(SETUP_STAMP)  ## docs/dataset-reference.md: every declaration and gate key, from the pydantic models
	@$(PY) -m ml.carprice.reference

batch-score: $(SETUP_STAMP)  ## score ml/data/imports-85.csv (or INPUT=...) into ml/outputs/batch/predictions.csv
	@$(WITH_DATASET)$(PY) -m ml.carprice.batch $(or $(INPUT),ml/data/imports-85.csv)

score-server: $(SETUP_STAMP)  ## azmlinfsrv with ml/scoring/score.py on 127.0.0.1:5001 (needs make train)
	@AZUREML_MODEL_DIR=ml/outputs/model $(PY) -m tools.local.inference_server --entry_script ml/scoring/score.py --model_dir ml/outputs/model --port 5001

bench-ml: $(SETUP_STAMP)  ## the ML benchmark only (training, ONNX vs sklearn latency, azmlinfsrv vs sklearn default vs ceiling)
	@$(PY) -m benchmarks bench_ml

.PHONY: ml-assets
ml-assets: $(SETUP_STAMP)  ## register the Azure ML environment and gold data asset in ENV's workspace (ml-train-remote does too)
	@$(need-env)$(PY) -m tools.deploy.ml.jobs assets --env $(ENV) --outdir $(CDKTF_OUT)
