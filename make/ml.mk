# ML project (ml/): medallion prep -> train -> evaluate -> export, batch scoring, local inference server.
.PHONY: train train-quick batch-score score-server bench-ml

# DATASET=<declaration.yml> selects the data set (default ml/data/automobile.yml; see ml/carprice/dataset.py).
WITH_DATASET = $(if $(DATASET),CARPRICE_DATASET=$(abspath $(DATASET)) )
# PREP_ENGINE=spark runs prep's set-level steps on Spark in local mode (default: the single-node engine).
WITH_ENGINE = $(if $(PREP_ENGINE),CARPRICE_PREP_ENGINE=$(PREP_ENGINE) )

train: $(SETUP_STAMP)  ## prep, repeated CV vs baseline with intervals, gate (ml/carprice/gate.yml), export to ml/outputs/model [DATASET=... PREP_ENGINE=spark]
	@$(WITH_DATASET)$(WITH_ENGINE)$(PY) -m ml.carprice.training

train-quick: $(SETUP_STAMP)  ## like train with the gate config's quick_repeats [DATASET=...]
	@$(WITH_DATASET)$(PY) -m ml.carprice.training --quick

batch-score: $(SETUP_STAMP)  ## score ml/data/imports-85.csv (or INPUT=...) into ml/outputs/batch/predictions.csv
	@$(WITH_DATASET)$(PY) -m ml.carprice.batch $(or $(INPUT),ml/data/imports-85.csv)

score-server: $(SETUP_STAMP)  ## azmlinfsrv with ml/scoring/score.py on 127.0.0.1:5001 (needs make train)
	@AZUREML_MODEL_DIR=ml/outputs/model $(PY) -m tools.inference_server --entry_script ml/scoring/score.py --model_dir ml/outputs/model --port 5001

bench-ml: $(SETUP_STAMP)  ## the ML benchmark only (training, ONNX vs sklearn latency, azmlinfsrv vs sklearn default vs ceiling)
	@$(PY) -m benchmarks bench_ml

.PHONY: ml-assets
ml-assets: $(SETUP_STAMP)  ## register the Azure ML environment and gold data asset in ENV's workspace (ml-train-remote does too)
	@$(need-env)$(PY) -m tools.deploy.ml.jobs assets --env $(ENV) --outdir $(CDKTF_OUT)
