# Two commands set everything up on a fresh machine with Python 3.11+:
#   make run    installs into .venv and runs the reference scenario (200 replications)
#   make test   installs into .venv (with the test extras) and runs the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test app quicktest bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[app,dask,test]"
	touch $@

run: $(VENV)/.installed
	$(BIN)/python -m sim run scenarios/tarlatamab_outpatient.toml --reps 200

app: $(VENV)/.installed
	$(BIN)/streamlit run app.py

test: $(VENV)/.installed
	$(BIN)/python -m pytest

quicktest: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not slow and not browser"

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/bench_reference.py
