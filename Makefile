# Raccord — `make demo` and `make test` do all the set-up on a fresh machine.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= $(shell command -v python3.11 || command -v python3)
BIN := $(VENV)/bin
PORT ?= 8000
export RACCORD_DATA_DIR ?= $(CURDIR)/var
PG_URL ?= postgres://postgres@127.0.0.1:5432/raccord
PYTEST_WORKERS ?= 2

.PHONY: install system-deps demo serve test lint test-sqlite test-postgres fmt bench clean

install: $(BIN)/.installed system-deps

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e ".[dev]"
	touch $@

# Debian packages the tests drive for real: Chromium (browser tests), radclient (RADIUS),
# poppler's pdftotext/pdffonts (reading the invoice PDFs back).
system-deps:
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v radclient >/dev/null 2>&1 || missing="$$missing freeradius-utils"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  SUDO=""; [ "$$(id -u)" = 0 ] || SUDO="sudo"; \
	  echo "Installing Debian packages:$$missing"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

demo: install
	$(BIN)/raccord demo --port $(PORT)

test: install lint test-sqlite test-postgres

lint:
	$(BIN)/ruff check raccord benchmarks
	$(BIN)/ruff format --check raccord benchmarks
	$(BIN)/mypy raccord benchmarks

fmt:
	$(BIN)/ruff check --fix raccord benchmarks
	$(BIN)/ruff format raccord benchmarks

test-sqlite:
	@echo "== test suite on SQLite"
	env -u DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS) -q

# On CI an unreachable PostgreSQL is a failure, not a skip.
test-postgres:
	@echo "== test suite on PostgreSQL ($(PG_URL))"
	@if ! $(BIN)/python -c "import psycopg,sys; psycopg.connect(sys.argv[1].replace('/raccord','/postgres'), connect_timeout=5).close()" "$${DATABASE_URL:-$(PG_URL)}" 2>/dev/null; then \
	  if [ "$$CI" = "true" ]; then echo "PostgreSQL unreachable on CI: failing."; exit 1; fi; \
	  echo "PostgreSQL unreachable: skipping the PostgreSQL run (it is required on CI)."; exit 0; \
	fi; \
	DATABASE_URL="$${DATABASE_URL:-$(PG_URL)}" $(BIN)/pytest -n $(PYTEST_WORKERS) -q

bench: install
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache
