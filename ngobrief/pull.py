"""Pull stage: fetch a source (local file or http/https), keep its bytes as an immutable snapshot named
by its sha256, record where they came from, and load them into the warehouse's raw and staging layers.

The manifest (data/sources.toml) is the durable record: every snapshot file with its sha256, parser,
origin and fetch time, and every source document a figure cites. Bundled snapshots live in
data/snapshots/; a pulled one in data/snapshots/<snapshot id>/<sha256>.<ext>, so a new version never
overwrites an old one and the manifest change can be reviewed and committed with the file."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from . import config, lock
from .errors import FetchError, InputError, ManifestError, NgobriefError
from .fetch import fetch, suffix_for

# How a snapshot's file is read, as recorded in its manifest entry.
READ_OPTIONS = ("encoding", "sheet", "measure", "period", "unit")
SOURCE_KINDS = ("primary", "primary (reprint)", "primary (mirror)", "primary (quoted)",
                "primary (foundation register)", "secondary")
_ID = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    path: Path
    file: str          # path relative to data/
    sha256: str
    bytes: int
    parser: str
    origin: str
    source_id: str | None = None          # the document, for layouts that do not name one per row
    fetched_at: str | None = None         # ISO time the bytes were fetched, when recorded
    options: dict = field(default_factory=dict, compare=False)   # READ_OPTIONS recorded in the manifest


@dataclass
class PullResult:
    """What one pull did, for the command line and logs."""

    snapshot_id: str
    status: str                      # new | updated | unchanged | not_modified | loaded
    sha256: str
    bytes: int
    parser: str
    origin: str
    file: str
    rows_loaded: int = 0
    source_id: str | None = None
    notes: list[str] = field(default_factory=list)


def read_manifest(path: Path | None = None) -> dict:
    path = path or config.MANIFEST
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ManifestError(f"no data manifest at {path}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(f"{path}: not valid TOML: {exc}") from None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def snapshot_from_entry(sid: str, entry: dict, data_dir: Path | None = None, *, verify: bool = True) -> Snapshot:
    """One manifest entry as a Snapshot, its file checked against the recorded sha256."""
    data_dir = data_dir or config.DATA_DIR
    path = data_dir / entry["file"]
    if not path.is_file():
        raise ManifestError(f"snapshot {sid!r}: file data/{entry['file']} is missing")
    digest = sha256_of(path) if verify else entry["sha256"]
    if digest != entry["sha256"]:
        raise ManifestError(
            f"snapshot {sid!r}: data/{entry['file']} has sha256 {digest}, but the manifest "
            f"records {entry['sha256']}; the bundled file changed — restore it, or pull it again "
            "as a new snapshot")
    return Snapshot(sid, path, entry["file"], digest, path.stat().st_size, entry["parser"],
                    entry.get("origin", f"bundled:data/{entry['file']}"), entry.get("source_id"),
                    entry.get("fetched_at"), {k: entry[k] for k in READ_OPTIONS if k in entry})


def bundled_snapshots(manifest: dict | None = None, data_dir: Path | None = None) -> list[Snapshot]:
    """Every snapshot in the manifest, checked against its recorded sha256."""
    manifest = manifest if manifest is not None else read_manifest()
    return [snapshot_from_entry(sid, entry, data_dir) for sid, entry in manifest.get("snapshots", {}).items()]


def resolve(manifest: dict, ident: str) -> str | None:
    """The snapshot an id means: a snapshot id, or a source id that exactly one snapshot holds."""
    snaps = manifest.get("snapshots", {})
    if ident in snaps:
        return ident
    holders = [sid for sid, e in snaps.items() if e.get("source_id") == ident]
    if len(holders) > 1:
        raise ManifestError(f"source {ident!r} is held by several snapshots ({', '.join(holders)}): "
                            "pull one of them by its snapshot id")
    return holders[0] if holders else None


# --------------------------------------------------------------------------------------------------
# The snapshot store and the manifest

def store(data: bytes, snapshot_id: str, suffix: str, data_dir: Path | None = None) -> tuple[str, bool]:
    """Write bytes to data/snapshots/<id>/<sha256>.<suffix> (once; read-only). Returns (relative path,
    whether the file is new)."""
    data_dir = data_dir or config.DATA_DIR
    digest = hashlib.sha256(data).hexdigest()
    rel = f"snapshots/{snapshot_id}/{digest}.{suffix}"
    path = data_dir / rel
    if path.is_file() and sha256_of(path) == digest:
        return rel, False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o444)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return rel, True


def update_manifest(path: Path, snapshot_id: str, snapshot: dict, source_id: str | None = None,
                    source: dict | None = None) -> None:
    """Set one [snapshots.ID] entry (and add a [sources.ID] entry) keeping the file's comments and order."""
    import tomlkit

    doc = tomlkit.parse(path.read_text(encoding="utf-8"))
    if "snapshots" not in doc:
        doc["snapshots"] = tomlkit.table(is_super_table=True)
    snaps = doc["snapshots"]
    if snapshot_id in snaps:
        entry = snaps[snapshot_id]
        for k in list(entry.keys()):
            if k not in snapshot and k in ("etag", "last_modified", *READ_OPTIONS):
                del entry[k]
        for k, v in snapshot.items():
            entry[k] = v
    else:
        entry = tomlkit.table()
        for k, v in snapshot.items():
            entry[k] = v
        entry.add(tomlkit.nl())   # keep a blank line between tables
        snaps[snapshot_id] = entry
    if source_id is not None and source is not None:
        if "sources" not in doc:
            doc["sources"] = tomlkit.table(is_super_table=True)
        table = tomlkit.table()
        for k, v in source.items():
            table[k] = v
        table.add(tomlkit.nl())
        doc["sources"][source_id] = table
    text = tomlkit.dumps(doc)
    tomllib.loads(text)  # never write a manifest that cannot be read back
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sources-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------------------------------
# Pulling

def _now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _check_cited_sources(parsed, name: str, known: set[str]) -> None:
    """Every figure must cite a source document the manifest lists."""
    typed = parsed.typed
    if "source_id" not in typed.columns:
        return
    for r in typed.select("source_row", "source_id").iter_rows(named=True):
        if r["source_id"] is not None and r["source_id"] not in known:
            raise InputError(name, "the figure cites a source that is not in the manifest",
                             row=r["source_row"], column="source_id", value=r["source_id"],
                             hint="add it to data/sources.toml [sources], or pull under that id with "
                                  "--publisher and --title")


def load_bundled(warehouse_path: Path | None = None, manifest_path: Path | None = None,
                 data_dir: Path | None = None) -> list[PullResult]:
    """Check every snapshot in the manifest and load those the warehouse does not hold yet."""
    manifest = read_manifest(manifest_path)
    snaps = bundled_snapshots(manifest, data_dir)
    with lock.warehouse_lock(warehouse_path):
        return _load_bundled(snaps, manifest, warehouse_path)


def _load_bundled(snaps: list[Snapshot], manifest: dict, warehouse_path: Path | None) -> list[PullResult]:
    from . import warehouse
    from .ingest.load import load_snapshot

    con = warehouse.connect(warehouse_path)
    results = []
    try:
        warehouse.create(con)
        warehouse.load_sources(con, manifest.get("sources", {}))
        for s in snaps:
            done = load_snapshot(con, s)
            results.append(PullResult(s.snapshot_id, "loaded" if done.rows else "unchanged", s.sha256, s.bytes,
                                      s.parser, s.origin, s.file, done.rows, s.source_id, done.notes))
    finally:
        con.close()
    return results


@dataclass
class _Pulled:
    """Bytes fetched for a pull, before they are parsed."""

    data: bytes
    name: str            # the file or URL, as errors name it
    origin: str
    suffix: str
    fetched_meta: dict = field(default_factory=dict)   # etag / last_modified


def pull_source(ident: str, *, file: Path | None = None, url: str | None = None,
                publisher: str | None = None, title: str | None = None, kind: str | None = None,
                published: str | None = None, parser: str | None = None, encoding: str | None = None,
                sheet: str | None = None, measure: str | None = None, period: str | None = None,
                refresh: bool = False, timeout: float = 10.0, retries: int = 2,
                warehouse_path: Path | None = None, manifest_path: Path | None = None,
                data_dir: Path | None = None) -> PullResult:
    """Pull one source: from `file` or `url` (a new snapshot version, or a new source added to the
    manifest), from its recorded URL (`refresh`), or just its snapshot in the manifest.

    Nothing is written — snapshot, manifest or warehouse — unless the file parses completely, and the
    warehouse load is one transaction."""
    manifest_path = manifest_path or config.MANIFEST
    data_dir = data_dir or config.DATA_DIR
    if file is not None and url is not None:
        raise NgobriefError("give either --file or --url, not both")
    manifest = read_manifest(manifest_path)
    sid, entry = _target(manifest, ident, file, url, kind)
    if refresh and entry is not None and file is None and url is None:
        if not str(entry.get("origin", "")).startswith(("http://", "https://")):
            raise NgobriefError(f"snapshot {sid!r} has no URL to refresh from (origin {entry.get('origin')!r})")
        url = entry["origin"]

    # 1. the bytes (or, when there are none new, the snapshot held)
    got = _bytes(sid, entry, file, url, refresh, timeout, retries, data_dir, manifest, warehouse_path)
    if isinstance(got, PullResult):
        return got
    digest = hashlib.sha256(got.data).hexdigest()
    if entry is not None and entry.get("sha256") == digest and (data_dir / entry["file"]).is_file():
        # the same bytes: the manifest and the snapshot stay; load them only if this warehouse lacks them
        return _load_entry(sid, entry, data_dir, manifest, warehouse_path)

    # 2. parse completely before anything is written
    options = {k: (entry or {}).get(k) for k in READ_OPTIONS}
    options.update({k: v for k, v in (("encoding", encoding), ("sheet", sheet), ("measure", measure),
                                      ("period", period)) if v is not None})
    sources = dict(manifest.get("sources", {}))
    source_id, new_source = _source_for(ident, entry, sources, publisher, title, url, published, kind)
    parser_name, parsed, source_id, new_source = _parse_pulled(
        got, parser or (entry or {}).get("parser"), options, source_id, new_source, sources,
        named=bool(publisher or title))

    # 3. write: snapshot file, warehouse (one transaction), manifest
    with lock.warehouse_lock(warehouse_path):
        rows, rel = _write_pulled(got.data, sid, got.suffix, data_dir, digest, parser_name, got.origin, source_id,
                                  options, got.fetched_meta, sources, new_source, parsed, manifest_path,
                                  warehouse_path)
    notes = list(parsed.notes)
    given = [f"--{k}" for k, v in (("publisher", publisher), ("title", title), ("kind", kind),
                                   ("published", published)) if v is not None]
    if given and new_source is None:
        notes.append(f"{', '.join(given)} ignored: the source is already in the manifest; "
                     "edit data/sources.toml to change it")
    if new_source is not None and not (publisher and title):
        notes.append(f"source {source_id!r} was added without a publisher or title: complete it in "
                     "data/sources.toml so its figures can be cited")
    return PullResult(sid, "new" if entry is None else "updated", digest, len(got.data), parser_name, got.origin,
                      rel, rows, source_id, notes)


def _target(manifest: dict, ident: str, file, url, kind: str | None) -> tuple[str, dict | None]:
    """The snapshot id a pull writes, and its manifest entry if it has one."""
    sid = resolve(manifest, ident)
    entry = manifest.get("snapshots", {}).get(sid) if sid else None
    if sid is None:
        if not _ID.match(ident):
            raise NgobriefError(f"{ident!r} cannot name a new source: use lower-case letters, digits, "
                                "'-', '_' and '.', starting with a letter or digit")
        if file is None and url is None:
            raise NgobriefError(f"no snapshot or source {ident!r} in the manifest: give --file PATH or "
                                "--url URL to add it (with --publisher and --title)")
        sid = ident
    if kind is not None and kind not in SOURCE_KINDS:
        raise NgobriefError(f"unknown kind {kind!r}: one of {', '.join(SOURCE_KINDS)}")
    return sid, entry


def _bytes(sid: str, entry: dict | None, file, url, refresh: bool, timeout: float, retries: int,
           data_dir: Path, manifest: dict, warehouse_path: Path | None) -> _Pulled | PullResult:
    """The bytes to pull from `file` or `url`; or, when there is nothing new to fetch (no file or URL,
    a 304, a refresh that cannot reach its URL), the result of loading the snapshot held."""
    if file is not None:
        name = str(file)
        try:
            data = Path(file).read_bytes()
        except FileNotFoundError:
            raise InputError(name, "no such file") from None
        except IsADirectoryError:
            raise InputError(name, "is a folder, not a file") from None
        # the name only in the origin: a manifest is committed, a home folder is not
        return _Pulled(data, name, f"file:{Path(file).name}", suffix_for(data, Path(file).name, None))
    if url is None:
        return _load_entry(sid, entry, data_dir, manifest, warehouse_path)
    same_origin = entry is not None and entry.get("origin") == url
    try:
        got = fetch(url, etag=entry.get("etag") if same_origin else None,
                    last_modified=entry.get("last_modified") if same_origin else None,
                    timeout=timeout, retries=retries)
    except FetchError as exc:
        if not (refresh and same_origin and (data_dir / entry["file"]).is_file()):
            raise
        # a refresh that cannot reach its URL: the snapshot held serves, and the output says so
        result = _load_entry(sid, entry, data_dir, manifest, warehouse_path)
        result.status = "offline"
        result.notes.insert(0, f"{exc.args[0].split('. Nothing was changed')[0]}: serving the snapshot held "
                               f"(data/{entry['file']}, sha256 {entry['sha256'][:12]}, fetched "
                               f"{entry.get('fetched_at') or 'at an unrecorded time'}) instead")
        return result
    if got.content is None:
        result = _load_entry(sid, entry, data_dir, manifest, warehouse_path)
        result.status = "not_modified"
        return result
    meta = {k: v for k, v in (("etag", got.etag), ("last_modified", got.last_modified)) if v}
    return _Pulled(got.content, url, url, suffix_for(got.content, url, got.content_type), meta)


def _source_for(ident: str, entry: dict | None, sources: dict, publisher, title, url, published,
                kind) -> tuple[str | None, dict | None]:
    """The source document a pull's figures cite, and its new manifest entry when it is new."""
    source_id = (entry or {}).get("source_id")
    if source_id is not None:
        return source_id, None
    if ident in sources:
        return ident, None
    if entry is not None:
        return None, None
    return ident, {"publisher": publisher or "", "title": title or "", "url": url or "",
                   "published": published or "", "kind": kind or "secondary",
                   "notes": f"added by `ngobrief pull {ident}` on {_now_iso()[:10]}"}


def _parse_pulled(got: _Pulled, parser: str | None, options: dict, source_id: str | None,
                  new_source: dict | None, sources: dict, *, named: bool):
    """Parse pulled bytes completely, and refuse what must never be stored. Returns (layout, Parsed,
    source id, new source entry)."""
    from . import ingest
    from .ingest.personal import personal_columns

    name = got.name
    parser_name, parsed = ingest.parse_source(
        got.data, parser=parser, name=name, encoding=options["encoding"], sheet=options["sheet"],
        source_id=source_id, measure=options["measure"], period=options["period"], unit=options["unit"],
        overrides=ingest.source_overrides(source_id, {"sources": sources}))
    lay = ingest.layout(parser_name)
    if lay.cites_per_row and new_source is not None and not named:
        # rows that name their own sources: no empty source entry for the file itself
        new_source, source_id = None, None
    _check_cited_sources(parsed, name, set(sources) | ({source_id} if new_source else set()))
    if lay.needs_source_id and source_id is None:
        raise InputError(name, "a register snapshot needs a source id", hint="pull it under a source id")
    # privacy: a snapshot keeps the file's bytes and data/ is committed, so a register with personal
    # or contact columns is refused before anything is stored (docs/sources.md, "Personal fields")
    personal = personal_columns(got.data, parser_name, name=name, encoding=options["encoding"],
                                sheet=options["sheet"])
    if personal:
        raise InputError(name, "the register has personal or contact columns, which ngobrief never stores: "
                         + ", ".join(personal), column=personal[0],
                         hint="delete these columns from the file and pull it again; nothing was stored")
    return parser_name, parsed, source_id, new_source


def _write_pulled(data: bytes, sid: str, suffix: str, data_dir: Path, digest: str, parser_name: str, origin: str,
                  source_id: str | None, options: dict, fetched_meta: dict, sources: dict, new_source: dict | None,
                  parsed, manifest_path: Path, warehouse_path: Path | None) -> tuple[int, str]:
    """Write a parsed pull: snapshot file, warehouse (one transaction), manifest. Returns (rows, file)."""
    from . import warehouse
    from .ingest.load import load_snapshot

    con = warehouse.connect(warehouse_path)
    rel, created = store(data, sid, suffix, data_dir)
    try:
        fetched_at = _now_iso()
        snap = Snapshot(sid, data_dir / rel, rel, digest, len(data), parser_name, origin, source_id, fetched_at,
                        {k: v for k, v in options.items() if v is not None})
        new_entry = {"file": rel, "sha256": digest, "parser": parser_name, "origin": origin,
                     "fetched_at": fetched_at, "bytes": len(data)}
        if source_id:
            new_entry["source_id"] = source_id
        new_entry.update({k: v for k, v in options.items() if v is not None})
        new_entry.update(fetched_meta)
        all_sources = {**sources, **({source_id: new_source} if new_source else {})}
        try:
            warehouse.create(con)
            rows = load_snapshot(con, snap, parsed, sources=all_sources).rows
        except BaseException:
            if created:
                _discard(data_dir / rel)
            raise
        update_manifest(manifest_path, sid, new_entry, source_id if new_source else None, new_source)
    finally:
        con.close()
    return rows, rel


def _discard(path: Path) -> None:
    try:
        os.chmod(path, 0o644)
        path.unlink()
        if not any(path.parent.iterdir()):
            path.parent.rmdir()
    except OSError:
        pass


def _load_entry(sid: str, entry: dict | None, data_dir: Path, manifest: dict,
                warehouse_path: Path | None) -> PullResult:
    """Load the snapshot the manifest records for `sid` (nothing happens if it is loaded already)."""
    from . import warehouse
    from .ingest.load import load_snapshot

    snap = snapshot_from_entry(sid, entry, data_dir)
    with lock.warehouse_lock(warehouse_path):
        con = warehouse.connect(warehouse_path)
        try:
            warehouse.create(con)
            done = load_snapshot(con, snap, sources=manifest.get("sources", {}))
        finally:
            con.close()
    return PullResult(sid, "loaded" if done.rows else "unchanged", snap.sha256, snap.bytes, snap.parser, snap.origin,
                      snap.file, done.rows, snap.source_id, done.notes)


def list_sources(warehouse_path: Path | None = None, manifest_path: Path | None = None) -> dict:
    """Every source (with its priority rank) and snapshot in the manifest, with what the warehouse
    holds of each when there is a warehouse to look in."""
    import duckdb

    from . import warehouse
    from .errors import WarehouseBusyError, WarehouseMissingError

    manifest = read_manifest(manifest_path)
    mem = duckdb.connect()
    try:
        warehouse.create(mem)
        warehouse.load_sources(mem, manifest.get("sources", {}))
        ranks = dict(mem.execute("SELECT source_id, priority_rank FROM staging.sources").fetchall())
    finally:
        mem.close()
    loads, figures, where = {}, {}, None
    try:
        con = warehouse.connect(warehouse_path, read_only=True)
    except (WarehouseBusyError, WarehouseMissingError, duckdb.Error):
        con = None
    if con is not None:
        try:
            where = str(config.warehouse_path(warehouse_path))
            for row in con.execute("SELECT snapshot_id, loaded_at, rows_loaded, sha256 FROM raw.snapshots").fetchall():
                loads[row[0]] = row[1:]
            for table in ("staging.observations", "staging.register_foundations"):
                for sid, n in con.execute(f"SELECT source_id, count(*) FROM {table} GROUP BY ALL").fetchall():
                    figures[sid] = figures.get(sid, 0) + n
        except duckdb.Error:
            pass
        finally:
            con.close()
    sources = [{"source_id": sid, "priority_rank": ranks.get(sid), "kind": s.get("kind"),
                "published": s.get("published"), "publisher": s.get("publisher"), "title": s.get("title"),
                "url": s.get("url"), "warehouse_rows": figures.get(sid, 0) if where else None}
               for sid, s in manifest.get("sources", {}).items()]
    sources.sort(key=lambda s: (s["priority_rank"] is None, s["priority_rank"] or 0, s["source_id"]))
    snapshots = []
    for sid, e in manifest.get("snapshots", {}).items():
        loaded = loads.get(sid)
        current = loaded is not None and loaded[2] == e.get("sha256")
        snapshots.append({"snapshot_id": sid, "source_id": e.get("source_id"), "file": e.get("file"),
                          "sha256": e.get("sha256"), "bytes": e.get("bytes") or _size(e.get("file")), "parser": e.get("parser"),
                          "origin": e.get("origin", f"bundled:data/{e.get('file')}"),
                          "fetched_at": e.get("fetched_at"), "licence": e.get("licence"),
                          "loaded_at": loaded[0] if current else None,
                          "rows_loaded": loaded[1] if current else None})
    return {"warehouse": where, "sources": sources, "snapshots": snapshots}


def _size(file: str | None) -> int | None:
    path = config.DATA_DIR / file if file else None
    return path.stat().st_size if path is not None and path.is_file() else None
