# The README's two commands: `make demo` (the connector end to end against the bundled fake server) and
# `make test` (the whole suite). Both set up .venv from the lock (requirements-dev.lock) first; nothing else is needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench duckdb postgres soak simulate clean lock

# Every package from the lock, hashes required (the build backend too: hence --no-build-isolation).
$(STAMP): pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m tools.demo

test: $(STAMP)
	$(BIN)/python -m pytest

# The benchmark: the connector against a plain requests loop on the same fake server (see README, Performance).
# Options: make bench BENCH_ARGS="--messages 300000 --latency-ms 100" (or --large for 1,000,000 messages).
bench: $(STAMP)
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .venv-py3.* .venv-lock output .pytest_cache

# Refreshes requirements.lock and requirements-dev.lock after a change to pyproject.toml's dependencies (uv, in
# .venv-lock/; pins that still fit are kept). LOCK_ARGS="--upgrade :all:" (or a package name) moves pins forward.
lock: $(STAMP)
	$(BIN)/python -m tools.lock $(LOCK_ARGS)

# The demo's data read with PyAirbyte into a DuckDB file (output/duckdb/), as a newcomer would try it.
duckdb: $(STAMP)
	$(BIN)/python -m tools.duckdb_demo

# The demo's data read with PyAirbyte into a throwaway PostgreSQL (Debian's package, installed if missing and root),
# read again incrementally after a few changes, and queried with psql; POSTGRES_ARGS=--keep leaves it running.
postgres: $(STAMP)
	$(BIN)/python -m tools.postgres_demo $(POSTGRES_ARGS)

# A soak check to run by hand: many syncs against a fake server that fails often (not part of `make test`);
# options: make soak SOAK_ARGS="--rounds 4 --fault-rate 0.3" (python -m tools.soak --help).
soak: $(STAMP)
	$(BIN)/python -m tools.soak $(SOAK_ARGS)

# The sync simulation, long (not part of `make test`): SIMULATE_ARGS="--syncs 200" or "--seed N --syncs 40".
simulate: $(STAMP)
	$(BIN)/python -m tools.simulate $(SIMULATE_ARGS)
