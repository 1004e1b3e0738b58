# The two commands: `make run` and `make test`. Everything they need is installed from here.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= data
LISTEN ?= 127.0.0.1:8080

.PHONY: run test lint conformance bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -m venv --help >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q python3-venv)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/gateway --data-dir $(DATA_DIR) demo --listen $(LISTEN)
	$(BIN)/gateway --data-dir $(DATA_DIR) serve --listen $(LISTEN) --lmtp-listen 127.0.0.1:2424

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: $(STAMP) lint
	$(BIN)/pytest -q

conformance: $(STAMP)
	bash conformance/run-all.sh

# The side-by-side benchmark (bench/compare.py): Radicale and Xandikos go into their own environment.
# Quick look: make bench BENCH_ARGS="--sizes 1000 --mix-seconds 10 --no-mail"
PEERS := bench/.venv-peers
BENCH_ARGS ?=

$(PEERS)/.installed: bench/peers.txt
	$(PYTHON) -m venv $(PEERS)
	$(PEERS)/bin/pip install -q --upgrade pip
	$(PEERS)/bin/pip install -q -r bench/peers.txt
	@touch $@

bench: $(STAMP) $(PEERS)/.installed
	$(BIN)/python -m bench.compare $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(PEERS) *.egg-info .pytest_cache .ruff_cache
