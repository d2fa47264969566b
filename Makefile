# The README's two commands live here: `make run` and `make test`. Both bootstrap `.venv` on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
HOST ?= localhost
PORT ?= 8501
CONSTRAINTS := constraints.txt

.PHONY: run test lint wheel-check constraints clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Cahier needs Python 3.11 or newer")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(CONSTRAINTS) -e ".[dev,local]"
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m assistant ingest
	$(PY) -m assistant app --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(PY) -m pytest

# The gates CI runs before the tests: lint, formatting and types.
lint: $(STAMP)
	$(VENV)/bin/ruff check assistant tests bench app.py
	$(VENV)/bin/ruff format --check assistant tests bench app.py
	$(VENV)/bin/mypy

# A non-editable install of the built wheel, in a fresh environment, away from the checkout.
wheel-check: $(STAMP)
	bash .ci/wheel-smoke.sh

# Re-resolve every dependency from pyproject.toml in a throw-away environment and pin the result.
constraints:
	rm -rf .constraints-venv
	$(PYTHON) -m venv .constraints-venv
	.constraints-venv/bin/python -m pip install --quiet --upgrade pip
	.constraints-venv/bin/python -m pip install --quiet -e ".[dev,local]"
	{ head -3 $(CONSTRAINTS); .constraints-venv/bin/python -m pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf .constraints-venv

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
