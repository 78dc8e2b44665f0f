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
SUDO := $(if $(filter 0,$(shell id -u)),,sudo )

.PHONY: run test lint bench bench-ingest bench-delivery bench-templates bench-oncall

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || { \
	  echo "Could not create a virtualenv: on Debian/Ubuntu, apt-get install python3-venv"; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

# make does not pass SIGTERM on to its recipe: --stop-with-parent makes Herald
# stop when make goes. Started any other way, Herald outlives its parent.
run: $(STAMP)
	$(BIN)/python manage.py runherald --demo --stop-with-parent

test: $(STAMP) $(CHROMIUM) $(AMTOOL)
	$(BIN)/python -m ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/python -m ruff check .

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/e2e.py $(BENCH_ARGS)

# Installed once, skipped when present. (Last: a bare `make` runs the first rule.)
$(CHROMIUM):
	$(SUDO)apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO)apt-get install -y -qq --no-install-recommends chromium

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
