# The two commands of the README: `make demo` (install, generate the demo corpus,
# analyze it into demo.db, serve it on http://127.0.0.1:8000) and `make test` (lint, types, tests).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install build demo test lint fmt bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -c "from adsentry.gazetteer import warm_cache; warm_cache()"
	touch $@

# Recompile the per-ad stages with mypyc after editing them (setup.py); until then
# adsentry runs their sources, a little slower (src/adsentry/_compiled.py).
build:
	rm -f $(VENV)/.installed
	$(MAKE) install

demo: install
	$(BIN)/adsentry demo
	$(BIN)/adsentry serve --db demo.db

lint: install
	$(BIN)/ruff check src tests bench setup.py
	$(BIN)/ruff format --check src tests bench setup.py
	$(BIN)/mypy

test: lint
	$(BIN)/python -m pytest

fmt: install
	$(BIN)/ruff check --fix src tests bench setup.py
	$(BIN)/ruff format src tests bench setup.py

clean:
	find src -name '*.so' -delete
	rm -rf build $(VENV) demo demo.db* adsentry.db* .pytest_cache .mypy_cache .ruff_cache
