# TutorLab developer commands. `make demo` and `make test` are the two a newcomer needs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

REDIS_URL ?= redis://localhost:6379/0
# The offline dataset mirror (GSM8K + MATH files): the team's copy beside the checkout when there
# is one; without a mirror `make demo` has the data-service download them from the Hugging Face hub
ifneq ($(wildcard $(CURDIR)/../shared/datasets/gsm8k/test.jsonl),)
TUTORLAB_DATASET_MIRROR ?= $(abspath $(CURDIR)/../shared/datasets)
endif
ifneq ($(TUTORLAB_DATASET_MIRROR),)
export TUTORLAB_DATASET_MIRROR
endif
# Qwen3's tokenizer files for the trainer's chat template, offline: the team's copy beside the
# checkout when there is one (else the trainer fetches the base model's from the Hugging Face hub)
ifneq ($(wildcard $(CURDIR)/../shared/tokenizers/qwen3/tokenizer.json),)
TRAINER_SERVICE_TOKENIZER_DIR ?= $(abspath $(CURDIR)/../shared/tokenizers/qwen3)
export TRAINER_SERVICE_TOKENIZER_DIR
endif
export REDIS_URL

UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)

.PHONY: help install redis demo dev test unit lint format up down bench bench-trainer bench-scoring validate-scorers clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

install: ## install uv (if missing) and the locked dependencies
	@command -v uv >/dev/null 2>&1 || python3 -m pip install --quiet uv
	@uv sync --locked --quiet

redis: ## make sure Redis answers at REDIS_URL (start redis-server if installed)
	@uv run --quiet python -m tutorlab.dev.redis_check --start "$(REDIS_URL)"

demo: install redis ## the whole loop on the simulator: benchmark, build data, train (simulated), compare
	@uv run --quiet python -m tutorlab.dev.demo

dev: install redis ## run all services, workers and the simulator in the foreground (Ctrl-C stops all)
	@uv run --quiet python -m tutorlab.dev.devstack

# test processes for `make test` (pytest-xdist, decision 0029): most of the integration and e2e
# tiers' time is waiting on service processes, workers and Redis, so more run than there are cores
TEST_WORKERS ?= 4

test: install redis ## run the whole test suite (unit, integration, e2e); print the coverage total
	@uv run pytest -q -n $(TEST_WORKERS) --dist loadfile --cov --cov-report=
	@echo "coverage (code run in the test processes; e2e's service processes not measured):" \
		"$$(uv run --quiet coverage report --format=total)%"

unit: install ## the unit tier only: needs no Redis and no database server
	@uv run pytest -q tests/unit -m "not integration"

lint: install ## ruff (lint + format check) and mypy (strict on the code, the tests checked too)
	@uv run ruff check .
	@uv run ruff format --check .
	@uv run mypy

format: install ## apply ruff's formatting and safe fixes
	@uv run ruff format .
	@uv run ruff check --fix .

bench: install redis ## load benchmark: GSM8K test through the real services (see bench/)
	@uv run python bench/eval_throughput.py

bench-trainer: install ## trainer steps (SFT, RLVR) and rendering against their ideals (see bench/)
	@uv run python bench/trainer_steps.py

bench-scoring: install ## rule scorers on degenerate replies (35 KB, 1 MB) vs the linear ideal (see bench/)
	@uv run python bench/scoring_degenerate.py

validate-scorers: install ## re-compute the scorers' agreement with human labels (public files; needs network or SOURCE_DIR)
	@uv run python -m tutorlab.scoring.validation $(if $(SOURCE_DIR),--source-dir $(SOURCE_DIR))

up: ## docker compose up (needs a Docker engine; add --profile ollama for Ollama)
	docker compose up -d --build --wait

down: ## docker compose down
	docker compose down

clean: ## remove runtime output (var/, outputs/) and coverage data
	rm -rf var outputs .coverage .coverage.*
