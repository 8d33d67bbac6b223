"""Write-audit-publish editions of the warehouse: a run builds on a private copy beside the published
file, the audit gates it, and one atomic rename publishes it whole. The last few editions are kept
under `editions/` beside the published file, with a manifest saying what each was made from.

The published file is never opened for writing: readers (a DuckDB shell, Harlequin, a notebook) may
hold it open while a run builds and publishes; they keep reading the old edition until they reopen."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from . import config, lock, warehouse
from .errors import NgobriefError, OutputError, os_error_message

# How many published editions to keep (the published one included): $NGOBRIEF_KEEP_EDITIONS, else 5.
KEEP_ENV = "NGOBRIEF_KEEP_EDITIONS"
DEFAULT_KEEP = 5
# Build copies that failed their audit are kept for inspection; older ones than the last few go.
KEEP_FAILED_BUILDS = 3
# The folders whose code an edition is made with: a change in them makes a new edition.
CODE_FOLDERS = ("sql", "expectations", "templates")
# For tests of what a kill leaves behind: the process pauses at the named point (see _pause_point).
PAUSE_ENV = "NGOBRIEF_PAUSE_AT"


class EditionError(NgobriefError):
    exit_code = 2


def published_path(warehouse_path: str | Path | None = None) -> Path:
    return config.warehouse_path(warehouse_path)


def home(warehouse_path: str | Path | None = None) -> Path:
    """editions/ beside the published file: the same filesystem, so that publishing is one rename."""
    return published_path(warehouse_path).parent / "editions"


def builds_dir(warehouse_path: str | Path | None = None) -> Path:
    return home(warehouse_path) / "builds"


def manifest_path(warehouse_path: str | Path | None = None) -> Path:
    return home(warehouse_path) / "manifest.json"


def briefs_log_path(warehouse_path: str | Path | None = None) -> Path:
    return home(warehouse_path) / "briefs.jsonl"


def keep_editions() -> int:
    try:
        return max(1, int(os.environ.get(KEEP_ENV, DEFAULT_KEEP)))
    except ValueError:
        return DEFAULT_KEEP


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)


def _pause_point(name: str) -> None:
    """Let a test kill the process at a chosen point: with $NGOBRIEF_PAUSE_AT=name the process writes
    `<name>` to $NGOBRIEF_PAUSE_AT.reached's file and waits there to be killed."""
    if os.environ.get(PAUSE_ENV) == name:
        Path(os.environ[PAUSE_ENV + "_FILE"]).write_text(name, encoding="utf-8")
        time.sleep(600)


# --- identity -------------------------------------------------------------------------------------

def code_files() -> dict[str, str]:
    """sha256 of every file in sql/, expectations/ and templates/, by path (e.g. sql/marts/figures.sql)."""
    out = {}
    for folder in CODE_FOLDERS:
        base = config.ROOT / folder
        for f in sorted(base.rglob("*")):
            if f.is_file() and "__pycache__" not in f.parts:
                out[f.relative_to(config.ROOT).as_posix()] = hashlib.sha256(f.read_bytes()).hexdigest()
    return out


def code_digest(files: dict[str, str]) -> dict[str, str]:
    """One sha256 per code folder, for the manifest."""
    return {folder: hashlib.sha256(json.dumps({p: h for p, h in files.items() if p.startswith(folder + "/")},
                                              sort_keys=True).encode()).hexdigest() for folder in CODE_FOLDERS}


def edition_id(snapshots: dict[str, str], sources: dict, code: dict[str, str]) -> str:
    """An edition's id: a digest of what it is made from — the snapshots' bytes (by sha256), the source
    documents they cite, and the code of sql/, expectations/ and templates/."""
    doc = json.dumps({"snapshots": snapshots, "sources": sources, "code": code}, sort_keys=True, default=str)
    return hashlib.sha256(doc.encode("utf-8")).hexdigest()[:16]


# --- the manifest ---------------------------------------------------------------------------------

def read_manifest(warehouse_path: str | Path | None = None) -> dict:
    path = manifest_path(warehouse_path)
    if not path.exists():
        return {"published": None, "editions": []}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EditionError(f"{path} is not valid JSON ({exc}): restore it from a backup, or remove it to "
                           "start the list of editions again") from None


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def write_manifest(manifest: dict, warehouse_path: str | Path | None = None) -> None:
    _write_atomic(manifest_path(warehouse_path), json.dumps(manifest, ensure_ascii=False, indent=1, default=str) + "\n")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _append_line(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")


def entry(manifest: dict, ident: str | int) -> dict:
    """An edition of the manifest by its number (3), its id or a unique prefix of the id."""
    text = str(ident)
    found = [e for e in manifest["editions"] if str(e["number"]) == text or e["id"] == text] or \
        [e for e in manifest["editions"] if e["id"].startswith(text)]
    if len(found) != 1:
        known = ", ".join(f"{e['number']} ({e['id']})" for e in manifest["editions"]) or "none"
        raise EditionError(f"no edition {text!r}" + (" (more than one id starts so)" if found else "")
                           + f": kept editions are {known}")
    return found[0]


# --- what an edition file says about itself -------------------------------------------------------

def stamp_of(con: duckdb.DuckDBPyConnection) -> dict | None:
    """The one row of audit.edition (None in a warehouse made before editions)."""
    if not con.sql("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'audit' AND table_name = 'edition'").fetchall():
        return None
    df = warehouse.query(con, "SELECT * FROM audit.edition")   # without pyarrow: a brief reads it
    if df.height == 0:
        return None
    row = df.row(0, named=True)
    for k in ("snapshots", "code_files", "since_previous"):
        row[k] = json.loads(row[k]) if row.get(k) else None
    return row


def file_stamp(path: Path) -> dict | None:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return stamp_of(con)
    finally:
        con.close()


def published_id(warehouse_path: str | Path | None = None) -> str | None:
    path = published_path(warehouse_path)
    if not path.exists():
        return None
    stamp = file_stamp(path)
    return stamp["edition_id"] if stamp else None


def table_checksums(path: Path, exclude: dict[str, set[str]] | None = None) -> dict[str, str]:
    """A checksum of every base table: sha256 of its columns and types, its row count and the sum of
    DuckDB's hash of each row (equal content, equal checksum whatever the row order; computed in one
    scan, so a million-row register costs a fraction of a second). Leaves out the `exclude` columns.
    Opens the file read-only."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return checksums_on(con, exclude)
    finally:
        con.close()


def checksums_on(con: duckdb.DuckDBPyConnection, exclude: dict[str, set[str]] | None = None) -> dict[str, str]:
    """table_checksums on an open connection (publish computes them on the build it has just stamped)."""
    exclude = exclude or {}
    cols: dict[str, list[tuple[str, str]]] = {}
    for schema, name, c, t in con.execute(
            "SELECT c.schema_name, c.table_name, c.column_name, c.data_type FROM duckdb_columns() c "
            "JOIN duckdb_tables() t USING (database_oid, schema_oid, table_oid) WHERE NOT t.internal "
            "AND c.database_name = current_database() AND c.schema_name <> ? ORDER BY 1, 2, c.column_index",
            # marts_cache is the marts' rows again (warehouse.cache_marts): no content of its own
            [warehouse.CACHE_SCHEMA]).fetchall():
        key = f'"{schema}"."{name}"'
        cols.setdefault(key, [])
        if c not in exclude.get(f"{schema}.{name}", set()):
            cols[key].append((c, t))
    if not cols:
        return {}
    # one query over every table, so DuckDB scans them side by side on all cores
    def row_hash(cs: list[tuple[str, str]]) -> str:
        return "hash(" + ", ".join(f'"{c}"' for c, _ in cs) + ")"

    sums = " UNION ALL ".join(f"SELECT {i} AS i, count(*) AS n, coalesce(sum({row_hash(cs)}::HUGEINT), 0)::VARCHAR "
                              f"AS total FROM {key}" for i, (key, cs) in enumerate(cols.items()))
    found = {i: (n, total) for i, n, total in con.execute(sums).fetchall()}
    out = {}
    for i, (key, cs) in enumerate(cols.items()):
        rows, total = found[i]
        h = hashlib.sha256("".join(f"{c} {t}\n" for c, t in cs).encode())   # a changed column or type counts
        h.update(f"{rows} {total}".encode())
        out[key.replace('"', "")] = h.hexdigest()
    return out


def _copy_whole(src: Path, dst: Path) -> None:
    """dst becomes a copy of src whole or not at all: a kill leaves at most a hidden `.part` file, and a
    full disk one error naming both files (a failed write() names none) and no partial copy."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
    try:
        shutil.copyfile(src, tmp)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(os_error_message(exc, f"{dst} (a copy of {src})")) from None
    os.replace(tmp, dst)


def _link_or_copy(src: Path, dst: Path) -> None:
    """dst names src's bytes: a hard link (instant; neither name is ever written again), else a copy."""
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.part")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        _copy_whole(src, tmp)
    os.replace(tmp, dst)


def _stamp(path: Path, **stamp) -> None:
    con = warehouse.connect(path)
    try:
        _stamp_on(con, **stamp)
    finally:
        con.close()


def _stamp_on(con: duckdb.DuckDBPyConnection, *, ident: str, number: int, snapshots: dict, code: dict[str, str],
              flow_run_id: str | None, previous: str | None, since_previous: dict | None) -> None:
    # only this table's file: the build already holds every other object (the load stage made them)
    con.execute((config.SQL_DIR / "audit" / "edition.sql").read_text(encoding="utf-8"))
    with warehouse.transaction(con):
        con.execute("DELETE FROM audit.edition")
        con.execute("INSERT INTO audit.edition VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [ident, number, _utc_now(), flow_run_id, json.dumps(snapshots, sort_keys=True),
                     json.dumps(code, sort_keys=True), previous,
                     json.dumps(since_previous, ensure_ascii=False, sort_keys=True, default=str)
                     if since_previous is not None else None])
    con.execute("CHECKPOINT")   # everything in the file itself, no write-ahead log left beside it


def _snapshots_in(path: Path) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        if not con.sql("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'snapshots'").fetchall():
            return {}
        return dict(con.sql("SELECT snapshot_id, sha256 FROM raw.snapshots ORDER BY 1").fetchall())
    finally:
        con.close()


# --- write ----------------------------------------------------------------------------------------

@dataclass
class Build:
    """A private build copy: where it is, the edition it will be, and what it is made from."""

    path: Path
    edition_id: str
    number: int
    snapshots: dict[str, str]
    code: dict[str, str]
    previous: str | None
    warehouse: Path | None = None
    notes: list[str] = field(default_factory=list)


def adopt_legacy(warehouse_path: str | Path | None = None, *, stamp: dict | None = None) -> dict | None:
    """A warehouse made before editions becomes edition 1: a stamped copy of it is kept under
    editions/ and published in its place (same content, plus its audit.edition row). `stamp`: the
    published file's, when the caller has read it already (each open of the file costs a catalog load)."""
    pub = published_path(warehouse_path)
    if not pub.exists() or (stamp or file_stamp(pub)) is not None:
        return None
    snaps = _snapshots_in(pub)
    ident = hashlib.sha256(json.dumps({"adopted": snaps}, sort_keys=True).encode()).hexdigest()[:16]
    home(warehouse_path).mkdir(parents=True, exist_ok=True)
    work = builds_dir(warehouse_path) / f"adopt-{ident}.duckdb"
    work.parent.mkdir(parents=True, exist_ok=True)
    _copy_whole(pub, work)
    wal = pub.with_name(pub.name + ".wal")
    if wal.exists():
        _copy_whole(wal, work.with_name(work.name + ".wal"))
    _stamp(work, ident=ident, number=1, snapshots=snaps, code={}, flow_run_id=None, previous=None,
           since_previous=None)
    record = {"id": ident, "number": 1, "built_at": _utc_now().isoformat(), "published_at": None,
              "flow_run_id": None, "snapshots": snaps, "code_sha256": None,
              "validation": None, "briefs": [], "note": "the warehouse as it was before editions",
              "file": f"edition-{ident}.duckdb"}
    return _publish_file(work, record, warehouse_path)


def begin(snapshots: list, sources: dict, warehouse_path: str | Path | None = None) -> Build | None:
    """Start a build for these snapshots (pull.Snapshot) and source documents: None when the published
    edition is already made of exactly them and the present code (nothing to do), else a Build whose
    copy holds the published edition without the snapshots no longer in the manifest."""
    clean_interrupted_builds(warehouse_path)
    pub = published_path(warehouse_path)
    stamp = file_stamp(pub) if pub.exists() else None   # read once: what is published and of what
    if pub.exists() and stamp is None:
        adopt_legacy(warehouse_path, stamp=stamp)
        stamp = file_stamp(pub)
    snaps = {s.snapshot_id: s.sha256 for s in snapshots}
    code = code_files()
    ident = edition_id(snaps, sources, code)
    current = stamp["edition_id"] if stamp else None
    manifest = read_manifest(warehouse_path)
    if current and manifest.get("published") != current:
        # killed between the rename and the manifest's update: the file says which edition is published
        manifest["published"] = current
        write_manifest(manifest, warehouse_path)
    if current == ident:
        return None
    number = max((e["number"] for e in manifest["editions"]), default=0) + 1
    builds = builds_dir(warehouse_path)
    builds.mkdir(parents=True, exist_ok=True)
    path = builds / f"build-{_utc_now():%Y%m%dT%H%M%S}-{ident}-{os.getpid()}.duckdb"
    # the stamp lists the snapshots its edition was built from (a superset of those it loaded)
    gone = [sid for sid in (stamp.get("snapshots") or {}) if sid not in snaps] if stamp else []
    if pub.exists():
        _copy_whole(pub, path)
    if gone:   # the tables exist in a published edition; the load stage creates the rest
        con = warehouse.connect(path)
        try:
            loaded = {r[0] for r in con.sql("SELECT snapshot_id FROM raw.snapshots").fetchall()}
            gone = [sid for sid in gone if sid in loaded]
            with warehouse.transaction(con):
                from .ingest import registry, snapshot_tables   # every table a layout fills (the layout registry)

                for table in [*snapshot_tables(), "raw.schema_drift", "raw.snapshots"]:
                    con.executemany(f"DELETE FROM {table} WHERE snapshot_id = ?", [[sid] for sid in gone])
                # tables computed from a layout's rows (the register's groups) drop what was gone
                for f in sorted({f for lay in registry().values() for f in lay.derived_sql()}):
                    con.execute(f.read_text(encoding="utf-8"))
        finally:
            con.close()
    _pause_point("build-copied")
    return Build(path, ident, number, snaps, code, current, Path(warehouse_path) if warehouse_path else None,
                 notes=[f"snapshot {sid} is no longer in the manifest: removed" for sid in gone])


def stage_copy(warehouse_path: str | Path | None = None) -> Path:
    """The build copy a standalone `pull` loads into (created from the published edition when there is
    none yet), so that a pull never changes what readers see."""
    path = builds_dir(warehouse_path) / "staged.duckdb"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        for part in path.parent.glob(f".{path.name}.*.part"):   # the copy of a pull that was killed
            part.unlink(missing_ok=True)
        pub = published_path(warehouse_path)
        if pub.exists():
            _copy_whole(pub, path)   # a pull killed while copying must not leave a half file to load into
    return path


# --- audit and publish ----------------------------------------------------------------------------

def keep_failed(build: Build) -> Path:
    """A build whose audit failed stays for inspection; older failed builds beyond the last few go."""
    failed = build.path.with_name(build.path.name.replace("build-", "failed-", 1))
    os.replace(build.path, failed)
    build.path.with_name(build.path.name + ".lock").unlink(missing_ok=True)
    olds = sorted(builds_dir(build.warehouse).glob("failed-*.duckdb"), key=lambda p: p.stat().st_mtime)
    for old in olds[:-KEEP_FAILED_BUILDS]:
        old.unlink(missing_ok=True)
        old.with_name(old.name + ".wal").unlink(missing_ok=True)
    return failed


def publish(build: Build, *, validation: dict, flow_run_id: str | None = None) -> dict:
    """Stamp the audited build with its id, keep it under editions/ and put it in the published
    file's place with one rename. Returns the edition's manifest entry."""
    from . import diff

    previous_path = None
    if build.previous:
        try:
            previous_path = home(build.warehouse) / entry(read_manifest(build.warehouse), build.previous)["file"]
        except EditionError:
            previous_path = None
    # one connection to the build for the diff, the stamp and the checksums (each open loads the catalog)
    con = warehouse.connect(build.path)
    try:
        since = None
        if previous_path is not None and previous_path.exists():
            old = duckdb.connect(str(previous_path), read_only=True)
            try:
                since = diff.brief_summary(diff.compare(old, con, stamp_of(old), stamp_of(con)))
            finally:
                old.close()
        warehouse.cache_marts(con)   # the marts as tables, for the briefs of this edition
        _stamp_on(con, ident=build.edition_id, number=build.number, snapshots=build.snapshots, code=build.code,
                  flow_run_id=flow_run_id, previous=build.previous, since_previous=since)
        tables = checksums_on(con)
    finally:
        con.close()
    record = {"id": build.edition_id, "number": build.number, "built_at": _utc_now().isoformat(),
              "published_at": None, "flow_run_id": flow_run_id, "snapshots": build.snapshots,
              "code_sha256": code_digest(build.code), "validation": validation, "briefs": [],
              "previous": build.previous, "file": f"edition-{build.edition_id}.duckdb"}
    record = _publish_file(build.path, record, build.warehouse, tables=tables)
    staged = builds_dir(build.warehouse) / "staged.duckdb"
    staged.unlink(missing_ok=True)   # its snapshots are in the manifest, so in this edition
    return record


def _publish_file(path: Path, record: dict, warehouse_path, *, tables: dict[str, str] | None = None) -> dict:
    """Keep `path` as editions/<file>, record it in the manifest, then rename it over the published file.
    A kill before the rename leaves the old edition published; after it, the new one: both are in the
    manifest by then, with the checksums of every table."""
    pub = published_path(warehouse_path)
    record["tables"] = tables if tables is not None else table_checksums(path)
    kept = home(warehouse_path) / record["file"]
    _link_or_copy(path, kept)
    _pause_point("edition-kept")
    manifest = read_manifest(warehouse_path)
    manifest["editions"] = [e for e in manifest["editions"] if e["id"] != record["id"]] + [record]
    write_manifest(manifest, warehouse_path)
    _pause_point("manifest-written")
    os.replace(path, pub)
    _fsync_dir(pub.parent)
    path.with_name(path.name + ".lock").unlink(missing_ok=True)   # the build's own stages' lock file
    _pause_point("renamed")
    manifest = read_manifest(warehouse_path)
    for e in manifest["editions"]:
        if e["id"] == record["id"]:
            e["published_at"] = _utc_now().isoformat()
            record = e
    manifest["published"] = record["id"]
    write_manifest(manifest, warehouse_path)
    prune(warehouse_path, current=record["id"])
    return record


def rollback(ident: str | int, warehouse_path: str | Path | None = None) -> dict:
    """Publish a kept edition again (`ngobrief publish EDITION`), by the same atomic rename."""
    with lock.warehouse_lock(warehouse_path):
        manifest = read_manifest(warehouse_path)
        e = entry(manifest, ident)
        kept = home(warehouse_path) / e["file"]
        if not kept.exists():
            raise EditionError(f"edition {e['number']} ({e['id']}): its file {kept.name} is gone from "
                               f"{home(warehouse_path)}")
        pub = published_path(warehouse_path)
        _link_or_copy(kept, pub)
        _fsync_dir(pub.parent)
        manifest["published"] = e["id"]
        e["republished_at"] = _utc_now().isoformat()
        write_manifest(manifest, warehouse_path)
        return e


def prune(warehouse_path: str | Path | None = None, keep: int | None = None, *,
          current: str | None = None) -> list[str]:
    """Keep the last `keep` editions (and always the published one, `current` when the caller knows it);
    remove the others' files and entries."""
    keep = keep or keep_editions()
    manifest = read_manifest(warehouse_path)
    current = current or published_id(warehouse_path)
    ordered = sorted(manifest["editions"], key=lambda e: e["number"])
    kept = ordered[-keep:]
    if current and all(e["id"] != current for e in kept):
        kept = [e for e in ordered if e["id"] == current] + ordered[-(keep - 1):] if keep > 1 else \
            [e for e in ordered if e["id"] == current]
    gone = [e for e in ordered if e not in kept]
    manifest["editions"] = sorted(kept, key=lambda e: e["number"])
    write_manifest(manifest, warehouse_path)
    for e in gone:
        (home(warehouse_path) / e["file"]).unlink(missing_ok=True)
    # editions a kill left unrecorded, and the parts of interrupted writes
    names = {e["file"] for e in manifest["editions"]}
    for f in home(warehouse_path).glob("edition-*.duckdb"):
        if f.name not in names:
            f.unlink(missing_ok=True)
    for f in home(warehouse_path).glob(".*.part"):
        f.unlink(missing_ok=True)
    return [e["id"] for e in gone]


def clean_interrupted_builds(warehouse_path: str | Path | None = None) -> None:
    """Build copies of runs that were killed (their process is gone) are removed. Holds the write
    lock's caller: only one writer runs, so any `build-*` left is an interrupted one."""
    for f in [*builds_dir(warehouse_path).glob("build-*.duckdb*"), *builds_dir(warehouse_path).glob(".*.part")]:
        f.unlink(missing_ok=True)


# --- the record of briefs and audits --------------------------------------------------------------

def record_brief(brief, year: int, lang: str, warehouse_path: str | Path | None = None,
                 edition: str | None = None) -> None:
    """Append a brief written to editions/briefs.jsonl (briefs only read the warehouse, so their
    record lives beside it). Appends of one short line do not interleave between processes."""
    _append_line(briefs_log_path(warehouse_path), {
        "written_at": _utc_now().isoformat(), "edition": edition, "year": year, "lang": lang,
        "path": str(brief.path), "inputs_sha256": brief.inputs_sha256, "pdf_sha256": brief.pdf_sha256})


def record_run_briefs(ident: str, briefs: list[str], warehouse_path: str | Path | None = None) -> None:
    """The briefs a run wrote from its edition, in that edition's manifest entry."""
    with lock.warehouse_lock(warehouse_path):
        manifest = read_manifest(warehouse_path)
        for e in manifest["editions"]:
            if e["id"] == ident:
                e["briefs"] = sorted(set(e.get("briefs") or []) | set(briefs))
        write_manifest(manifest, warehouse_path)


def briefs_written(warehouse_path: str | Path | None = None) -> list[dict]:
    path = briefs_log_path(warehouse_path)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def record_validation(record: dict, audited: Path) -> None:
    """A line in validation.jsonl of the editions folder `audited` belongs to (a build copy's too)."""
    audited = Path(audited).resolve()
    folder = audited.parent.parent if audited.parent.name == "builds" else audited.parent / "editions"
    _append_line(folder / "validation.jsonl", {"at": _utc_now().isoformat(), **record})


# --- listing --------------------------------------------------------------------------------------

def listing(warehouse_path: str | Path | None = None) -> list[dict]:
    """The kept editions, oldest first, with which is published and the briefs written from each."""
    manifest = read_manifest(warehouse_path)
    current = published_id(warehouse_path)
    written = briefs_written(warehouse_path)
    out = []
    for e in sorted(manifest["editions"], key=lambda e: e["number"]):
        v = e.get("validation") or {}
        briefs = sorted(set(e.get("briefs") or []) | {b["path"] for b in written if b.get("edition") == e["id"]})
        out.append({"number": e["number"], "id": e["id"], "published": e["id"] == current,
                    "built_at": e.get("built_at"), "published_at": e.get("published_at"),
                    "flow_run_id": e.get("flow_run_id"), "snapshots": len(e.get("snapshots") or {}),
                    "errors": v.get("errors"), "warnings": v.get("warnings"), "briefs": briefs,
                    "file": e["file"], "note": e.get("note")})
    return out
