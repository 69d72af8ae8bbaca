# Two commands on a fresh machine:  `make run`  and  `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
DATA   ?= knowledge/sample

.PHONY: install run demo serve test eval lint format bench sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU build first: an unpinned torch would pull gigabytes of CUDA packages.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
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

sample: ## Regenerate the sample CRM data (seeded, deterministic)
	$(BIN)/python knowledge/generate_sample.py --out knowledge/sample

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
