# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip warns once per package about this machine's optional local indexes; keep the logs readable.
QUIET_PIP := grep -v '^WARNING: Location' || true
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cislens-installed
CONFIG ?= config/config.yaml
CORES ?= all
SNAKEMAKE_ARGS ?=
PYTEST_ARGS ?=
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run test lint format dry-run clean

install: $(STAMP)

# Reinstall only when the pins or the package metadata change; a second call does nothing.
$(STAMP): requirements.txt pyproject.toml
	@if ! command -v bedtools >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian bedtools"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bedtools) >/dev/null; \
	  else echo "bedtools is missing: install it (e.g. apt-get install bedtools or conda install bedtools)" >&2; exit 1; fi; \
	fi
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "installing Debian chromium and chromium-driver (the report test renders the HTML report)"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver) >/dev/null; \
	  else echo "chromium/chromedriver missing: the report rendering test will be skipped" >&2; fi; \
	fi
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt 2>&1 | { $(QUIET_PIP); }
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e . 2>&1 | { $(QUIET_PIP); }
	$(BIN)/pip check
	@touch $(STAMP)

run: install
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG) $(SNAKEMAKE_ARGS)

dry-run: install
	$(BIN)/snakemake -n --configfile $(CONFIG) $(SNAKEMAKE_ARGS)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/snakefmt --check workflow
	$(BIN)/snakemake --lint

format: install
	$(BIN)/ruff check --fix src scripts tests benchmarks
	$(BIN)/snakefmt workflow

clean:
	rm -rf results logs .snakemake
