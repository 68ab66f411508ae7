# The Online Safety Act tracker. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# Tests run against the machine's real PostgreSQL and Redis, with production settings except the
# https redirect (the test client speaks plain http).
TEST_ENV := SECRET_KEY=test-only-secret-key SECURE_SSL_REDIRECT=false \
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/osa_tracker} \
	CELERY_BROKER_URL=$${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}
DEV_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-true}
PORT ?= 8000

.PHONY: install run test lint format seed bench
.DEFAULT_GOAL := run

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# Static files are collected first: tests serve pages as production does (whitenoise, manifest).
test: install
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(DEV_ENV) $(PY) manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

seed: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py load_seed

# Web site, Celery worker and Celery beat together (Procfile); Ctrl-C stops all three.
# Embedded defaults (SQLite, file-system broker, e-mails in var/mail) unless DATABASE_URL,
# CELERY_BROKER_URL, ... are set in the environment.
run: seed
	$(DEV_ENV) PORT=$(PORT) $(PY) manage.py ensure_admin
	@echo
	@echo "The tracker is starting at http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/). Ctrl-C stops it."
	@echo
	$(DEV_ENV) PORT=$(PORT) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --procfile Procfile

bench: install
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(PY) bench/bench.py
