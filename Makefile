# Miroir — run `make` for this help.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
MIROIR := $(BIN)/miroir

.DEFAULT_GOAL := help
.PHONY: help setup up down status worker run demo-headless bench chaos eval train test test-unit lint clean

help: ## Show this help
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | \
	  awk 'BEGIN {FS = ":.*## "}; {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}'

$(BIN)/miroir: pyproject.toml
	@infra/install-system-deps.sh
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
	  { echo "error: Python 3.11+ needed ($(PYTHON) is $$($(PYTHON) --version))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

setup: $(BIN)/miroir ## Install system packages (apt), Python deps (.venv) and the Kafka jars
	@infra/install-system-deps.sh
	@$(MIROIR) stack fetch

up: setup ## Start the local stack: Kafka (KRaft) + Redis, no Docker
	$(MIROIR) stack up

down: ## Stop the local stack (only what `up` started)
	@[ -x $(MIROIR) ] && $(MIROIR) stack down || true

status: ## Show each service, its port and whether it answers
	$(MIROIR) stack status

worker: up ## Start a pipeline worker in the foreground
	$(MIROIR) worker

run: up ## Set everything up and run the main job: the live pilot demo (Ctrl-C stops)
	$(MIROIR) demo

demo-headless: up ## The demo without a screen: 2,000 events, then a JSON summary in .run/demo-summary.json
	$(MIROIR) demo --events 2000 --rate 200 --exit-when-done --summary .run/demo-summary.json

bench: up ## Benchmarks on the real stack (~10 min), each beside its baseline; JSON in bench/results/
	$(MIROIR) bench

chaos: up ## Fault scenarios (~20 min): SIGKILLs, a lost worker, broker restart, Redis outage, the intake killed and without broker; prints the table
	$(MIROIR) chaos

train: setup ## Train the sentiment models on ../shared/data (~30 min; installs scikit-learn, for training only)
	$(BIN)/pip install -q scikit-learn
	$(BIN)/python scripts/train_sentiment.py

eval: setup ## How right the analysis is on every rated file of ../shared/data, beside plain TextBlob (a few min)
	$(MIROIR) eval

.PHONY: eval-readme
eval-readme: setup ## `make eval`, its table then written into README.md between the eval markers
	$(MIROIR) eval --readme

test: setup ## Run all tests; starts the stack itself when it is not up
	$(BIN)/pytest

test-unit: setup ## Run the tests that need no Kafka or Redis
	$(BIN)/pytest -m 'not integration'

lint: setup ## ruff (lint + format check) + mypy, on the product code and the tests
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy config miroir tools streams schemas processors sinks infra services tests

clean: down ## Stop the stack and delete the run folder (jars, data, logs)
	rm -rf .run
