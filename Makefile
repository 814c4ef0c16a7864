# phenoflow: two commands set everything up on a fresh machine.
#   make run    create .venv (pinned by envs/constraints.txt) and run the default workflow
#   make test   create the same .venv and run the tests
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
CORES  ?= 2
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed
# jobs started by Snakemake find the venv's python first
SNAKEMAKE = PATH="$(abspath $(BIN)):$$PATH" $(BIN)/snakemake

.PHONY: env run check-config test test-fast lint typecheck format report paper docs bench clean

env: $(STAMP)

$(STAMP): pyproject.toml envs/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c envs/constraints.txt -e ".[workflow,dev]"
	touch $(STAMP)

# CONFIG=FILE... adds config files over config/config.yaml; they are checked first
# (file, line and key of every problem) because Snakemake reads --configfile before
# any workflow code runs and names neither the file nor the line of a YAML error.
CONFIGFILES = $(if $(CONFIG),--configfile $(CONFIG))
CHECK_CONFIG = PYTHONPATH=lib $(BIN)/python -m phenoflow.config $(CONFIG)

run: env
	$(CHECK_CONFIG)
	$(SNAKEMAKE) --cores $(CORES) $(CONFIGFILES)

check-config: env
	$(CHECK_CONFIG)

test: env
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest

test-fast: env
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -m "not slow and not workflow"

# static checks, run by CI before the tests (.ci/run); `make format` fixes what it can
lint: env
	$(BIN)/ruff check lib tests workflow_scripts
	$(BIN)/ruff format --check lib tests workflow_scripts
	$(BIN)/snakefmt --check Snakefile rules/
	$(SNAKEMAKE) --lint --cores 1

# mypy on the library (settings in pyproject.toml, [tool.mypy])
typecheck: env
	$(BIN)/mypy lib/phenoflow

format: env
	$(BIN)/ruff format lib tests workflow_scripts
	$(BIN)/ruff check --fix lib tests workflow_scripts
	$(BIN)/snakefmt Snakefile rules/

# The report only gathers what a run made (figures, captions, provenance): it
# runs no job itself, so it does not depend on `run`.  Run first with the same
# config (`make run`, or `make paper` then `make report CONFIG=config/paper.yaml`);
# Snakemake refuses to report while outputs of the DAG are missing.
report: env
	$(CHECK_CONFIG)
	$(SNAKEMAKE) --cores 1 $(CONFIGFILES) --report results/report.html
	@echo "report: results/report.html"

paper: env
	$(CHECK_CONFIG) config/paper.yaml
	$(SNAKEMAKE) --cores $(CORES) --configfile config/paper.yaml

# docs/results.md from the metrics.json files under results/ (after `make run`)
docs: env
	PYTHONPATH=lib $(BIN)/python -m phenoflow.results_doc --run "default config=results" --out docs/results.md

bench: env
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python tests/benchmarks/bench_generation.py
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python tests/benchmarks/bench_jets.py

clean:
	rm -rf results/events results/logs results/benchmarks results/summary.md results/report.html .snakemake
