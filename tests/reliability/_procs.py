"""Helpers for the fault, concurrency and idempotency tests: the command line as a subprocess, a
checksum of every warehouse table, and the columns that are honestly run metadata."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parents[2]

# Columns that say when or by which run a row was written, not what the data is. A load, a
# validation run or a brief written again on other days differs in these and nothing else:
#   raw.snapshots.loaded_at          — when the snapshot was loaded into this warehouse
#   audit.validation_runs.run_id/run_at, audit.validation_results.run_id/run_at — the run's id and clock
#   audit.validation_runs.report_path — the HTML report's file, named after the run's clock
#   audit.briefs.written_at          — when the PDF was written
RUN_METADATA = {
    "raw.snapshots": {"loaded_at"},
    "audit.validation_runs": {"run_id", "run_at", "report_path"},
    "audit.validation_results": {"run_id", "run_at"},
    "audit.briefs": {"written_at"},
}


def cli_env(outputs: Path | None = None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("NGOBRIEF_WAREHOUSE", "NGOBRIEF_LOCK_WAIT")}
    if outputs is not None:
        env["NGOBRIEF_OUTPUTS"] = str(outputs)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def cli_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "ngobrief.cli", *map(str, args)]


def cli(*args, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`ngobrief ARGS` in a subprocess: returns the completed process (text output)."""
    return subprocess.run(cli_cmd(*args), capture_output=True, text=True, env=env or cli_env(), cwd=ROOT,
                          timeout=timeout)


def checksums(path: Path, exclude: dict[str, set[str]] | None = None) -> dict[str, str]:
    """sha256 of every base table in every schema (ngobrief.editions.table_checksums, the one the
    editions manifest records), without the `exclude` columns (default: RUN_METADATA; pass {} to
    compare everything). Opens the file read-only: reading it changes nothing."""
    from ngobrief.editions import table_checksums

    return table_checksums(path, RUN_METADATA if exclude is None else exclude)


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def one_line_error(stderr: str) -> str:
    """The stderr of a command that failed cleanly: exactly one line, starting `error: `, no trace."""
    lines = [ln for ln in stderr.splitlines() if ln.strip()]
    assert "Traceback" not in stderr and "╭─" not in stderr, stderr[-3000:]
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr[-3000:]
    return lines[0]
