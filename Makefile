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
	@touch $@

run: setup
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/ngobrief run

test: setup
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
	$(BIN)/prefect --no-prompt deploy --all
	$(BIN)/python -m flows.notifications

worker: setup
	@mkdir -p "$(PREFECT_HOME)"
	$(BIN)/prefect worker start --pool ngobrief

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
