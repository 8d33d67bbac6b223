# Quick start: `make run` (set-up + the annual pipeline on the bundled data) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

export DO_NOT_TRACK := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export PREFECT_HOME ?= $(CURDIR)/outputs/prefect
# `make server` listens here (loopback only); `make deploy` and `make worker` talk to it.
PREFECT_PORT ?= 4200

# Debian packages WeasyPrint and the tests need: Pango, a CJK font, harfbuzz's subsetter (without it
# a page in Noto CJK takes seconds to write), poppler-utils (pdftotext, pdffonts, pdftoppm).
APT_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk poppler-utils

.PHONY: setup system install run test clean server deploy worker

setup: system install

system:
	@missing=""; \
	ldconfig -p | grep -q 'libpango-1.0.so' || missing="$$missing libpango-1.0-0 libpangoft2-1.0-0"; \
	ldconfig -p | grep -q 'libharfbuzz-subset.so' || missing="$$missing libharfbuzz-subset0"; \
	fc-list ':lang=zh' family 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	command -v pdftotext >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(APT_PACKAGES) >/dev/null || exit 1; \
	  else \
	    echo "missing system packages:$$missing — install them (e.g. sudo apt-get install$$missing) and run make again" >&2; exit 1; \
	  fi; \
	fi

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,tui]'
	@# an editable install leaves the project's own modules uncompiled: where Python may not write
	@# bytecode (PYTHONDONTWRITEBYTECODE, as in many containers) every command would compile them again
	$(BIN)/python -m compileall -q ngobrief flows
	@touch $@

run: setup
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/ngobrief run

# The tests need the production profile's PostgreSQL and asyncpg too (test_orchestration_production.py).
test: prod-setup
	$(BIN)/python -m pytest

# Orchestration (docs/orchestration.md): a local Prefect server, the deployments in prefect.yaml on a
# process work pool, and a worker that runs them. Each in its own terminal: make server / deploy / worker.
# `make deploy` also sets up failure notifications to $NGOBRIEF_NOTIFY_URL (flows/notifications.py).
deploy worker: export PREFECT_API_URL ?= http://127.0.0.1:$(PREFECT_PORT)/api

server: install
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/prefect server start --host 127.0.0.1 --port $(PREFECT_PORT)

deploy: install
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/prefect work-pool inspect ngobrief >/dev/null 2>&1 || $(BIN)/prefect work-pool create ngobrief --type process
	$(BIN)/python -m flows.limits
	$(BIN)/prefect --no-prompt deploy --all
	$(BIN)/python -m flows.notifications

worker: setup
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/prefect worker start --pool ngobrief $(if $(WORKER_NAME),--name $(WORKER_NAME)) $(if $(WORKER_LIMIT),--limit $(WORKER_LIMIT))

# Production profile (docs/orchestration.md): the Prefect server on PostgreSQL (URL in
# PREFECT_SERVER_DATABASE_CONNECTION_URL), several workers (`make worker WORKER_NAME=a WORKER_LIMIT=3`
# on each host), one warehouse writer at a time (`make deploy` creates the limit). `make postgres`
# starts a local PostgreSQL under outputs/ to try it, run by a dedicated system user, not root.
PREFECT_HOST ?= 127.0.0.1
PG_DIR ?= outputs/postgres
PG_PORT ?= 5433

.PHONY: prod-setup prod-system postgres postgres-stop prod-server

prod-setup: setup prod-system $(VENV)/.prod-installed

prod-system:
	@if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing system packages: postgresql"; \
	    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || exit 1; \
	  else \
	    echo "missing system package: postgresql — install it (e.g. sudo apt-get install postgresql) and run make again" >&2; exit 1; \
	  fi; \
	fi

$(VENV)/.prod-installed: $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,tui,prod]'
	@touch $@

postgres: prod-setup
	$(BIN)/python deploy/local_postgres.py start --dir "$(PG_DIR)" --port $(PG_PORT)

postgres-stop:
	$(BIN)/python deploy/local_postgres.py stop --dir "$(PG_DIR)"

prod-server: prod-setup
	@mkdir -p "$(PREFECT_HOME)"
	@url="$${PREFECT_SERVER_DATABASE_CONNECTION_URL:-$$(cat "$(PG_DIR)/url" 2>/dev/null)}"; \
	case "$$url" in postgresql*) ;; *) echo "set PREFECT_SERVER_DATABASE_CONNECTION_URL (postgresql+asyncpg://USER:PASSWORD@HOST:5432/DB), or run make postgres first" >&2; exit 1;; esac; \
	PREFECT_SERVER_DATABASE_CONNECTION_URL="$$url" exec $(BIN)/prefect server start --host $(PREFECT_HOST) --port $(PREFECT_PORT)

clean:
	rm -rf outputs $(VENV) *.egg-info

# Benchmarks with ratios against baselines measured in the same run (docs/performance.md):
# `make bench`, or `make bench BENCH_QUICK=1` for fewer runs and sizes. Reports go to outputs/bench/.
.PHONY: bench
bench: setup $(VENV)/.bench-installed
	$(BIN)/python bench/run.py $(if $(BENCH_QUICK),--quick)

$(VENV)/.bench-installed: $(VENV)/.installed
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -e '.[test,bench]'
	@touch $@
