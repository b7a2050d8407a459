# Kefu: `make run` serves the demo shop, `make test` runs the whole suite.
# Both work on a fresh machine: they create .venv and install what the project needs.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

.PHONY: run test lint typecheck check-format format browser-deps demo clean help constraints

help:
	@echo "make run    - install, migrate, seed the demo shop (first time) and serve http://$${KEFU_HOST:-127.0.0.1}:$${KEFU_PORT:-8000}"
	@echo "make test   - install dev tools (and Chromium when root) and run lint, types and the test suite"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstalled only when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -c constraints.txt -e '.[dev]'
	touch $@ $(VENV)/.installed

# Re-resolve the newest versions pyproject.toml allows and record them.
constraints: | $(BIN)/python
	$(PIP) install --upgrade -e '.[dev]'
	(echo "# Versions the suite was last run with; 'make' installs within these (pip -c)."; \
	 echo "# Refresh: make constraints"; \
	 $(BIN)/python -m pip freeze --exclude-editable | grep -v '^kefu') > constraints.txt

# A local trial: demo mode (the placeholder secret is accepted) unless KEFU_DEMO is set.
run: export KEFU_DEMO ?= 1
run: $(VENV)/.installed
	$(BIN)/kefu migrate
	$(BIN)/kefu demo --if-empty
	exec $(BIN)/kefu serve

demo: export KEFU_DEMO ?= 1
demo: $(VENV)/.installed
	$(BIN)/kefu migrate
	$(BIN)/kefu demo

# Debian's Chromium for the real-browser tests (Playwright's own download is not used).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian's chromium and chromium-driver"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver fonts-noto-cjk >/dev/null; \
	  else \
	    echo "chromium is missing and this is not root: install chromium chromium-driver"; \
	  fi; \
	fi

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests bench

check-format: $(VENV)/.installed-dev
	$(BIN)/ruff format --check src tests bench

format: $(VENV)/.installed-dev
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

test: $(VENV)/.installed-dev browser-deps lint check-format typecheck
	$(BIN)/pytest

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
