# `make demo` and `make test` work on a fresh machine: they install what is missing first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tests run on 2 workers by default; `make test PYTEST_ARGS=...` to narrow or widen.
PYTEST_ARGS ?= -n 2

.PHONY: checkov install demo demo-down test lint typecheck bench clean system-deps bench-frontends bench-monitor

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "python3 is required" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

install: $(STAMP)

# checkov (the terraform module's test) in its own venv: it pins boto3, botocore and packaging
# below ours and installs its own `hcl2` module, so it cannot share .venv.
CHECKOV_VENV := .venv-checkov
$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check 'checkov>=3.2,<4'
	@touch $@

checkov: $(CHECKOV_VENV)/.installed

# Starts the sandbox (or reuses it), runs the smoke suite against it, and leaves it up so you
# can break it: `verify sandbox break ecs-under-replicated`, rerun, `verify sandbox heal`.
demo: install system-deps
	@$(BIN)/verify sandbox up --env local
	@$(BIN)/pytest --env=local -m smoke -p no:cacheprovider -p no:randomly; rc=$$?; \
	echo; echo "reports/verdict.json written; the sandbox is still up. Try:"; \
	echo "  $(BIN)/verify sandbox faults"; \
	echo "  $(BIN)/verify sandbox break ecs-under-replicated"; \
	echo "  $(BIN)/pytest --env=local -m smoke"; \
	echo "  $(BIN)/verify sandbox heal && $(BIN)/verify sandbox down"; \
	echo "A bad deploy, rolled back and re-verified (README: Deploy gate and rollback):"; \
	echo "  $(BIN)/verify sandbox deploy --release 2026.12.06-1 --bad"; \
	echo "  $(BIN)/verify run --env=local --release 2026.12.06-1 --rollback=auto"; \
	echo "  $(BIN)/verify sandbox deploy --reset"; \
	exit $$rc

demo-down: install
	$(BIN)/verify sandbox down

lint: install
	$(BIN)/ruff check verify tests bench
	$(BIN)/mypy

test: install lint system-deps checkov
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/smoke_latency.py
	$(BIN)/python bench/queues.py
	$(BIN)/python bench/database.py
	$(BIN)/python bench/gate.py

# What the sandbox runs, from Debian's packages, when missing: Redis, Chromium (browser checks),
# nginx (the edge), PostgreSQL 15, Node.js and npm (BullMQ worker, Next.js apps).
system-deps:
	@missing=""; command -v redis-server >/dev/null || missing="$$missing redis-server"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	[ -e /usr/lib/nginx/modules/ngx_http_perl_module.so ] || missing="$$missing libnginx-mod-http-perl"; \
	[ -x /usr/lib/postgresql/15/bin/initdb ] || missing="$$missing postgresql-15"; \
	command -v npm >/dev/null || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "install:$$missing (apt-get install$$missing)" >&2; exit 1; fi; \
	fi

bench-frontends: install system-deps
	$(BIN)/python bench/frontends.py

# About 40 minutes: `verify monitor` RSS and CPU over 1,000 iterations (BENCH_ARGS=--iterations 200).
bench-monitor: install
	$(BIN)/python bench/monitor.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) reports/*.json reports/*.xml .sandbox
