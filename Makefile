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

bench: $(STAMP)
	$(BIN)/python -m bench.propfind
	$(BIN)/python -m bench.caldav
	$(BIN)/python -m bench.carddav
	$(BIN)/python -m bench.mail
	$(BIN)/python -m bench.lmtp

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache
