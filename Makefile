# Two commands do everything on a fresh machine: `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -o pipefail -c
# pip warns once per package about this machine's optional local indexes; keep the logs readable.
QUIET_PIP := grep -v '^WARNING: Location' || true
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.cislens-installed
BENCH_VENV := .bench-venv
BENCH_STAMP := $(BENCH_VENV)/.cislens-bench-installed
CONFIG ?= config/config.yaml
CORES ?= all
SNAKEMAKE_ARGS ?=
PYTEST_ARGS ?=
# Test processes (pytest-xdist, one test module per worker; 0 runs the suite in this process).
TEST_WORKERS ?= 2
export NUMBA_CACHE_DIR ?= $(CURDIR)/.numba_cache
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install run test lint format dry-run clean slurm-profile test-slurm bench-env

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

# As root with apt (CI), the real-SLURM tests' Debian packages are installed here, before pytest starts.
test: install
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  $(BIN)/python -m tests.support.testcluster install $${TMPDIR:-/tmp}/cislens-slurm-apt.log; fi
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src scripts tests benchmarks
	$(BIN)/snakefmt --check workflow
	$(BIN)/snakemake --lint

format: install
	$(BIN)/ruff check --fix src scripts tests benchmarks
	$(BIN)/snakefmt workflow

# The separate environment for benchmarks/train.py's CREsted and gReLU rows (their own training loops, from
# PyPI). It never touches .venv or requirements.txt; a second call does nothing until the pins change.
bench-env: $(BENCH_STAMP)

$(BENCH_STAMP): benchmarks/requirements-peers.txt
	@test -x $(BENCH_VENV)/bin/python || $(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --disable-pip-version-check -q -r benchmarks/requirements-peers.txt 2>&1 | { $(QUIET_PIP); }
	$(BENCH_VENV)/bin/pip check
	@touch $(BENCH_STAMP)

# The SLURM profile, installed where `snakemake --profile slurm` looks (docs/hpc.md):
#   make slurm-profile ACCOUNT=lab PARTITION=cpu GPU_PARTITION=gpu [GPU_MODEL=a100] [GPU_STYLE=gpu|gres]
#                      [GPUS=1] [CPUS_PER_GPU=8] [RUNTIME=60] [MEM_MB=8000] [JOBS=100] [PROFILE_DIR=...]
PROFILE_DIR ?= $(HOME)/.config/snakemake/slurm
GPU_STYLE ?= gpu
GPUS ?= 1
slurm-profile: install
	@if [ -z "$(ACCOUNT)" ] || [ -z "$(PARTITION)" ]; then \
	  echo "usage: make slurm-profile ACCOUNT=... PARTITION=... [GPU_PARTITION=...] [GPU_MODEL=...] [GPU_STYLE=gpu|gres]" >&2; \
	  exit 2; fi
	$(BIN)/python -m cislens.hpc.profile --account '$(ACCOUNT)' --partition '$(PARTITION)' \
	  --gpu-style $(GPU_STYLE) --gpus $(GPUS) --dest '$(PROFILE_DIR)' \
	  $(if $(GPU_PARTITION),--gpu-partition '$(GPU_PARTITION)') $(if $(GPU_MODEL),--gpu-model '$(GPU_MODEL)') \
	  $(if $(CPUS_PER_GPU),--cpus-per-gpu $(CPUS_PER_GPU)) $(if $(RUNTIME),--runtime $(RUNTIME)) \
	  $(if $(MEM_MB),--mem-mb $(MEM_MB)) $(if $(JOBS),--jobs $(JOBS))

# Only the tests that run the workflow on a throwaway one-node SLURM cluster (root; installs SLURM).
test-slurm: install
	$(BIN)/python -m pytest tests/integration/test_slurm.py $(PYTEST_ARGS)

clean:
	rm -rf results logs .snakemake
