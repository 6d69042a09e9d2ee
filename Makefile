# The README's quick start is `make demo` and `make test`; CI (.ci/run) calls `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/bogota_public_wifi.yaml

.PHONY: demo test test-slow clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)  ## set up and run the default Bogotá scenario into maps/
	$(VENV)/bin/connectivity run $(SCENARIO)

test: $(STAMP)  ## set up and run the fast test suite, lint and type checks
	$(VENV)/bin/ruff check connectivity tests benchmarks
	$(VENV)/bin/ruff format --check connectivity tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

test-slow: $(STAMP)  ## the slow end-to-end checks on the full Bogotá and Medellín data packs
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) maps/ .pytest_cache .mypy_cache .ruff_cache
