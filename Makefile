# One entry point for users and CI. `make setup && make test` is the whole quick start.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TORCH_PIN := torch==2.13.0
SCALE ?=
RESULTS_DIR ?= results
# Data: runs read $(REPRO_DATA_DIR) (default data/ in the clone, git-ignored); `repro data fetch` fills
# it with the original files, copying from the read-only ../shared/data when present (the mirror) and
# downloading the rest (pinned, sha256-checked). Tests read the shared copy itself (metric vectors too).
export REPRO_DATA_DIR ?= $(abspath data)
export REPRO_DATA_MIRROR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data))
TEST_DATA_DIR ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data))
export REPRO_CORPUS_DIR ?= $(if $(wildcard ../shared/corpus),$(abspath ../shared/corpus))

.PHONY: setup test bench pretrain-mini reproduce-table2 reproduce-all run-reproduction figures notebooks clean-venv help

help:
	@echo "make setup   - create $(VENV)/, install the package (CPU torch 2.13.0 pinned) and convert models/smollm2-135m"
	@echo "make test    - run the test suite offline (HF_HUB_OFFLINE=1)"
	@echo "make bench   - training-step throughput and peak memory -> results/bench/"
	@echo "make reproduce-table2 SCALE=smoke|mini|paper RESULTS_DIR=results [JOBS=2] - ACL Table 2 (table-to-text)"
	@echo "make reproduce-<dir> SCALE=... - any reproductions/<dir>/ (e.g. prefix_vs_infix, embedding_only)"
	@echo "make reproduce-all SCALE=... - every reproduction, with the total time"
	@echo "    (a scale marked known_failure in its config is refused with the reason; RUN_ARGS=--allow-known-failure runs it)"
	@echo "make figures - regenerate every figure (PNG + PDF) in figures/ from results/ and models/"
	@echo "make notebooks - re-execute notebooks/*.ipynb in place against results/ (REPRO_SCALE=... to pick a scale)"
	@echo "make pretrain-mini - train models/gpt2-mini and models/bart-mini on the corpus (~1 h each, 2 CPU cores; resumable)"

$(VENV)/bin/activate:
	$(PYTHON) -m venv $(VENV)

# torch first, on its own: the pinned CPU wheel. The constraint file keeps every later
# install from moving it (a loose torch requirement would otherwise pull a CUDA build).
setup: $(VENV)/bin/activate
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "$(TORCH_PIN)"
	echo "$(TORCH_PIN)" > $(VENV)/torch-constraint.txt
	$(PY) -m pip install -q -c $(VENV)/torch-constraint.txt -e ".[dev]"
	$(PY) -m pip check
	HF_HUB_OFFLINE=1 $(PY) -m repro.smollm2 --out models/smollm2-135m
	@$(PY) -c "import torch, transformers, peft; print('setup ok: torch', torch.__version__, '| transformers', transformers.__version__, '| peft', peft.__version__)"

test:
	REPRO_DATA_DIR=$(TEST_DATA_DIR) HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false $(PY) -m pytest -q

bench:
	HF_HUB_OFFLINE=1 $(PY) -m repro.bench --out $(RESULTS_DIR)/bench $(BENCH_ARGS)

# Default scale: mini where its model is there (models/smollm2-135m, made by make setup), else smoke (tiny random
# models: proves the wiring only).
DEFAULT_SCALE := $(if $(wildcard models/smollm2-135m/model.safetensors),mini,smoke)
RUN_SCALE = $(or $(SCALE),$(DEFAULT_SCALE))
REPRODUCTIONS := $(notdir $(patsubst %/,%,$(dir $(wildcard reproductions/*/config.yaml))))
# run every run of one reproduction (skipping finished ones), then its table and the claims file
# JOBS=n: n processes share the runs (repro run --shard i/n), one thread each (CPU boxes)
JOBS ?= 1
# extra `repro run` flags, e.g. RUN_ARGS=--allow-known-failure (a scale its config marks known_failure)
RUN_ARGS ?=
# paper scale: `repro doctor` first (data, models, GPU memory, disk, Java, results dir; seconds), then
# the data the runs read is fetched (skipping what is there)
define reproduce
	$(if $(filter paper,$(RUN_SCALE)),$(PY) -m repro.cli doctor --reproduction $(1) --scale paper --results-dir $(RESULTS_DIR))
	$(PY) -m repro.cli data fetch --reproduction $(1) --scale $(RUN_SCALE)
	$(PY) -m repro.cli run --reproduction $(1) --scale $(RUN_SCALE) --check-data $(RUN_ARGS) > /dev/null
	$(if $(filter 1,$(JOBS)),$(PY) -m repro.cli run --reproduction $(1) --scale $(RUN_SCALE) --results-dir $(RESULTS_DIR) $(RUN_ARGS),\
	mkdir -p $(RESULTS_DIR)/$(1)/$(RUN_SCALE); pids=(); for i in $$(seq 0 $$(( $(JOBS) - 1 ))); do \
	  OMP_NUM_THREADS=1 $(PY) -m repro.cli run --reproduction $(1) --scale $(RUN_SCALE) --results-dir $(RESULTS_DIR) $(RUN_ARGS) \
	    --shard $$i/$(JOBS) --no-progress > $(RESULTS_DIR)/$(1)/$(RUN_SCALE)/shard$$i.log 2>&1 & pids+=($$!); done; \
	for pid in $${pids[@]}; do wait $$pid || exit 1; done)
	$(PY) -m repro.cli ensemble --reproduction $(1) --scale $(RUN_SCALE) --results-dir $(RESULTS_DIR) --no-progress
	$(PY) -m repro.cli aggregate --reproduction $(1) --scale $(RUN_SCALE) --results-dir $(RESULTS_DIR)
	$(if $(filter results,$(RESULTS_DIR)),$(if $(filter-out smoke,$(RUN_SCALE)),\
	$(PY) -m repro.cli figures --no-models > /dev/null && \
	$(PY) -m repro.cli readme --reproduction $(1) --scale $(RUN_SCALE)))
	$(PY) -m repro.cli claims --results-dir $(RESULTS_DIR) > /dev/null
	$(PY) -m repro.cli compute --scale $(RUN_SCALE) --jobs $(JOBS) --results-dir $(RESULTS_DIR) > /dev/null
endef

# each reproduce target prints its wall time at the end (finished runs are skipped, so a rerun is quick)
reproduce-table2:
	@start=$$(date +%s); $(MAKE) --no-print-directory run-reproduction NAME=table2_table_to_text && \
	echo "reproduce-table2 ($(RUN_SCALE)): $$(( ($$(date +%s) - start) / 60 )) minutes"

# a reproduction whose data is not readable here (exit 3 of --check-data, e.g. XSUM articles
# offline) or whose scale its config marks known_failure (exit 4) is skipped with the reason;
# any other failure stops
reproduce-all:
	@start=$$(date +%s); skipped=(); for r in $(REPRODUCTIONS); do \
	  $(PY) -m repro.cli data fetch --reproduction $$r --scale $(RUN_SCALE) --no-progress > /dev/null 2>&1; \
	  $(PY) -m repro.cli run --reproduction $$r --scale $(RUN_SCALE) --check-data $(RUN_ARGS) > /dev/null; rc=$$?; \
	  if [ $$rc = 3 ] || [ $$rc = 4 ]; then skipped+=($$r); continue; elif [ $$rc != 0 ]; then exit $$rc; fi; \
	  $(MAKE) --no-print-directory reproduce-$$r || exit 1; done; \
	echo "reproduce-all ($(RUN_SCALE)): $$(( ($$(date +%s) - start) / 60 )) minutes"; \
	if [ $${#skipped[@]} -gt 0 ]; then echo "skipped (data missing or known failure, reason above): $${skipped[*]}"; fi

reproduce-%: reproductions/%/config.yaml
	@start=$$(date +%s); $(MAKE) --no-print-directory run-reproduction NAME=$* && \
	echo "reproduce-$* ($(RUN_SCALE)): $$(( ($$(date +%s) - start) / 60 )) minutes"

run-reproduction:
	$(call reproduce,$(NAME))

figures:
	$(PY) -m repro.cli figures --results-dir $(RESULTS_DIR)

notebooks:
	HF_HUB_OFFLINE=1 $(PY) -m repro.cli notebooks --in-place --results-dir $(RESULTS_DIR) $(if $(SCALE),--scale $(SCALE))

# Deterministic and resumable: re-running continues an interrupted run (same thread count needed
# for bit-identical weights). Budgets are step counts (src/repro/pretrain/recipes.py).
pretrain-mini:
	HF_HUB_OFFLINE=1 $(PY) -m repro.pretrain --recipe gpt2-mini --out models/gpt2-mini --threads 2 --resume
	HF_HUB_OFFLINE=1 $(PY) -m repro.pretrain --recipe bart-mini --out models/bart-mini --threads 2 --resume

clean-venv:
	rm -rf $(VENV)
