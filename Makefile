# Two entry points: `make run` (baseline forecast with charts) and `make test` (whole suite).
# Each creates its own virtual environment on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN := $(VENV)/bin
RUNS ?= 200000
SEED ?= 20240902

.PHONY: run test lint bench clean

$(BIN)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev,notebooks,analysis,distributed,explore,discovery]"
	touch $@ $(BIN)/.installed-run

run: $(BIN)/.installed-run
	$(BIN)/python -m sim run scenarios/mongolia_2024.yaml --runs $(RUNS) --seed $(SEED)

test: $(BIN)/.installed-test
	$(BIN)/python -m ruff check sim tests benchmarks
	$(BIN)/python -m mypy sim
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(BIN)/.installed-test
	$(BIN)/python -m ruff check sim tests benchmarks
	$(BIN)/python -m mypy sim
	$(BIN)/lint-imports

bench: $(BIN)/.installed-run
	$(BIN)/python benchmarks/throughput.py
	$(BIN)/python benchmarks/startup.py

clean:
	rm -rf $(VENV) build *.egg-info
