# The blueprint's one entry point. `make run` and `make test` set up a fresh machine by themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(CURDIR)/$(VENV)/bin/python
SETUP_STAMP := $(VENV)/.setup-stamp
ENV ?=

# Project-local tools first: Node 22 (for cdktn-cli and jsii) and the venv's commands.
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
# jsii's documented switches for its Node-version banner; no telemetry or update checks anywhere.
export JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION := 1
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
# (END_OF_LIFE takes the major versions to silence; the system Node here is 20.)
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CHECKPOINT_DISABLE := 1
export TF_CLI_CONFIG_FILE := $(CURDIR)/tools/terraformrc
export CHECKOV_RUN_SCA_PACKAGE_SCAN_V2 := false
export BC_SKIP_MAPPING := TRUE
export MLFLOW_DISABLE_TELEMETRY := true
export DO_NOT_TRACK := 1
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: help setup synth summary run test bench lint clean
help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-18s %s\n", $$1, $$2}'

$(SETUP_STAMP): pyproject.toml constraints.txt package.json package-lock.json tools/setup.sh
	@bash tools/setup.sh
	@touch $@

setup: $(SETUP_STAMP)  ## install everything this project needs (idempotent)

synth: $(SETUP_STAMP)  ## synthesize every stack into cdktf.out/ (ENV=dev: one environment; LOCAL_STATE=1: local backend)
	@$(PY) -O -m stacks.main $(if $(ENV),--env $(ENV)) $(if $(LOCAL_STATE),--local-state)

summary: $(SETUP_STAMP)  ## print resource counts per synthesized stack
	@$(PY) -m tools.summary

test: $(SETUP_STAMP)  ## the whole test suite (what CI runs; PYTEST_ARGS="tests/stacks -x" narrows it)
	@$(PY) -m pytest -n auto --dist loadgroup $(PYTEST_ARGS)

lint: $(SETUP_STAMP)  ## ruff over the repo, mypy over every package
	@$(PY) -m ruff check .
	@$(PY) -m mypy

bench: $(SETUP_STAMP)  ## benchmarks, each against a floor measured in the same run
	@$(PY) -m benchmarks

clean:  ## remove generated output (keeps .venv and node_modules)
	rm -rf cdktf.out reports .pytest_cache

# Each area adds its own targets (train, scan, diagram, serve, ...) in make/<area>.mk.
-include make/*.mk

# make run: the main job, one step per area, in data-flow order.
RUN_STEPS ?= synth summary scan diagram train serve
run: $(SETUP_STAMP)  ## synthesize, scan, draw, train and serve the local twin
	@for step in $(RUN_STEPS); do $(MAKE) --no-print-directory $$step || exit $$?; done
