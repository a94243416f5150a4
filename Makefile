# Otklik: two commands for a newcomer — `make run` and `make test`.
PYTHON_VERSION := $(shell cat .python-version)
PORT ?= 8000
export PORT
WORKER_VERBOSITY ?= 1
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Find a Python 3.12: pyenv's shim, python3.12 on PATH, or python3 if it is 3.12.
BOOTSTRAP_PY := $(shell command -v python$(PYTHON_VERSION) 2>/dev/null || command -v python3 2>/dev/null)

.PHONY: run test lint format check install locales secrets clean logins serve lock mutate

# Dependencies come from requirements.lock (exact versions with hashes, made from
# pyproject.toml by `make lock`), installed by uv — itself a single wheel that pip fetches
# first — in about 30 s instead of pip's 4–5 minutes on a fresh machine. If uv cannot be
# had, pip installs the same lock (slower, same result).
UV_VERSION := 0.13.9
$(STAMP): pyproject.toml requirements.lock
	@$(BOOTSTRAP_PY) -c 'import sys; assert sys.version_info[:2] == (3, 12), "Python 3.12 is required, found " + sys.version' 
	test -x $(PY) || $(BOOTSTRAP_PY) -m venv $(VENV)
	@if $(PY) -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)" 2>/dev/null; then \
		echo "installing requirements.lock with uv"; \
		$(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes -r requirements.lock && \
		$(VENV)/bin/uv pip install --quiet --python $(PY) --no-deps -e . ; \
	else \
		echo "uv is not available: installing requirements.lock with pip"; \
		$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.lock && \
		$(PY) -m pip install --quiet --disable-pip-version-check --no-deps -e . ; \
	fi
	touch $(STAMP)

# Re-resolve the locks from pyproject.toml (after changing a dependency): requirements.lock
# (with the dev tools) for make run/test, requirements.prod.lock for the container image.
lock: $(STAMP)
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version $(PYTHON_VERSION) --quiet -o requirements.lock
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal \
		--python-version $(PYTHON_VERSION) --quiet -o requirements.prod.lock

install: $(STAMP)

# This installation's own random secrets (SECRET_KEY, back-office HMAC secret, demo API
# token) as files under var/, mode 0600, created once; a deployment sets them in its
# environment instead (README, "Production"). Settings refuse to load without them.
secrets: $(STAMP)
	@$(PY) -m otklik.common.secrets

locales: $(STAMP) secrets
	$(PY) manage.py compile_locales

# PORT is exported: the site's public URL (links in e-mails) and the demo back office
# default to http://127.0.0.1:$(PORT)/, so they follow the port the server runs on.
# `make run` is development (DEBUG=1): the demo loader runs and prints its logins.
run: export DEBUG ?= 1
run: install secrets
	@# The catalogues compile while the database migrates: neither needs the other, and a
	@# first start has two cores to use (the demo's texts need both, so both finish first).
	@$(PY) manage.py compile_locales & LOCALES=$$!; \
	$(PY) manage.py migrate --noinput; MIGRATED=$$?; wait $$LOCALES && test $$MIGRATED = 0
	$(PY) manage.py load_demo
	@# The background worker (job queue + periodic scans: outbox delivery, SLA deadlines)
	@# starts once the server answers (not while it boots on the same cores), runs next to
	@# it and stops with it (trap), or by itself if make dies. The worker is quiet unless
	@# WORKER_VERBOSITY=2; the logins are printed again, last, once the server is up (and on
	@# request: `make logins`).
	@( $(PY) deploy/wait_for_http.py http://127.0.0.1:$(PORT)/login/ && { \
		$(PY) manage.py run_worker --exit-with-parent --verbosity $(WORKER_VERBOSITY) & \
		$(PY) manage.py demo_logins; echo; echo "Open http://127.0.0.1:$(PORT)/"; wait; } ) & AFTER=$$!; \
	trap 'kill $$AFTER 2>/dev/null; wait $$AFTER 2>/dev/null' EXIT INT TERM; \
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

# Production-style, on this machine: gunicorn with uvicorn workers (HTTP + websockets,
# WEB_CONCURRENCY processes), JSON logs, Prometheus metrics summed over the processes, and
# the worker beside it. No demo data and no DEBUG; settings from the environment (README,
# "Production"). HOST defaults to 127.0.0.1 here; the container binds 0.0.0.0.
serve: export OTKLIK_LOG_FORMAT ?= json
serve: export PROMETHEUS_MULTIPROC_DIR ?= $(CURDIR)/var/prometheus
serve: export HOST ?= 127.0.0.1
serve: install locales secrets
	$(PY) manage.py migrate --noinput
	@$(PY) manage.py run_worker --exit-with-parent & WORKER=$$!; \
	trap 'kill $$WORKER 2>/dev/null; wait $$WORKER 2>/dev/null' EXIT INT TERM; \
	$(VENV)/bin/gunicorn --config deploy/gunicorn.conf.py otklik.asgi:application

logins: install secrets
	@$(PY) manage.py demo_logins

test: install locales
	$(PY) -m pytest $(PYTEST_ARGS)

# Mutation testing of one module (tools/mutate, docs/testing.md):
#   make mutate MODULE=otklik.handoffs.services [TESTS="tests/handoffs tests/cases"] [JOBS=2]
# It runs on the embedded SQLite test database whatever DATABASE_URL says.
MUTATE_TESTS = $(or $(TESTS),tests/$(word 2,$(subst ., ,$(MODULE))))
mutate: install locales
	@test -n "$(MODULE)" || (echo "usage: make mutate MODULE=otklik.app.module [TESTS=...]"; exit 2)
	env -u DATABASE_URL -u REDIS_URL $(PY) -m pytest -p tools.mutate.plugin -p no:cacheprovider \
	  -q -m "not browser" --mutate $(MODULE) --mutate-jobs $(or $(JOBS),2) \
	  --mutate-report var/mutate-$(MODULE).json $(MUTATE_TESTS)

lint: install secrets
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) manage.py check

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var .pytest_cache
