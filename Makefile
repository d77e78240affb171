# Set-up and everyday commands. Everything runs inside .venv, created on demand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test lint report sample lab bench clean

# a first install takes minutes: pip shows its progress
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	$(BIN)/python -m qyb.report.run --install-kernel --warm  # the kernel "qyb" the notebooks name; first-run caches
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check qyb tests benchmarks tools

# lint first, then the whole suite on two workers; a test module stays on one worker (loadfile)
test: lint
	$(BIN)/python -m pytest -n 2 --dist loadfile -q

# the monthly run for the latest month of the shipped data; prints the path of index.html
report: $(STAMP)
	$(BIN)/qyb run --latest
	@ls -1d $(CURDIR)/reports/[0-9][0-9][0-9][0-9]-[0-9][0-9]/index.html | sort | tail -n 1

sample: $(STAMP)
	$(BIN)/python -m qyb.sample --out data/raw

# JupyterLab on the notebooks; they name the project's kernel "qyb" (installed by the install step)
lab: $(STAMP)
	$(BIN)/python -m qyb.report.run --install-kernel >/dev/null
	$(BIN)/jupyter lab --notebook-dir=notebooks

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) reports/.build-* reports/.old-* .pytest_cache
