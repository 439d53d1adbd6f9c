# The two set-up commands of the README are `make demo` and `make test`; both create .venv when missing.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3
export DAGSTER_HOME := $(CURDIR)

.PHONY: venv demo test lint lint-sql check-defs list-defs test-production dev serve status bench bench-smoke check clean bi bi-venv

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

venv: $(VENV)/.installed

demo: venv  ## embedded Postgres (unless GLAME_WAREHOUSE_URL) + sandbox + 30 days through Dagster + summary
	$(VENV)/bin/glame demo

test: venv bi-venv lint lint-sql check-defs  ## ruff, sqlfluff, dg check defs, then the test suite on a real Postgres (GLAME_TEST_DATABASE_URL, else embedded)
	$(PY) -m pytest

lint: venv  ## ruff: lint and format over the Python code
	$(VENV)/bin/ruff check glame_pipelines tests bench
	$(VENV)/bin/ruff format --check glame_pipelines tests bench

# `dg check defs` on an empty throwaway instance: the definitions load and validate as the UI will see them
check-defs: venv  ## dg check defs
	home=$$(mktemp -d) && DAGSTER_HOME=$$home VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		$(VENV)/bin/dg check defs; status=$$?; rm -rf $$home; exit $$status

list-defs: venv  ## dg list defs (assets, checks, jobs, schedules, sensors, resources)
	home=$$(mktemp -d) && DAGSTER_HOME=$$home VIRTUAL_ENV=$(CURDIR)/$(VENV) PATH="$(CURDIR)/$(VENV)/bin:$$PATH" \
		$(VENV)/bin/dg list defs; status=$$?; rm -rf $$home; exit $$status

# sqlfluff's dbt templater compiles each model, and dbt's is_incremental() asks the database whether the model's
# table exists: the lint connects to a Postgres and reads its catalog, nothing more. By default the local one CI
# starts (its `postgres` database always exists); LINT_DB_HOST/PORT/USER/NAME point elsewhere. It lints the SQL as
# rendered: the incremental models' full-refresh branch there, their incremental one with LINT_DB_NAME set to a
# built warehouse. The rules and why some are off: [tool.sqlfluff] in pyproject.toml.
LINT_DB_HOST ?= 127.0.0.1
LINT_DB_PORT ?= 5432
LINT_DB_USER ?= postgres
LINT_DB_NAME ?= postgres
lint-sql: venv  ## sqlfluff over the dbt models and singular tests (postgres dialect, dbt templater)
	GLAME_DB_HOST=$(LINT_DB_HOST) GLAME_DB_PORT=$(LINT_DB_PORT) GLAME_DB_USER=$(LINT_DB_USER) GLAME_DB_PASSWORD= \
		GLAME_DB_NAME=$(LINT_DB_NAME) $(VENV)/bin/sqlfluff lint dbt_project/models dbt_project/tests

test-production: venv  ## glame serve, run monitoring, Celery workers, the 30-day fault run (minutes each; CI runs it too)
	$(PY) -m pytest -m production

GLAME_DEV_PORT ?= 3000
DEV_PORT ?= $(GLAME_DEV_PORT)
dev: venv  ## the Dagster UI on http://127.0.0.1:3000 (`make dev DEV_PORT=3001`); Ctrl-C or SIGTERM stops every process it started
	$(VENV)/bin/glame dev --port $(DEV_PORT)

serve: venv  ## production topology: code server, webserver (GLAME_UI_HOST:GLAME_UI_PORT), daemon; logs in GLAME_LOG_DIR
	$(VENV)/bin/glame serve

status: venv  ## last loads, freshness, failures, queue; exit 1 unless all is well
	$(VENV)/bin/glame status

check: venv  ## one authenticated call per configured source
	$(VENV)/bin/glame check

# Superset (the dashboards) lives in its own virtualenv: its pins (SQLAlchemy 1.4, pandas 2.1) clash with ours
BI_VENV := .venv-bi
$(BI_VENV)/.installed: bi/requirements.txt
	test -x $(BI_VENV)/bin/python || $(PYTHON) -m venv $(BI_VENV)
	$(BI_VENV)/bin/python -m pip install --quiet -r bi/requirements.txt
	touch $@

bi-venv: $(BI_VENV)/.installed

bi: venv bi-venv  ## Superset with the dashboards on http://127.0.0.1:8088 (GLAME_BI_PORT); Ctrl-C stops it
	$(VENV)/bin/glame bi

# dlt, the peer tool the bench compares against, lives in its own virtualenv: its dependencies are not ours
DLT_VENV := bench/.venv-dlt
$(DLT_VENV)/.installed: bench/requirements-dlt.txt
	test -x $(DLT_VENV)/bin/python || $(PYTHON) -m venv $(DLT_VENV)
	$(DLT_VENV)/bin/python -m pip install --quiet -r bench/requirements-dlt.txt
	touch $@

bench: venv bi-venv $(DLT_VENV)/.installed  ## benchmarks (about 15 min); writes bench/results.md
	GLAME_DLT_PYTHON=$(CURDIR)/$(DLT_VENV)/bin/python $(PY) bench/run.py

bench-smoke: venv bi-venv $(DLT_VENV)/.installed  ## every bench step at tiny sizes (a few min); writes bench/results-smoke.md
	BENCH_SMOKE=1 GLAME_DLT_PYTHON=$(CURDIR)/$(DLT_VENV)/bin/python $(PY) bench/run.py

clean:
	rm -rf dbt_project/target dbt_project/logs .pytest_cache
