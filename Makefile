# The README's quick start is `make demo` and `make test`; CI (.ci/run) calls `make test`.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SCENARIO ?= scenarios/bogota_public_wifi.yaml

NODE_STAMP := tests/browser/node_modules/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test test-slow system-deps browser-assets lock clean

# exact versions from requirements.lock, then the project itself without resolving again
$(STAMP): pyproject.toml requirements.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	$(PY) -m pip install --quiet --no-deps -e '.[dev]'
	touch $(STAMP)

# re-resolve requirements.lock after a change to pyproject.toml's dependencies, keeping every
# pin that still fits; `make lock UPGRADE=1` moves every pin to the newest that fits
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.11 \
		--custom-compile-command "make lock" $(if $(UPGRADE),--upgrade) -q -o requirements.lock

demo: $(STAMP)  ## set up and run the default Bogotá scenario into maps/
	$(VENV)/bin/connectivity run $(SCENARIO)

$(NODE_STAMP): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	touch $@

browser-assets:  ## npm copies of the map's JavaScript libraries, served offline to the browser test
	@if command -v npm >/dev/null 2>&1; then $(MAKE) --no-print-directory $(NODE_STAMP); \
	else echo "npm not found: the browser test will be skipped"; fi

system-deps:  ## Debian packages for the PostGIS, browser and QGIS tests (.ci/run calls this)
	$(SUDO) apt-get update -q
	$(SUDO) apt-get install -y -q --no-install-recommends postgresql postgresql-postgis chromium \
		python3-qgis qgis-providers

test: $(STAMP) browser-assets  ## set up and run the fast test suite, lint and type checks
	$(VENV)/bin/ruff check connectivity tests benchmarks
	$(VENV)/bin/ruff format --check connectivity tests benchmarks
	$(VENV)/bin/mypy
	$(PY) -m pytest -q

test-slow: $(STAMP)  ## the slow end-to-end checks on the full Bogotá and Medellín data packs
	$(PY) -m pytest -q -m slow

clean:
	rm -rf $(VENV) maps/ .pytest_cache .mypy_cache .ruff_cache
