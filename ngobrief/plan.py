"""`ngobrief run --plan`: what a run would do, worked out without writing anything.

The warehouse is copied into an in-memory DuckDB (attached read-only); pending snapshots are parsed
and loaded there, the suites run there, and the years are picked from there, so the plan names
exactly the briefs a run would write and the years validation would block. No lock file, no
warehouse change, no file under outputs/ or data/: a plan only reads."""

from __future__ import annotations

import os
from pathlib import Path

from . import config, ingest, metrics, pipeline, pull, validate, warehouse
from .ingest.load import load_snapshot
from .brief.naming import brief_path


def parse_cache_dir() -> Path:
    """Where Prefect keeps the parse task's cached results (its local result storage)."""
    if os.environ.get("PREFECT_RESULTS_LOCAL_STORAGE_PATH"):
        return Path(os.environ["PREFECT_RESULTS_LOCAL_STORAGE_PATH"]).expanduser()
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser() / "storage"


def _in_memory_copy(path: Path):
    import duckdb

    mem = duckdb.connect()
    if path.exists():
        mem.execute(f"ATTACH '{str(path).replace(chr(39), chr(39) * 2)}' AS published (READ_ONLY)")
        mem.execute("COPY FROM DATABASE published TO memory")
        mem.execute("DETACH published")
    return mem


def make_plan(year: int | str | None = None, langs: list[str] | tuple[str, ...] = ("en", "zh"),
              warehouse_path: Path | None = None) -> dict:
    path = config.warehouse_path(warehouse_path)
    manifest = pull.read_manifest()
    snapshots = pull.bundled_snapshots(manifest)
    existed = path.exists()
    con = _in_memory_copy(path)
    try:
        warehouse.create(con)
        warehouse.load_sources(con, manifest.get("sources", {}))
        cache = parse_cache_dir()
        steps = []
        for s in snapshots:
            if s.parser not in ingest.registry():
                steps.append({"snapshot": s.snapshot_id, "action": "skip", "why": f"no parser for {s.parser}"})
                continue
            hit = (cache / pipeline.parse_cache_key(s)).exists()
            loaded = load_snapshot(con, s, pipeline.parse_stage(s)) if warehouse.loaded_sha256(
                con, s.snapshot_id) != s.sha256 else None
            if loaded is None:
                steps.append({"snapshot": s.snapshot_id, "action": "unchanged", "sha256": s.sha256[:12]})
            else:
                steps.append({"snapshot": s.snapshot_id, "action": "load", "sha256": s.sha256[:12],
                              "parse": "cache hit" if hit else "cache miss", "rows": loaded.rows})
        suites = [validate.read_suite(p)["name"] for p in validate.suite_files()]
        run = validate.run_suites(con)
        years = pipeline.pick_years(metrics.brief_years(con), year)
    finally:
        con.close()
    briefs, blocked = [], {}
    # the audit's gate (write-audit-publish): any error-level finding publishes nothing, so no brief
    unpublished = [f.summary() for f in run.errors]
    for y in years if not unpublished else []:
        if stops := run.blocks(y):
            blocked[y] = [f.summary(y) for f in stops]
            continue
        for lang in langs:
            out = brief_path(y, lang)
            briefs.append({"year": y, "lang": lang, "path": str(out), "action": "replace" if out.exists() else "new"})
    return {"warehouse": str(path), "warehouse_exists": existed, "snapshots": steps, "suites": suites,
            "validation": {"errors": len(run.errors), "warnings": len(run.warnings)},
            "briefs": briefs, "blocked": blocked, "nothing_published": unpublished}


def plan_lines(p: dict) -> list[str]:
    lines = [f"PLAN (nothing is written) — warehouse {p['warehouse']}"
             + ("" if p["warehouse_exists"] else " (would be created)"), "", "snapshots:"]
    for s in p["snapshots"]:
        if s["action"] == "load":
            lines.append(f"  {s['snapshot']:20} parse ({s['parse']}) and load {s['rows']} row(s), sha256 {s['sha256']}")
        elif s["action"] == "unchanged":
            lines.append(f"  {s['snapshot']:20} unchanged (sha256 {s['sha256']} already loaded): skipped")
        else:
            lines.append(f"  {s['snapshot']:20} skipped: {s['why']}")
    lines += ["", f"suites that would run ({len(p['suites'])}): " + ", ".join(p["suites"]),
              f"  they would find {p['validation']['errors']} error(s), {p['validation']['warnings']} warning(s)",
              "", "briefs:"]
    lines += [f"  {b['action']:8} {b['path']}" for b in p["briefs"]] or ["  none"]
    for y, why in sorted(p["blocked"].items()):
        lines.append(f"  blocked  {y}: " + "; ".join(why))
    if p.get("nothing_published"):
        lines.append("  nothing published: validation would find error(s): " + "; ".join(p["nothing_published"]))
    return lines
