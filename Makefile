# Two commands for a fresh machine:
#   make run    set up and start the app on http://127.0.0.1:8000 (SQLite + in-process cache
#               unless DATABASE_URL / REDIS_URL are set)
#   make test   set up and run the tests against MariaDB and Redis on 127.0.0.1
#               (started, or installed from Debian's packages, when they are not running),
#               including end-to-end tests in Debian's Chromium (installed when missing)

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
PYTHON  ?= $(shell scripts/find-python.sh)

TEST_DATABASE_URL ?= mysql://root@127.0.0.1:3306/heroapp
TEST_REDIS_URL    ?= redis://127.0.0.1:6379/15
PYTEST_ARGS       ?=

.PHONY: bench bench-peers-venv soak run test test-services test-cluster test-embedded services browser package venv migrate sample clean help

help:
	@sed -n '1,7p' Makefile

$(STAMP): requirements.txt requirements-dev.txt scripts/system-deps.sh
	@test -n "$(PYTHON)" || { echo "No Python 3.12: see the message above."; exit 1; }
	scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --no-input

sample: migrate
	$(BIN)/python manage.py import_heroes heroes/data/heroes.csv

run: sample
	@echo "Admin: create a login with  $(BIN)/python manage.py createsuperuser"
	$(BIN)/python manage.py runserver 127.0.0.1:8000

services:
	scripts/services.sh

# The benchmark (bench/): a table, bench-results/results.json and latency.svg; then how many
# worker containers one MariaDB's connections serve (bench/connections.py, ~5 minutes).
# QUICK=1 runs small data and few repetitions (under two minutes), as CI does.
bench: venv services bench-peers-venv
	scripts/wrk.sh
	$(BIN)/python -m bench $(if $(filter 1,$(QUICK)),--quick,)
	$(BIN)/python -m bench.connections $(if $(filter 1,$(QUICK)),--quick,)

# The peers the benchmark compares heroapp with (django-cacheops, django-cachalot), in an
# environment of their own: never in the app's .venv, its requirements or the Lambda package.
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.installed: requirements.txt bench/requirements-peers.in
	$(PYTHON) -m venv $(BENCH_VENV)
	cd bench && ../$(BENCH_VENV)/bin/pip install --quiet --disable-pip-version-check \
		-r ../requirements.txt -r requirements-peers.in
	touch $@

bench-peers-venv: $(BENCH_VENV)/.installed

# The long reliability run: random operations in several processes with Redis partitioned
# for the middle third; prints attempted / failed / lost / stale. SOAK_SECONDS=60 by default.
soak: venv services
	$(BIN)/python -m bench.soak

# The Lambda package for a Zappa stage (STAGE=production by default), checked for Amazon Linux 2023.
package:
	scripts/package.sh

browser:
	scripts/browser.sh

# The suite against the real servers, the cache tests again on a Redis Cluster, then a
# smoke test of the embedded default (SQLite and the in-process cache), which is what
# `make run` uses.
test: test-services test-cluster test-embedded

test-services: venv services browser
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) \
		$(BIN)/python -m pytest $(PYTEST_ARGS)

# The cache tests on a Redis Cluster of three primaries (ElastiCache cluster mode), started
# on free loopback ports for the run and removed after it (scripts/redis_cluster.py).
test-cluster: venv services
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python scripts/redis_cluster.py run -- \
		$(BIN)/python -m pytest -m "not single_redis" tests/heroes tests/cache_worker $(PYTEST_ARGS)

test-embedded: venv
	env -u DATABASE_URL -u REDIS_URL HEROAPP_EMBEDDED_TEST=1 \
		$(BIN)/python -m pytest -m embedded $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .venv-package $(BENCH_VENV) build db.sqlite3 .pytest_cache artifacts
