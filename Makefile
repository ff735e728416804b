# Canh Gác — the two commands are `make demo` and `make test`; everything they need is set up here.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STACK := $(PY) deploy/stack/stack.py
STAMP := $(VENV)/.installed
# The Rust parts (the agent's process listener, the collector's pre-filter stage) are built by `pip install`
# (setuptools-rust) with rustup's cargo when there is one; their build directory is kept out of the
# checkout so that a fresh clone reuses what was compiled.
LISTENER_CRATE := agent/sensors/process/native
NATIVE := $(LISTENER_CRATE) collector/detection/native
export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TARGET_DIR ?= $(HOME)/.cache/canhgac/cargo-target

.PHONY: demo test lint stack stack-down bench clean venv system-deps

venv: $(STAMP)

$(STAMP): pyproject.toml $(foreach crate,$(NATIVE),$(wildcard $(crate)/Cargo.* $(crate)/src/*.rs))
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## The main job: a local stack, an agent, the collector and its API, producing real alerts.
demo: venv
	$(PY) deploy/demo.py

## Every test: lint, types, import boundaries, unit, integration (real Kafka + Elasticsearch), end to end.
test: venv lint system-deps
	@# The stack is set up (downloads, certificates, users) before pytest, outside any test's time limit.
	$(STACK) up --name $${CANHGAC_TEST_STACK:-test} >/dev/null
	@# The compiled listener's own tests (parsing, encoding), where cargo is installed.
	if command -v cargo >/dev/null; then cargo test --quiet --release --manifest-path $(LISTENER_CRATE)/Cargo.toml; fi
	$(PY) -m pytest $(PYTEST_ARGS)

system-deps:
	@bash deploy/install-system-deps.sh

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

stack: venv
	$(STACK) up

stack-down:
	$(PY) deploy/stack/stack.py down

bench: venv system-deps
	$(PY) -m benchmarks

## Fault injection for MINUTES (10): kill -9, Kafka/Elasticsearch outages, hostile input; fails on loss or duplicate.
soak: venv system-deps
	$(PY) -m tests.faults.soak --minutes $(or $(MINUTES),10) --report benchmarks/results/soak.json

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info collector/detection/_prefilter_native.*.so
