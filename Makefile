# One Makefile drives everything. The first two targets are the README's two setup commands.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader shells out to `alembic`; everything run from here must find the venv's executables first.
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0
export MPLBACKEND := Agg

RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test

.PHONY: help install install-test browser-deps book test lint format bench pdf serve clean

help:
	@echo "make book   - set up .venv (if needed) and build the book into _build/html"
	@echo "make test   - set up, lint, build the book, run every test"
	@echo "make bench  - benchmarks (optimizer step time, explorable budgets, grading throughput)"
	@echo "make pdf    - the whole book as _build/pdf/book.pdf (headless Chromium)"
	@echo "make serve  - serve _build/html on http://127.0.0.1:8000"

$(RUNTIME_STAMP): requirements.txt pyproject.toml
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -r requirements.txt
	$(VENV)/bin/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $@

$(TEST_STAMP): $(RUNTIME_STAMP) requirements-test.txt
	$(VENV)/bin/python -m pip install -q -r requirements-test.txt
	touch $@

install: $(RUNTIME_STAMP)

install-test: $(TEST_STAMP)

# Debian's Chromium and chromedriver drive the browser tests (never a downloaded browser).
browser-deps:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver; \
	fi

book: install
	$(BIN)/jupyter-book build . --builder html -W --keep-going

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install-test browser-deps lint book
	$(BIN)/python -m pytest

bench: install-test
	$(BIN)/python -m benchmarks $(BENCH)

serve: book
	cd _build/html && $(BIN)/python -m http.server 8000 --bind 127.0.0.1

clean:
	rm -rf _build .pytest_cache .ruff_cache
