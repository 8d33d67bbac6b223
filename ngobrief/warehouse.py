"""The DuckDB warehouse: create it from sql/, load snapshots atomically, open it for reading."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl

from . import config
from .errors import NgobriefError, WarehouseBusyError, WarehouseMissingError

# The marts a brief reads, as tables made when an edition is published (cache_marts): what a brief
# reads instead of the views, whose planning costs ~10-20 ms a query however few their rows.
CACHE_SCHEMA = "marts_cache"
# The views the briefs read (tests/test_marts_cache.py fails when a brief reads one not listed here).
# Each costs ~10-35 ms to copy at publish; the checks, the register's own views and the dated
# source_freshness are read by validation and by users, from the views.
CACHED = frozenset({"check_subtotals", "check_year_on_year", "figures", "figures_by_field", "foreign_ngos_in_china",
                    "participation", "register_foundations_by_group", "registered_cagr", "registered_trends",
                    "source_disagreements"})


def sql_files() -> list[Path]:
    """Every .sql file, layer by layer in config.SQL_LAYERS order, then by name."""
    files: list[Path] = []
    for layer in config.SQL_LAYERS:
        p = config.SQL_DIR / layer
        files.extend([p] if p.is_file() else sorted(p.glob("*.sql")))
    return files


# New warehouse files are written in the storage format of DuckDB 1.4 (the long-term-support
# release), which DuckDB 1.4, 1.5 and 2.0 all read: older tools such as the last command-line shell
# on PyPI (duckdb-cli 1.5) cannot open a file in DuckDB 2.0's own format. The format is fixed when the
# file is created; later writes by DuckDB 2.0 keep it (see docs/warehouse.md).
STORAGE_VERSION = "v1.4.0"


def connect(path: str | Path | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse; a lock held by another process becomes a message, not a trace."""
    path = config.warehouse_path(path)
    if not path.exists():
        if read_only:
            raise WarehouseMissingError(f"no warehouse at {path}: run `ngobrief run` (or `ngobrief pull`) first")
        path.parent.mkdir(parents=True, exist_ok=True)
        _open(path, read_only=False, config={"storage_compatibility_version": STORAGE_VERSION}).close()
    return _open(path, read_only=read_only)


def connect_for_reading(path: str | Path | None = None) -> duckdb.DuckDBPyConnection:
    """A read-only connection whose SQL cannot reach files or the network either (no ATTACH, COPY TO,
    read_csv, INSTALL): what a user's own queries run on, so that they can only read the warehouse."""
    con = connect(path, read_only=True)
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def storage_version(con: duckdb.DuckDBPyConnection) -> str | None:
    """The oldest DuckDB release that reads this warehouse file, e.g. 'v1.4.0+'."""
    rows = con.sql("SELECT tags FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    return (rows[0][0] or {}).get("storage_version") if rows else None


def _open(path: Path, *, read_only: bool, config: dict | None = None) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config or {})
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseBusyError(
                f"the warehouse {path} is locked by another process: {lock_holder(str(exc))}. "
                "DuckDB lets one process write, or several processes read, at a time: "
                "wait for it to finish and try again") from None
        raise


def lock_holder(message: str) -> str:
    """Who holds the lock, from DuckDB's message: the program and PID, and the command line where
    the system shows it (e.g. 'PID 4242, `ngobrief run --year 2012`')."""
    m = re.search(r"lock is held in (.+?) \(PID (\d+)\)", message)
    if not m:
        return "DuckDB does not say which one"
    program, pid = m.group(1), m.group(2)
    try:
        argv = [a.decode(errors="replace") for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]
    except OSError:  # not Linux, or the process has just ended
        argv = []
    # the program's name, not its folder: `python3.11 ngobrief run`
    if argv:
        argv[0] = Path(argv[0]).name
        if argv[0].startswith("python") and len(argv) > 1 and "/" in argv[1]:
            argv[1] = Path(argv[1]).name
    command = " ".join(" ".join(argv).split())  # one line, however the command was typed
    if len(command) > 100:
        command = command[:99] + "…"
    return f"PID {pid}, `{command or program}`"


def sql_digest(files: list[Path] | None = None) -> str:
    """The sha256 of every file under sql/ (paths and bytes): what a warehouse's tables and views are made from."""
    h = hashlib.sha256()
    for f in files or sql_files():
        h.update(f"{f.relative_to(config.SQL_DIR)}\n".encode())
        h.update(f.read_bytes())
    return h.hexdigest()


# the tables and views sql/ makes (marts_cache is made at publish, from the marts: not counted)
_OBJECTS = ("SELECT (SELECT count(*) FROM duckdb_tables() WHERE NOT internal AND database_name = current_database()"
            f" AND schema_name <> '{CACHE_SCHEMA}')"
            " + (SELECT count(*) FROM duckdb_views() WHERE NOT internal AND database_name = current_database())")


def _has_digest_table(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(con.sql("SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND schema_name = 'audit' AND table_name = 'schema_digest'").fetchall())


def created_digest(con: duckdb.DuckDBPyConnection) -> str | None:
    """The sql/ digest this file's tables and views were last created from (audit.schema_digest), when
    they are all still there (as many tables and views as then)."""
    if not _has_digest_table(con):
        return None
    row = con.sql(f"SELECT digest FROM audit.schema_digest WHERE objects = ({_OBJECTS}) LIMIT 1").fetchall()
    return row[0][0] if row else None


def create(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema, table and view from sql/ (safe to run again); nothing to do when the file
    records that it was last created from exactly the present sql/ (audit.schema_digest).

    Within a layer a view may read another view of the same layer whatever their file names: a
    file that names an object not created yet is retried after the others, until no file succeeds."""
    files = sql_files()
    digest = sql_digest(files)
    if created_digest(con) == digest:
        return
    pending = files
    while pending:
        failed: list[tuple[Path, duckdb.Error]] = []
        for f in pending:
            try:
                con.execute(f.read_text(encoding="utf-8"))
            except duckdb.CatalogException as exc:
                failed.append((f, exc))
            except (duckdb.IOException, duckdb.TransactionException, duckdb.FatalException):
                raise  # the file could not be written (a full disk): not a mistake in the SQL
            except duckdb.Error as exc:
                raise duckdb.Error(f"{f.relative_to(config.ROOT)}: {exc}") from exc
        if len(failed) == len(pending):
            f, exc = failed[0]
            raise duckdb.Error(f"{f.relative_to(config.ROOT)}: {exc}") from exc
        pending = [f for f, _ in failed]
    # written last: a create that failed half way leaves the old digest, so the next stage creates again
    if not _has_digest_table(con):   # a sql/ without the table (a test's own): create every time
        return
    with transaction(con):
        con.execute("DELETE FROM audit.schema_digest")
        con.execute(f"INSERT INTO audit.schema_digest VALUES (?, ({_OBJECTS}), now() AT TIME ZONE 'UTC')", [digest])


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


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def _timestamp(text) -> dt.datetime | None:
    if not text:
        return None
    t = dt.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    return t.astimezone(dt.timezone.utc).replace(tzinfo=None) if t.tzinfo else t


def write_snapshot(con, snapshot, raw: pl.DataFrame | str, typed: pl.DataFrame | str, *, tables: tuple[str, str],
                   clear: list[str], encoding: str | None = None, sheet: str | None = None,
                   sources: dict[str, dict] | None = None, drift: pl.DataFrame | None = None,
                   derived: tuple[Path, ...] = ()) -> int:
    """Replace one snapshot's rows in its raw and staging `tables`, and its provenance row, in a single
    transaction (with `sources`, raw.sources is replaced in the same transaction). Its rows are first
    cleared from every table in `clear`: it may have been read in another layout before. Callers load
    through ngobrief.ingest.load_snapshot, which knows each layout's tables. `drift` (kind, column_name,
    suggestion) replaces the snapshot's rows in raw.schema_drift. `raw` and `typed` may be queries on
    `con` instead of frames (the register: read into DuckDB, never a frame). The `derived` SQL files (a layout's
    tables computed from its rows, such as the register's groups) run last, in the same transaction.

    Loading the same bytes again changes nothing (not even the provenance timestamp)."""
    raw_table, staging_table = tables
    if loaded_sha256(con, snapshot.snapshot_id) == snapshot.sha256:
        return 0
    if isinstance(typed, pl.DataFrame):
        raw = raw.with_columns(pl.lit(snapshot.snapshot_id).alias("snapshot_id"))
        typed = typed.with_columns(pl.lit(snapshot.snapshot_id).alias("snapshot_id"))
        if "source_id" in typed.columns and getattr(snapshot, "source_id", None):
            typed = typed.with_columns(pl.col("source_id").fill_null(snapshot.source_id))
    rows = 0
    with transaction(con):
        if sources is not None:
            _replace_sources(con, sources)
        # a snapshot may have been read by another parser before: clear it from every table
        for table in clear:
            con.execute(f"DELETE FROM {table} WHERE snapshot_id = ?", [snapshot.snapshot_id])
        for table, frame in ((raw_table, raw), (staging_table, typed)):
            if isinstance(frame, str):  # a query on `con` (a layout that reads straight into DuckDB)
                rows = con.execute(f"INSERT INTO {table} BY NAME SELECT *, $id AS snapshot_id FROM ({frame})",
                                   {"id": snapshot.snapshot_id}).fetchall()[0][0]
                continue
            cols = [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
            con.register("incoming", frame.select(cols).to_arrow())
            con.execute(f"INSERT INTO {table} SELECT * FROM incoming")
            con.unregister("incoming")
            rows = frame.height
        con.execute("DELETE FROM raw.schema_drift WHERE snapshot_id = ?", [snapshot.snapshot_id])
        if drift is not None and drift.height:
            con.executemany("INSERT INTO raw.schema_drift VALUES (?, ?, ?, ?, ?)",
                            [[snapshot.snapshot_id, snapshot.parser, *r]
                             for r in drift.select("kind", "column_name", "suggestion").iter_rows()])
        con.execute("DELETE FROM raw.snapshots WHERE snapshot_id = ?", [snapshot.snapshot_id])
        con.execute(
            """INSERT INTO raw.snapshots (snapshot_id, file, sha256, bytes, parser, origin, fetched_at,
                                          rows_loaded, source_id, loaded_at, encoding, sheet)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [snapshot.snapshot_id, snapshot.file, snapshot.sha256, snapshot.bytes, snapshot.parser,
             snapshot.origin, _timestamp(getattr(snapshot, "fetched_at", None)), rows,
             getattr(snapshot, "source_id", None), _utc_now(), encoding, sheet],
        )
        for sql in derived:
            con.execute(Path(sql).read_text(encoding="utf-8"))
    return rows


def _replace_sources(con, sources: dict[str, dict]) -> None:
    rows = [(sid, s.get("publisher"), s.get("title"), s.get("url"), s.get("published"),
             s.get("kind"), s.get("notes")) for sid, s in sorted(sources.items())]
    con.execute("DELETE FROM raw.sources")
    if rows:
        con.executemany("INSERT INTO raw.sources VALUES (?, ?, ?, ?, ?, ?, ?)", rows)


def load_sources(con, sources: dict[str, dict]) -> int:
    """Replace raw.sources with the manifest's source documents."""
    with transaction(con):
        _replace_sources(con, sources)
    return len(sources)


def table_fingerprints(con) -> dict[str, str]:
    """sha256 of every raw, staging and audit table's rows (sorted): equal data, equal fingerprint."""
    import hashlib

    out = {}
    for schema, name in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal "
            "AND schema_name IN ('raw', 'staging', 'audit') ORDER BY 1, 2").fetchall():
        rows = con.sql(f'SELECT t::VARCHAR AS r FROM "{schema}"."{name}" AS t ORDER BY r').fetchall()
        out[f"{schema}.{name}"] = hashlib.sha256("\n".join(r[0] for r in rows).encode("utf-8")).hexdigest()
    return out


# Connections (by id) inside a memoized_reads block → their query results so far, and how their
# queries are pointed at marts_cache.
_memo: dict[int, dict] = {}
_cached: dict[int, "Callable[[str], str]"] = {}


@contextmanager
def memoized_reads(con):
    """Within the block, query() runs each distinct query on `con` once and hands back the same frame
    after that: for a reader that asks the marts the same question many times (a brief asks 25, 15 of
    them distinct). Nothing may write through `con` inside the block."""
    if id(con) in _memo:
        yield
        return
    _memo[id(con)] = {}
    _cached[id(con)] = _to_cache(cached_marts(con))
    try:
        yield
    finally:
        _memo.pop(id(con), None)
        _cached.pop(id(con), None)


def query(con, sql: str, params=None) -> pl.DataFrame:
    """A query's result as a Polars frame (parameters bound, never formatted in). Polars reads the
    result through the Arrow C stream interface: the same types as `.pl()`, without importing pyarrow
    and numpy (~0.3 s of a brief's start-up). Inside memoized_reads, a marts view that marts_cache
    holds is read from there."""
    memo = _memo.get(id(con))
    if memo is None:
        return pl.DataFrame(con.sql(sql, params=params))
    sql = _cached[id(con)](sql)
    key = (sql, repr(sorted(params.items())) if isinstance(params, dict) else repr(params))
    if key not in memo:
        memo[key] = pl.DataFrame(con.sql(sql, params=params))
    return memo[key]


# --- marts_cache: the marts as tables, for the readers of a published edition -----------------------

def _inputs_key(con: duckdb.DuckDBPyConnection) -> str | None:
    """audit.marts_inputs: what the marts are now computed from (None in a file made before it)."""
    try:
        return con.sql("SELECT inputs_key FROM audit.marts_inputs").fetchall()[0][0]
    except duckdb.CatalogException:
        return None


def cache_marts(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Copy the marts views the briefs read (CACHED) into tables of marts_cache, with the key of what
    they were computed from (audit.marts_inputs), in one transaction: publishing an edition calls it
    on the build, so that the briefs read tables. marts.* stays the definition, and a user's query of
    it gives the same rows. Returns the views copied."""
    key = _inputs_key(con)
    views = [r[0] for r in con.sql("SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'marts' "
                                   "AND database_name = current_database() ORDER BY 1").fetchall()
             if r[0] in CACHED]
    with transaction(con):
        con.execute(f"DROP SCHEMA IF EXISTS {CACHE_SCHEMA} CASCADE")
        if key is None:
            return []
        con.execute(f"CREATE SCHEMA {CACHE_SCHEMA}")
        for v in views:
            con.execute(f'CREATE TABLE {CACHE_SCHEMA}."{v}" AS SELECT * FROM marts."{v}"')
            con.execute(f"COMMENT ON TABLE {CACHE_SCHEMA}.\"{v}\" IS 'marts.{v} as this edition was published: "
                        f"the table the briefs read; marts.{v} is its definition (the same rows).'")
        con.execute(f"CREATE TABLE {CACHE_SCHEMA}._inputs AS SELECT ? AS inputs_key", [key])
        con.execute(f"COMMENT ON TABLE {CACHE_SCHEMA}._inputs IS 'The audit.marts_inputs key the tables of "
                    "marts_cache were made from: they are read only while the file''s key is the same.'")
    return views


def cached_marts(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    """The marts views marts_cache holds for this file as it is now: none unless the cache was made
    from the same sql/, snapshots and sources (audit.marts_inputs) — a build changed since it was
    copied from the published edition reads the views."""
    names = {r[0] for r in con.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = ? "
                                   "AND database_name = current_database()", params=[CACHE_SCHEMA]).fetchall()}
    if "_inputs" not in names:
        return frozenset()
    made_from = con.sql(f"SELECT inputs_key FROM {CACHE_SCHEMA}._inputs").fetchall()
    if not made_from or made_from[0][0] is None or made_from[0][0] != _inputs_key(con):
        return frozenset()
    return frozenset(names - {"_inputs"})


def _to_cache(names: frozenset[str]) -> Callable[[str], str]:
    """A query's text with each `marts.<name>` that marts_cache holds read from there (a macro call,
    `marts.<name>(`, stays)."""
    if not names:
        return lambda sql: sql
    pattern = re.compile(r"\bmarts\.(" + "|".join(sorted(map(re.escape, names), key=len, reverse=True)) + r")\b(?!\s*\()")
    return lambda sql: pattern.sub(CACHE_SCHEMA + r".\1", sql)
