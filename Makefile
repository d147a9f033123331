# Two commands matter: `make demo` (build the demo database and open the app) and
# `make test` (the whole suite). Both create .venv and install pitboard into it first:
# the demo only what pitboard needs to run, the tests its dev extras as well.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# Stamps: pitboard and its runtime dependencies; its dev extras too (pytest, hypothesis,
# dask); the numba kernels compiled into their on-disk cache. And the log of the demo's
# background warmup (benchmarks/first_run.py reads it).
RUNTIME := $(VENV)/.runtime-stamp
DEV     := $(VENV)/.dev-stamp
KERNELS := $(VENV)/.kernels-stamp
WARMUP_LOG := $(VENV)/warmup.log

# uv installs the same packages as pip, about five times faster on 2 cores (the runtime
# dependencies from an empty cache: 7 s against 35 s; benchmarks/first_run.py). pip puts
# uv itself into .venv from PyPI, so python3 and pip are all a machine needs; where uv
# cannot be had, or with `make INSTALLER=pip ...`, pip installs everything.
INSTALLER ?= uv

define install
	@if [ "$(INSTALLER)" = uv ] && { test -x $(BIN)/uv || $(BIN)/python -m pip install --quiet 'uv>=0.5'; }; then \
		echo "$(BIN)/uv pip install $(1)"; \
		$(BIN)/uv pip install --quiet --python $(BIN)/python $(1); \
	else \
		echo "$(BIN)/python -m pip install $(1)"; \
		$(BIN)/python -m pip install --quiet $(1); \
	fi
endef

.PHONY: demo test bench install dev clean

install: $(RUNTIME) $(KERNELS)

dev: $(DEV) $(KERNELS)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(RUNTIME): pyproject.toml | $(BIN)/python
	$(call install,-e .)
	touch $@

$(DEV): $(RUNTIME)
	$(call install,-e '.[dev]')
	touch $@

# numba recompiles a kernel whose source changed, so the stamp follows the sources too.
$(KERNELS): $(RUNTIME) $(wildcard core/kernels/*.py)
	$(BIN)/pitboard warmup
	touch $@

# The kernels compile in a background process while the demo builds, instead of before
# it: the build compiles the few it needs itself, into the same cache, and the replay job
# (a worker process, never the app) loads what the warmup has cached by then. `nice`: the
# build is what the user waits for, the warmup fills the idle core.
demo: $(RUNTIME)
	mkdir -p demo
	$(MAKE) --no-print-directory -q $(KERNELS) || { nice -n 10 $(MAKE) --no-print-directory $(KERNELS) > $(WARMUP_LOG) 2>&1 & }
	$(BIN)/pitboard --db demo/pitboard.db demo

test: $(DEV) $(KERNELS)
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -n 2 --dist loadgroup

bench: $(DEV) $(KERNELS)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
