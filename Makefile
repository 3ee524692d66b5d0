# Entity Onboarding — everyday commands. Needs only python3, make and PyPI
# (plus apt-get, as root, for Chromium the first time `make test` runs).

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON3 ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
FLASK := $(VENV)/bin/flask --app wsgi
PYTEST := $(VENV)/bin/pytest
RUFF := $(VENV)/bin/ruff

# Stamps record that the venv holds what pyproject.toml asks for; a newer
# pyproject.toml reinstalls.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

CHROMIUM := /usr/lib/chromium/chromium
# Trust-auth role and database of the local PostgreSQL (see TOOLCHAIN.md).
PG_DEFAULT_URL := postgresql+psycopg://postgres@127.0.0.1:5432/test

.PHONY: help run test lint clean distclean messages bench

help:
	@echo "make run    serve the app with demo data on http://127.0.0.1:5000, and a job consumer"
	@echo "make test   every test on SQLite, then unit+integration on PostgreSQL when it answers"
	@echo "make lint   unique test module names, ruff check, ruff format --check, mypy on app/ (make test runs it first)"
	@echo "make messages  extract the messages to translate and update the .po catalogs"
	@echo "make clean  remove caches and build output (distclean: also .venv and instance/)"

$(PY):
	$(PYTHON3) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PIP) install -e .
	touch $@

# The test extra includes everything `run` needs, so it satisfies both stamps.
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PIP) install -e '.[test]'
	touch $@ $(RUN_STAMP)

# Playwright cannot download browsers here: use Debian's Chromium.
$(CHROMIUM):
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 update
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y chromium
	test -x $@

# Translations: the .po catalogs are the source; run and test compile the .mo files.
PO_FILES := $(wildcard app/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

%.mo: %.po | $(RUN_STAMP)
	$(VENV)/bin/pybabel compile --statistics -i $< -o $@

messages: $(RUN_STAMP)
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k N_ --project "Entity Onboarding" \
	  --msgid-bugs-address "" -o app/translations/messages.pot .
	$(VENV)/bin/pybabel update -i app/translations/messages.pot -d app/translations

# The web app and one job consumer; Ctrl-C stops both.
run: $(RUN_STAMP) $(MO_FILES)
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@$(FLASK) jobs worker --workers 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port 5000

# Runs both suites even when the first fails, and fails if either did
# (pytest's exit 5, "no tests collected", is a failure too).
test: lint $(TEST_STAMP) $(CHROMIUM) $(MO_FILES)
	@status=0; \
	echo "== pytest: whole suite on SQLite"; \
	env -u TEST_DATABASE_URL $(PYTEST) || status=1; \
	url="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$url" ]; then \
	  if $(PY) -c 'import socket; socket.create_connection(("127.0.0.1", 5432), timeout=3).close()' 2>/dev/null; then \
	    url="$(PG_DEFAULT_URL)"; \
	    if [ "$${CI:-}" != true ] && ! $(PY) -c 'import sys, psycopg; psycopg.connect(sys.argv[1].replace("+psycopg", "", 1), connect_timeout=5).close()' "$$url" 2>/dev/null; then \
	      echo "== PostgreSQL answers on 127.0.0.1:5432 but $$url does not log in; skipping the PostgreSQL run (set TEST_DATABASE_URL)"; \
	      url=""; \
	    fi; \
	  else \
	    echo "== PostgreSQL does not answer on 127.0.0.1:5432 and TEST_DATABASE_URL is unset; skipping the PostgreSQL run"; \
	  fi; \
	fi; \
	if [ -n "$$url" ]; then \
	  echo "== pytest: tests/unit tests/integration on $$url"; \
	  TEST_DATABASE_URL="$$url" $(PYTEST) tests/unit tests/integration || status=1; \
	fi; \
	exit $$status

lint: $(TEST_STAMP)
	@dups=$$(find tests -name 'test_*.py' -printf '%f\n' | sort | uniq -d); \
	if [ -n "$$dups" ]; then echo "test modules share a name across folders (pytest refuses that): $$dups"; exit 1; fi
	$(RUFF) check .
	$(RUFF) format --check .
	$(VENV)/bin/mypy

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache build dist *.egg-info tests/e2e/screenshots test-results

distclean: clean
	rm -rf $(VENV) instance

# Page weight and Lighthouse scores, written to docs/benchmarks.md (figures, not tests).
# Lighthouse comes from bench/package-lock.json; both scripts run even if the first fails.
bench: $(TEST_STAMP) $(CHROMIUM) $(MO_FILES)
	@test -x bench/node_modules/.bin/lighthouse || npm ci --prefix bench --no-audit --no-fund
	@status=0; \
	$(PY) bench/page_weight.py || status=1; \
	$(PY) bench/lighthouse.py || status=1; \
	exit $$status
