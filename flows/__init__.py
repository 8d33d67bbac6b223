"""Prefect flows: the pipeline's table of contents. Each flow composes stages of the ngobrief library."""

import os

# Telemetry off unless the user chose otherwise (Prefect reads these when it starts a client or server).
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
