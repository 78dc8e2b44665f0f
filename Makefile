# Herald: `make run` to run it, `make test` to test it. Nothing else is needed
# but Python 3.11+: PostgreSQL and Redis are embedded when no URL is given.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# The browser tests drive Debian's Chromium (Playwright's own download needs
# the internet); `make test` installs it.
CHROMIUM := /usr/bin/chromium
# The routing tests ask Alertmanager's own router (`amtool config routes test`);
# amtool comes with Debian's prometheus-alertmanager, which `make test` installs.
AMTOOL := /usr/bin/amtool
# The pooler tests run Herald through Debian's PgBouncer in transaction mode.
PGBOUNCER := /usr/sbin/pgbouncer
SUDO := $(if $(filter 0,$(shell id -u)),,sudo )

.PHONY: run test lint messages bench bench-ingest bench-delivery bench-templates bench-oncall

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtualenv: on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# make does not pass SIGTERM on to its recipe: --stop-with-parent makes Herald
# stop when make goes. Started any other way, Herald outlives its parent.
run: $(STAMP) messages
	$(BIN)/python manage.py runherald --demo --stop-with-parent

test: $(STAMP) $(CHROMIUM) $(AMTOOL) $(PGBOUNCER) messages
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff check .

# The interface's translations (issue 21): every app's locale/*/LC_MESSAGES/django.po
# compiled to .mo with Babel (pure Python; the .mo files are not in git).
# `manage.py compile_catalogues --update` first adds new texts to the .po files.
messages: $(STAMP)
	$(BIN)/python manage.py compile_catalogues

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/e2e.py $(BENCH_ARGS)

# Installed once, skipped when present. (Last: a bare `make` runs the first rule.)
$(CHROMIUM):
	$(SUDO)apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO)apt-get install -y -qq --no-install-recommends chromium

$(PGBOUNCER):
	$(SUDO)apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO)apt-get install -y -qq --no-install-recommends pgbouncer
	-$(SUDO)systemctl disable --now pgbouncer 2>/dev/null

# Only amtool is wanted: the Alertmanager service the package starts (with systemd) is stopped.
$(AMTOOL):
	$(SUDO)apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO)apt-get install -y -qq --no-install-recommends \
	  prometheus-alertmanager
	-$(SUDO)systemctl disable --now prometheus-alertmanager 2>/dev/null

bench-delivery: $(STAMP)
	$(BIN)/python bench/delivery.py $(BENCH_ARGS)

bench-templates: $(STAMP)
	$(BIN)/python bench/templates.py $(BENCH_ARGS)

# Who is on call (pure, median under 1 ms), then the escalation tick over
# 10,000 chains with schedule targets (under 1 s); each script takes its own --help.
bench-oncall: $(STAMP)
	$(BIN)/python bench/oncall.py
	$(BIN)/python bench/oncall_tick.py

# 10,000 tenants, 1 % busy (bench/tenants.py): creation per tenant, each tick,
# ingest beside idle tenants vs alone, web and worker memory. Needs a database
# of its own: createdb -h 127.0.0.1 -U postgres bench_tenants (drop it after).
BENCH_TENANTS_DB ?= postgres://postgres@127.0.0.1/bench_tenants
.PHONY: bench-tenants
bench-tenants: $(STAMP)
	DATABASE_URL=$(BENCH_TENANTS_DB) $(BIN)/python bench/tenants.py $(BENCH_ARGS)

# The cluster proof (bench/cluster/, docs/cluster.md): twelve hosts as network
# namespaces, faults while alerts flow, every alert counted. Needs root; runs its
# own PostgreSQL, RabbitMQ, Redis, HAProxy and Alertmanager inside the namespaces
# (the packages are installed if missing; HAProxy's own service is stopped).
CLUSTER_PACKAGES := haproxy rabbitmq-server redis-server postgresql
.PHONY: bench-cluster test-cluster cluster-tools
cluster-tools: $(AMTOOL)
	@missing=""; for p in $(CLUSTER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  $(SUDO)apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO)apt-get install -y -qq \
	    --no-install-recommends $$missing && { $(SUDO)systemctl disable --now haproxy 2>/dev/null || true; }; \
	fi

bench-cluster: $(STAMP) cluster-tools
	$(SUDO)$(BIN)/python -m bench.cluster $(BENCH_ARGS)

# Not part of `make test` (pytest's default run leaves the `cluster` marker out).
test-cluster: $(STAMP) cluster-tools
	$(SUDO)$(BIN)/python -m pytest -m cluster tests/ops/test_cluster.py $(PYTEST_ARGS)

# Every report query over 100,000 incidents and 1,000,000 notifications (goal: under 1 s each);
# needs DATABASE_URL to a database made for it (bench/reports.py --help).
bench-reports: $(STAMP)
	$(BIN)/python bench/reports.py $(BENCH_ARGS)
