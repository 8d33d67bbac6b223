# The worker image for a docker or kubernetes work pool (deploy/prefect.docker.yaml,
# docs/orchestration.md): the project, the system packages WeasyPrint needs and the CJK fonts.
# Build from the project folder:  docker build -t REGISTRY/ngobrief-worker:TAG .
# Not built on the machine it was written on (no docker daemon there); tests/test_deploy_files.py
# checks what can be checked without one.
FROM python:3.11-slim-bookworm

# Pango for WeasyPrint, harfbuzz's subsetter (without it a page in Noto CJK takes seconds to write),
# the CJK font the Chinese briefs use; the same list as the Makefile's APT_PACKAGES, minus
# poppler-utils, which only the tests use.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*

ENV DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NGOBRIEF_OUTPUTS=/data/outputs \
    PREFECT_HOME=/data/prefect

WORKDIR /opt/ngobrief
# Dependencies first (pinned by constraints.txt), so that a code change reuses this layer.
COPY pyproject.toml constraints.txt README.md ./
RUN mkdir ngobrief flows \
 && pip install --no-cache-dir -c constraints.txt -e . \
 && rm -rf ngobrief flows
# The library reads sql/, expectations/, templates/ and data/ beside its package: an editable
# install keeps them where it looks.
COPY ngobrief ngobrief
COPY flows flows
COPY sql sql
COPY expectations expectations
COPY templates templates
COPY data data
COPY prefect.yaml prefect.toml ./
# Compiled once here: PYTHONDONTWRITEBYTECODE keeps Python from writing bytecode at run time, so
# without this every command compiles the project's modules again (~0.07 s of each brief).
RUN python -m compileall -q ngobrief flows

# Runs as its own user; /data is where the shared volume with the warehouse and editions is mounted.
RUN useradd --create-home --uid 10001 ngobrief \
 && mkdir -p /data \
 && chown ngobrief:ngobrief /data
USER ngobrief
VOLUME ["/data"]

# A docker or kubernetes worker starts each flow run with its own command; this default just
# proves the image: the library and its data load.
CMD ["python", "-c", "import ngobrief.pipeline as p; print(len(p.pull_stage()), 'bundled snapshots')"]
