"""The DuckDB warehouse: create it from sql/, load snapshots atomically, open it for reading."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from . import config
from .errors import WarehouseBusyError

# Which raw and staging tables each parser fills.
TARGETS = {
    "long_csv": ("raw.observations", "staging.observations"),
    "survey_csv": ("raw.survey_priorities", "staging.survey_priorities"),
    "org_register": ("raw.org_register", "staging.org_register"),
}


def sql_files() -> list[Path]:
    """Every .sql file, layer by layer in config.SQL_LAYERS order, then by name."""
    files: list[Path] = []
    for layer in config.SQL_LAYERS:
        p = config.SQL_DIR / layer
        files.extend([p] if p.is_file() else sorted(p.glob("*.sql")))
    return files


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a lock held by another process becomes a message, not a trace."""
    path = config.warehouse_path(path)
    if read_only and not path.exists():
        raise WarehouseBusyError(f"no warehouse at {path}: run `ngobrief run` first")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusyError(
                f"the warehouse {path} is in use by another process ({_lock_holder(exc)}); "
                "wait for it to finish and try again") from None
        raise


def _lock_holder(exc: Exception) -> str:
    text = str(exc)
    i = text.find("PID")
    return text[i:].split(")")[0].strip() if i >= 0 else "lock held"


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema, table and view from sql/ (safe to run again)."""
    for f in sql_files():
        try:
            con.execute(f.read_text(encoding="utf-8"))
        except duckdb.Error as exc:
            raise duckdb.Error(f"{f.relative_to(config.ROOT)}: {exc}") from exc


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection):
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def loaded_sha256(con: duckdb.DuckDBPyConnection, snapshot_id: str) -> str | None:
    row = con.execute("SELECT sha256 FROM raw.snapshots WHERE snapshot_id = ?", [snapshot_id]).fetchall()
    return row[0][0] if row else None


def load_snapshot(con, snapshot, raw: pl.DataFrame, typed: pl.DataFrame) -> int:
    """Replace one snapshot's rows in raw and staging in a single transaction.

    Loading the same bytes again changes nothing (not even the provenance timestamp)."""
    raw_table, staging_table = TARGETS[snapshot.parser]
    if loaded_sha256(con, snapshot.snapshot_id) == snapshot.sha256:
        return 0
    raw = raw.with_columns(pl.lit(snapshot.snapshot_id).alias("snapshot_id"))
    typed = typed.with_columns(pl.lit(snapshot.snapshot_id).alias("snapshot_id"))
    with transaction(con):
        for table, frame in ((raw_table, raw), (staging_table, typed)):
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            con.execute(f"DELETE FROM {table} WHERE snapshot_id = ?", [snapshot.snapshot_id])
            con.register("incoming", frame.select(cols).to_arrow())
            con.execute(f"INSERT INTO {table} SELECT * FROM incoming")
            con.unregister("incoming")
        con.execute("DELETE FROM raw.snapshots WHERE snapshot_id = ?", [snapshot.snapshot_id])
        con.execute(
            "INSERT INTO raw.snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [snapshot.snapshot_id, snapshot.file, snapshot.sha256, snapshot.bytes, snapshot.parser,
             snapshot.origin, dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), typed.height],
        )
    return typed.height


def load_sources(con, sources: dict[str, dict]) -> int:
    """Replace raw.sources with the manifest's source documents."""
    rows = [(sid, s.get("publisher"), s.get("title"), s.get("url"), s.get("published"),
             s.get("kind"), s.get("notes")) for sid, s in sorted(sources.items())]
    with transaction(con):
        con.execute("DELETE FROM raw.sources")
        con.executemany("INSERT INTO raw.sources VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


def query(con, sql: str, params=None) -> pl.DataFrame:
    """A query's result as a Polars frame (parameters bound, never formatted in)."""
    return con.sql(sql, params=params).pl()
