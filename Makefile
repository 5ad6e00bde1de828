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

.PHONY: bench bench-peers-venv soak run test test-services test-cluster test-embedded lint services browser package stage-from-stack deploy update undeploy status venv migrate sample clean help

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

# Deploying (docs/deployment.md). STAGE is a stage of ZAPPA_SETTINGS; deploy and update ship
# build/heroapp-$(STAGE).zip, rebuilt first when anything it is made from changed.
STAGE          ?= production
ZAPPA_SETTINGS ?= zappa_settings.json
ZIP            ?= build/heroapp-$(STAGE).zip
PACKAGE_VENV   := .venv-package/.installed
PACKAGE_INPUTS := $(shell find heroapp heroes cache_worker -type f -not -name '*.pyc' 2>/dev/null) \
                  $(wildcard rds-ca/*) manage.py requirements.txt $(ZAPPA_SETTINGS) scripts/package.sh \
                  scripts/lambda_package.py
# With --zip Zappa uploads that file and packages nothing, so which virtualenv runs it no
# longer decides what ships; the runtime-only one is the smallest that has Zappa.
ZAPPA          := VIRTUAL_ENV=$(CURDIR)/.venv-package .venv-package/bin/zappa

# The Lambda package for a Zappa stage, checked for Amazon Linux 2023 (always rebuilt).
package:
	STAGE=$(STAGE) ZAPPA_SETTINGS=$(ZAPPA_SETTINGS) OUT=$(ZIP) scripts/package.sh

$(ZIP): $(PACKAGE_INPUTS)
	STAGE=$(STAGE) ZAPPA_SETTINGS=$(ZAPPA_SETTINGS) OUT=$(ZIP) scripts/package.sh

$(PACKAGE_VENV): requirements.txt
	scripts/package.sh --venv

# Fill STAGE from the outputs of the CloudFormation stack STACK (infra/heroapp.yaml);
# EXTENDS=production creates a new stage, ZAPPA_BUCKET sets where Zappa uploads.
stage-from-stack: $(PACKAGE_VENV)
	@test -n "$(STACK)" || { echo "usage: make stage-from-stack STACK=<stack name> STAGE=<stage>"; exit 2; }
	.venv-package/bin/python scripts/stage_from_stack.py $(STACK) --stage $(STAGE) --settings $(ZAPPA_SETTINGS) \
		$(if $(EXTENDS),--extends $(EXTENDS)) $(if $(ZAPPA_BUCKET),--zappa-bucket $(ZAPPA_BUCKET))

# First deployment of a stage: the function, its S3 trigger, the keep-warm rule, API Gateway.
deploy: $(ZIP) $(PACKAGE_VENV)
	$(ZAPPA) deploy $(STAGE) -s $(ZAPPA_SETTINGS) --zip $(ZIP)

# Every later release: new code and configuration for the deployed function.
update: $(ZIP) $(PACKAGE_VENV)
	$(ZAPPA) update $(STAGE) -s $(ZAPPA_SETTINGS) --zip $(ZIP)

# Removes the function, its triggers and rules, and API Gateway (asks first).
undeploy: $(PACKAGE_VENV)
	$(ZAPPA) undeploy $(STAGE) -s $(ZAPPA_SETTINGS)

status: $(PACKAGE_VENV)
	$(ZAPPA) status $(STAGE) -s $(ZAPPA_SETTINGS)

browser:
	scripts/browser.sh

# Lint, the suite against the real servers, the cache tests again on a Redis Cluster, then a
# smoke test of the embedded default (SQLite and the in-process cache), which is what
# `make run` uses.
test: lint test-services test-cluster test-embedded

# Ruff's lint rules and its formatting (configured in pyproject.toml), checked, never applied.
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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
