# `make demo` and `make test` set everything up on a fresh machine with Python 3.11:
# the Debian packages that are missing, the virtualenv, the project. See README.md.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup system-deps demo test lint format bench-pipeline bench-crawl bench-classify bench-ui bench-export bench-scale clean

setup: system-deps $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

system-deps:
	@scripts/install-system-deps.sh

demo: setup
	$(BIN)/adwatch demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest

lint:
	$(BIN)/ruff check .

format:
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-pipeline: setup
	$(BIN)/python -m benchmarks.bench_pipeline

bench-crawl: setup
	$(BIN)/python -m benchmarks.bench_crawl

bench-classify: setup
	$(BIN)/python -m benchmarks.bench_classify

bench-ui: setup
	$(BIN)/python -m benchmarks.bench_ui

bench-export: setup
	$(BIN)/python -m benchmarks.bench_export

bench-scale: setup
	$(BIN)/python -m benchmarks.bench_scale

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
