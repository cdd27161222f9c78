# `make demo` and `make test` work on a fresh machine: they install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tests run on 2 workers by default; `make test PYTEST_ARGS=...` to narrow or widen.
PYTEST_ARGS ?= -n 2

.PHONY: install demo demo-down test lint typecheck bench clean frontend-deps bench-frontends

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "python3 is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(STAMP)

# Starts the sandbox (or reuses it), runs the smoke suite against it, and leaves it up so you
# can break it: `verify sandbox break ecs-under-replicated`, rerun, `verify sandbox heal`.
demo: install frontend-deps
	@$(BIN)/verify sandbox up
	@release="$$($(BIN)/verify sandbox status --field release)"; \
	$(BIN)/pytest --env=local -m smoke --release "$$release" -p no:cacheprovider; rc=$$?; \
	echo; echo "reports/verdict.json written; the sandbox is still up. Try:"; \
	echo "  $(BIN)/verify sandbox break ecs-under-replicated"; \
	echo "  $(BIN)/pytest --env=local -m smoke --release $$release"; \
	echo "  $(BIN)/verify sandbox heal && $(BIN)/verify sandbox down"; \
	exit $$rc

demo-down: install
	$(BIN)/verify sandbox down

lint: install
	$(BIN)/ruff check verify tests bench
	$(BIN)/mypy

test: install lint frontend-deps
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/smoke_latency.py

# frontends: Debian's chromium (browser checks) and nginx (the sandbox's edge), when missing.
frontend-deps:
	@missing=""; command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -e /usr/lib/nginx/modules/ngx_http_perl_module.so ] || missing="$$missing libnginx-mod-http-perl"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "install:$$missing (apt-get install$$missing)" >&2; exit 1; fi; \
	fi

bench-frontends: install frontend-deps
	$(BIN)/python bench/frontends.py

clean:
	rm -rf $(VENV) reports/*.json reports/*.xml .sandbox
