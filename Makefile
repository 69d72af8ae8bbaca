# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= knowledge/sample

.PHONY: install run demo serve test eval lint format bench sample clean lock

# torch's CPU build comes from PyTorch's own CPU index where it is reachable (PyPI's Linux
# torch would pull gigabytes of CUDA packages); elsewhere from what pip is configured with
# (a mirror, find-links). The versions are those of requirements-dev.lock (`make lock`).
TORCH_INDEX ?= https://download.pytorch.org/whl/cpu
LOCK        := requirements.lock
DEV_LOCK    := requirements-dev.lock

# `--extra-index-url TORCH_INDEX` when that index answers, else nothing (asked once per make).
TORCH_SOURCE = $(eval TORCH_SOURCE := $(shell $(PYTHON) -c "import urllib.request as u; \
  u.urlopen('$(TORCH_INDEX)/torch/', timeout=10); print('--extra-index-url $(TORCH_INDEX)')" \
  2>/dev/null))$(TORCH_SOURCE)

$(STAMP): pyproject.toml $(DEV_LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@echo "torch's CPU build from: $(or $(TORCH_SOURCE),pip's configured sources ($(TORCH_INDEX) unreachable))"
	$(BIN)/pip install --quiet $(TORCH_SOURCE) -c $(DEV_LOCK) -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install crmassist with its dev tools

run: install ## Load the sample, show a conversation per role, then serve API, console and Slack
	$(BIN)/crmassist demo --data $(DATA) --serve

test: install ## Run the whole test suite (SQLite and PostgreSQL, real model, real index)
	$(BIN)/python -m pytest

eval: install ## The core (tuned) suite, held to evals/thresholds.yaml; then the held-out suite, reported
	$(BIN)/crmassist eval --dataset evals/core.yaml --report build/eval/core.json
	$(BIN)/crmassist eval --dataset evals/heldout.yaml --report build/eval/heldout.json --report-only

lint: install ## Style and types
	$(BIN)/ruff check src tests benchmarks knowledge
	$(BIN)/ruff format --check src tests benchmarks knowledge
	$(BIN)/mypy
	$(BIN)/mypy --strict knowledge/generate_sample.py

format: install
	$(BIN)/ruff format src tests benchmarks knowledge
	$(BIN)/ruff check --fix src tests benchmarks knowledge

bench: install ## Retrieval and agent benchmarks (JSON in benchmarks/results/)
	$(BIN)/python benchmarks/retrieval.py
	$(BIN)/python benchmarks/agent.py
	$(BIN)/python benchmarks/privacy.py

lock: install ## Re-resolve requirements.lock (runtime) and requirements-dev.lock (with dev tools)
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-find-links \
	  --no-emit-index-url $(TORCH_SOURCE) --output-file $(LOCK) pyproject.toml
	$(BIN)/pip-compile --quiet --strip-extras --allow-unsafe --no-emit-find-links \
	  --no-emit-index-url $(TORCH_SOURCE) --extra dev --output-file $(DEV_LOCK) pyproject.toml

sample: ## Regenerate the sample CRM data (seeded, deterministic)
	$(BIN)/python knowledge/generate_sample.py --out knowledge/sample

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
