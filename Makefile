# Shanhuo — the two commands: `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi.py

.PHONY: demo test install translations vendor system-deps lint test-sqlite test-postgres test-clocks bench messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip setuptools wheel

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/pip install -q -e '.[test,dev]'
	touch $@

# Flask-Babel catalogs are compiled in the build (the .mo files are not committed).
translations: $(VENV)/.installed
	$(BIN)/pybabel compile -d marketplace/translations

# Browser libraries from the npm registry, pinned and checked (sha512) in marketplace/vendor.py,
# into marketplace/static/vendor/ (not committed; skipped when already there).
vendor: $(VENV)/.installed
	$(BIN)/python -m marketplace.vendor

install: $(VENV)/.installed translations vendor

## make demo: set up and run the product on its embedded default (SQLite, in-process scheduler).
demo: install
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	@echo
	@$(BIN)/flask demo-accounts
	@echo
	@echo "Shanhuo is running at http://127.0.0.1:5000  (Ctrl-C to stop)"
	SCHEDULER_ENABLED=1 SMS_SANDBOX_INBOX=1 $(BIN)/flask run --host 127.0.0.1 --port 5000 --no-reload

# Debian packages for the browser tests (Chinese and emoji fonts), installed when missing (as root).
system-deps:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'WenQuanYi Micro Hei' || ! fc-list 2>/dev/null | grep -qi 'Noto Color Emoji'; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei fonts-noto-color-emoji >/dev/null; \
	  else echo "chromium/fonts-wqy-microhei missing and not root: browser tests will be skipped"; fi; \
	fi

lint: $(VENV)/.installed
	$(BIN)/ruff check .

## make test: lint, then the whole suite on SQLite and again on PostgreSQL, and the time-sensitive
## tests once more, each pass on its own frozen clock (tests never read the wall clock).
test: install system-deps lint test-sqlite test-postgres test-clocks

# The suite runs on a frozen, ticking clock set by SHANHUO_TEST_CLOCK (tests/conftest.py), an
# instant in UTC; each pass at another hour in Shanghai, where shifts run 06:30-22:00 (seed/data.py).
# Each pass runs on PYTEST_WORKERS pytest-xdist workers (one per core; 0: in one process). A worker
# has a database of its own (a SQLite file; on PostgreSQL <name>_gw0… made beside the pass's
# database), and a seeded county is seeded once per pass and shared (tests/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(PYTEST_WORKERS)
CLOCK_DAY ?= 2026-12-01T02:30:00Z
CLOCK_NIGHT ?= 2026-11-30T19:30:00Z
CLOCK_LATE ?= 2026-12-01T15:50:00Z
TIME_SENSITIVE := tests/marketplace/checkout tests/marketplace/planning tests/marketplace/payments tests/marketplace/test_seed.py \
  tests/marketplace/complaints tests/marketplace/logistics

# By day: 10:30 in Shanghai, every van on its shift.
test-sqlite: install
	@echo "== test-sqlite: SQLite, clock $(CLOCK_DAY)"
	SHANHUO_TEST_CLOCK=$(CLOCK_DAY) $(PYTEST)

# At night: 03:30 in Shanghai (the day before in UTC), before the first shift.
# A throwaway PostgreSQL database per run, dropped afterwards even when tests fail.
# What uses neither the session's database nor its clock runs once, in the SQLite pass:
# tests/delivery (pure Python), the tiny simulation (its own SQLite files, at a fixed instant) and
# the rate limit two processes share (their own SQLite files, Redis, the real clock).
PG_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
ONCE := --ignore=tests/delivery --ignore=tests/marketplace/test_rate_limit_storage.py \
  --deselect tests/marketplace/simulation/test_simulation.py::test_a_tiny_simulation_is_reproducible_and_its_report_is_the_database
test-postgres: install
	@echo "== test-postgres: PostgreSQL, clock $(CLOCK_NIGHT)"
	@name=shanhuo_test_$$$$_$$RANDOM; \
	$(BIN)/python .ci/pgdb.py create "$(PG_ADMIN_URL)" $$name || exit 1; \
	SHANHUO_TEST_CLOCK=$(CLOCK_NIGHT) TEST_DATABASE_URL=$$($(BIN)/python .ci/pgdb.py url "$(PG_ADMIN_URL)" $$name) \
	  $(PYTEST) $(ONCE); status=$$?; \
	$(BIN)/python .ci/pgdb.py drop "$(PG_ADMIN_URL)" $$name; exit $$status

# Late: 23:50 in Shanghai, every shift over, ten minutes before midnight: the tests whose
# outcome depends on the hour (promises, plans, payments, the seed), on SQLite.
test-clocks: install
	@echo "== test-clocks: SQLite, clock $(CLOCK_LATE)"
	SHANHUO_TEST_CLOCK=$(CLOCK_LATE) $(PYTEST) $(TIME_SENSITIVE)

# Re-extract the messages after changing user-facing text, then translate the zh_CN catalog.
messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o marketplace/translations/messages.pot .
	$(BIN)/pybabel update -N -i marketplace/translations/messages.pot -d marketplace/translations

bench: install
	$(BIN)/pip install -q -e '.[bench]'
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -q wrk; } || echo "install wrk for bench/web.py"
	@echo "See BENCHMARKS.md for the commands; they are run on purpose, not by CI."

.PHONY: fuzz audit audit-snapshot

## make fuzz: the API (schemathesis) and HTML form (hypothesis) fuzz at size, FUZZ_EXAMPLES
## examples each (make test runs them small), on a throwaway PostgreSQL database; the figures of
## each run are appended to FUZZ_REPORT (JSON lines) and printed.
FUZZ_EXAMPLES ?= 10000
FUZZ_REPORT ?= instance/fuzz-report.jsonl
fuzz: install
	@echo "== fuzz: $(FUZZ_EXAMPLES) examples per test, PostgreSQL, clock $(CLOCK_DAY)"
	@mkdir -p $(dir $(FUZZ_REPORT)); name=shanhuo_fuzz_$$$$_$$RANDOM; \
	$(BIN)/python .ci/pgdb.py create "$(PG_ADMIN_URL)" $$name || exit 1; \
	FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) FUZZ_REPORT=$(FUZZ_REPORT) SHANHUO_TEST_CLOCK=$(CLOCK_DAY) \
	  TEST_DATABASE_URL=$$($(BIN)/python .ci/pgdb.py url "$(PG_ADMIN_URL)" $$name) \
	  $(BIN)/pytest -p no:cacheprovider -s tests/fuzz; status=$$?; \
	$(BIN)/python .ci/pgdb.py drop "$(PG_ADMIN_URL)" $$name; exit $$status

## make audit: the packages we depend on against the PyPI vulnerability service (pip-audit), or,
## when that service checks none of them, against the snapshot in .ci/advisories/; fails loudly
## when neither checked any package (exit 2), and on a vulnerable one (exit 1).
audit: $(BIN)/python
	@$(BIN)/python -c "import pip_audit" 2>/dev/null || $(BIN)/pip install -q pip-audit
	$(BIN)/python .ci/advisories/audit.py audit

## make audit-snapshot: refresh .ci/advisories/pypi-snapshot.json from PyPI (commit it).
audit-snapshot: $(BIN)/python
	$(BIN)/python .ci/advisories/audit.py snapshot

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
