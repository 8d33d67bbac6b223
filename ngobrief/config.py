"""Where things live: the project's folders, the warehouse path and the run settings."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# NGOBRIEF_DATA: another data folder (a copy of data/) to pull into without touching the repository's
DATA_DIR = Path(os.environ.get("NGOBRIEF_DATA") or ROOT / "data")
MANIFEST = DATA_DIR / "sources.toml"
SQL_DIR = ROOT / "sql"
EXPECTATIONS_DIR = ROOT / "expectations"
TEMPLATES_DIR = ROOT / "templates"

# SQL layers are created in this order: each may read only the layers before it. The consistency
# views that validation checks (marts.check_*) read the marts, so they come last.
SQL_LAYERS = ("schemas.sql", "raw", "staging", "audit", "marts", "marts/checks")


def outputs_dir() -> Path:
    return Path(os.environ.get("NGOBRIEF_OUTPUTS", ROOT / "outputs"))


def warehouse_path(override: str | Path | None = None) -> Path:
    """The warehouse file: the --warehouse option, else $NGOBRIEF_WAREHOUSE, else outputs/."""
    if override:
        return Path(override)
    env = os.environ.get("NGOBRIEF_WAREHOUSE")
    return Path(env) if env else outputs_dir() / "warehouse.duckdb"


def briefs_dir() -> Path:
    return outputs_dir() / "briefs"


def validation_dir() -> Path:
    return outputs_dir() / "validation"
