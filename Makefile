# Two commands do everything on a fresh clone:
#   make demo   - create .venv, install Hall Monitor, run one full monitoring cycle on demo accounts
#   make test   - install the development dependencies too, run the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# Re-install whenever pyproject.toml changes.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)
DEV_STAMP := $(VENV)/.installed-dev-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: demo test install install-dev bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Hall Monitor needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

$(DEV_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP) $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

demo: install
	$(BIN)/hallmon demo

test: install-dev
	$(BIN)/python -m pytest

bench: install-dev
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) demo-output .pytest_cache
