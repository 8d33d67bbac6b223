"""The annual refresh as plain functions, one per stage, so that flows and the CLI compose the same code.

Every stage that writes the warehouse holds its write lock (ngobrief.lock); a flow holds it for its
whole run, so nothing else writes between two of its stages."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import brief, config, early, ingest, lock, metrics, pull, validate, validation_inputs, warehouse
from .ingest.load import load_snapshot
from .errors import NgobriefError, OutputError, PublishingBlocked, os_error_message


@dataclass
class StageReport:
    """What a stage did, for logs and artifacts."""

    stage: str
    details: dict = field(default_factory=dict)


# What check_writable writes into each folder: enough to fail on a full disk, little enough to be instant.
PROBE_BYTES = 64 * 1024


def check_writable(*folders: Path) -> None:
    """Fail before anything is written when a folder a command writes into is read-only or full:
    one OutputError naming the folder, instead of a run that stops half way through."""
    for folder in dict.fromkeys(Path(f).absolute() for f in folders):
        existing = next(p for p in (folder, *folder.parents) if p.is_dir())  # what will hold the new folders
        try:
            fd, tmp = tempfile.mkstemp(dir=existing, prefix=".ngobrief-probe-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(bytes(PROBE_BYTES))
                    fh.flush()
                    os.fsync(fh.fileno())
            finally:
                os.unlink(tmp)
        except OSError as exc:
            raise OutputError(os_error_message(exc, folder)) from None


def output_folders(warehouse_path: Path | None = None, *, briefs: bool = True,
                   validation: bool = True) -> list[Path]:
    """The folders a command writes: the warehouse's (the file and its lock), and the briefs' and
    validation reports' when it writes those. (A brief's `--out` is not probed: it may name a folder
    the brief must refuse, and its write fails whole, naming the file, if the folder cannot take it.)"""
    folders = [config.warehouse_path(warehouse_path).parent]
    if briefs:
        folders.append(config.briefs_dir())
    if validation:
        folders.append(config.validation_dir())
    return folders


def pull_stage() -> list[pull.Snapshot]:
    return pull.bundled_snapshots()


def prepare_stage(warehouse_path: Path | None = None) -> int:
    """Create every table and view (safe to repeat) and load the manifest's source documents."""
    with lock.warehouse_lock(warehouse_path):
        con = warehouse.connect(warehouse_path)
        try:
            warehouse.create(con)
            return warehouse.load_sources(con, pull.read_manifest().get("sources", {}))
        finally:
            con.close()


def pending_snapshots(snapshots: list[pull.Snapshot], warehouse_path: Path | None = None) -> list[pull.Snapshot]:
    """The snapshots to parse: their bytes (by sha256) are not in the warehouse yet, and this version
    has a parser for them. Tables must exist (prepare_stage)."""
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        return [s for s in snapshots
                if s.parser in ingest.registry() and warehouse.loaded_sha256(con, s.snapshot_id) != s.sha256]
    finally:
        con.close()


def parse_cache_key(snapshot: pull.Snapshot) -> str:
    """What a parse result depends on: the snapshot's bytes, its parser, the read options its manifest
    entry records (encoding, sheet, ...), the code and contract the parse runs (the shared reader, the
    layout's own module and contract, the source's aliases: ingest.parser_version) and the Polars
    version (which writes the cached frames and must read them back)."""
    import polars

    options = hashlib.sha256(json.dumps([snapshot.source_id, snapshot.options], sort_keys=True,
                                        default=str).encode("utf-8")).hexdigest()[:12]
    code = ingest.parser_version(snapshot.parser, snapshot.source_id)[:16]
    return (f"parse-{snapshot.parser}-{snapshot.sha256}-{options}-{code}"
            f"-polars{polars.__version__}")


def parse_stage(snapshot: pull.Snapshot) -> ingest.Parsed:
    """Parse one snapshot into its raw and typed frames; reads the file only, writes nothing."""
    return ingest.parse_snapshot(snapshot)


def store_stage(snapshot: pull.Snapshot, parsed: ingest.Parsed | None, warehouse_path: Path | None = None) -> int:
    """Load one snapshot's parsed frames (None: parse it now) into raw and staging (one transaction).
    Returns rows loaded."""
    with lock.warehouse_lock(warehouse_path):
        con = warehouse.connect(warehouse_path)
        try:
            return load_snapshot(con, snapshot, parsed).rows
        finally:
            con.close()


def load_stage(snapshots: list[pull.Snapshot], warehouse_path: Path | None = None) -> dict[str, int]:
    """Prepare the warehouse and load every snapshot not already in it; rows loaded per snapshot."""
    with lock.warehouse_lock(warehouse_path):
        prepare_stage(warehouse_path)
        todo = {s.snapshot_id for s in pending_snapshots(snapshots, warehouse_path)}
        # parsed by the load itself: a layout that reads straight into DuckDB (the register) skips frames
        return {s.snapshot_id: store_stage(s, None, warehouse_path) if s.snapshot_id in todo else 0
                for s in snapshots}


def start_validator() -> None:
    """Start importing Great Expectations (~3 s) now, in an early process (ngobrief.early), while the
    run copies the published edition and loads the snapshots; the build's validate_stage runs there
    (bind_validator). `ngobrief run` starts it before its own imports (ngobrief.entry): that one is
    used. On one core, or with NGOBRIEF_VALIDATE_WORKER=0, nothing starts."""
    if not early.waiting(early.VALIDATE[0]):
        early.start(*early.VALIDATE)


def bind_validator(build_path: Path) -> None:
    """The early validation process is for this build."""
    early.bind(early.VALIDATE[0], Path(build_path))


def stop_validator() -> None:
    """Stop the early validation process (no build to validate: nothing changed, or the begin failed)."""
    early.stop(early.VALIDATE[0])


def validate_stage(warehouse_path: Path | None = None, *, reuse: bool = True,
                   today: dt.date | None = None) -> validate.ValidationRun:
    """Run the suites, store the findings in the audit tables and write the HTML report — or, when
    nothing the latest run depended on has changed (validation_inputs), return that run (`reused`).
    A run's build is validated in the early process start_validator began for it, when there is one."""
    worker = early.take(early.VALIDATE[0], Path(warehouse_path)) if warehouse_path is not None else None
    if worker is not None:
        done = worker.call("ngobrief.pipeline:validate_stage", warehouse_path, reuse=reuse, today=today)
        if done is not None:
            return done[0]
    today = today or dt.datetime.now(dt.timezone.utc).date()
    with lock.warehouse_lock(warehouse_path):
        con = warehouse.connect(warehouse_path)
        try:
            warehouse.create(con)  # the check views and audit tables as sql/ defines them now
            run, inputs = validation_inputs.reusable_run(con, today=today) if reuse else (None, None)
            if run is None:
                run = validate.run_suites(con, today=today)
                # the checked rows' fingerprints as the run took them (under this lock: the same rows)
                inputs = {**validation_inputs.parts(con, today=today, tables=False),
                          **validation_inputs.table_parts(run)}
                run.inputs_note = validation_inputs.rerun_note(validation_inputs.changed(con, inputs))
                validate.store(con, run)
                validation_inputs.record(con, run, inputs)
            elif run.report_path is None:  # its report was written on another machine, or deleted
                run.report_path = validate.write_report(run)
        finally:
            con.close()
    return run


def validation_is_current(warehouse_path: Path | None = None, today: dt.date | None = None) -> bool:
    """True when nothing the latest stored validation run depended on has changed (validation_inputs):
    validating again would find the same."""
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        today = today or dt.datetime.now(dt.timezone.utc).date()
        return validation_inputs.changed(con, validation_inputs.parts(con, today=today)) == []
    finally:
        con.close()


def stored_blocks(year: int, warehouse_path: Path | None = None) -> list[str]:
    """The error-level findings of the latest stored validation run that stop a brief for `year`
    (validate.blocks: the rule `ngobrief run` applies too)."""
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        findings = validate.latest_findings(con)
    finally:
        con.close()
    return [f"{f['suite']}: {f['description']}" for f in findings
            if validate.blocks(f["severity"], json.loads(f["unexpected_rows"] or "[]"), year)]


def check_publishable(year: int, warehouse_path: Path | None = None) -> None:
    """Refuse (PublishingBlocked, exit 1) to brief a year that the stored validation run blocks."""
    if stops := stored_blocks(year, warehouse_path):
        raise PublishingBlocked(f"no brief for {year}: validation errors: " + "; ".join(stops))


def validation_summary(warehouse_path: Path | None = None) -> dict:
    """The latest stored validation run: its id, error and warning counts, one line per failed
    expectation, and its HTML report when this machine wrote one."""
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        latest = con.sql("SELECT run_id FROM audit.validation_results ORDER BY run_at DESC LIMIT 1").fetchall()
        paths = con.sql("SELECT any_value(report_path) FROM audit.validation_runs WHERE run_id = ?",
                        params=[latest[0][0]]).fetchall() if latest else []
        failed = validate.latest_findings(con)
    finally:
        con.close()
    if not latest:
        return {"run_id": None, "errors": None, "warnings": None, "findings": [], "report": None}
    report = Path(paths[0][0]) if paths and paths[0][0] else None
    return {"run_id": latest[0][0],
            "errors": sum(f["severity"] == "error" for f in failed),
            "warnings": sum(f["severity"] != "error" for f in failed),
            "findings": [f"{f['severity']} · {f['suite']}: {f['description']}" for f in failed],
            "report": str(report) if report and report.exists() else None}


def is_built(warehouse_path: Path | None = None) -> bool:
    """True when the warehouse file exists and has its tables (a refresh has run at least once)."""
    if not config.warehouse_path(warehouse_path).exists():
        return False
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        return bool(con.sql("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'raw' AND table_name = 'snapshots'")
                    .fetchall())
    finally:
        con.close()


def compute_stage(warehouse_path: Path | None = None, year: int | str | None = None) -> list[int]:
    """The years to brief (marts are views: computing is reading them). `year` is one year,
    "latest" (the latest year with participation figures) or None / "every" (all such years)."""
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        years = metrics.brief_years(con)
    finally:
        con.close()
    return pick_years(years, year)


def pick_years(years: list[int], year: int | str | None) -> list[int]:
    """The years a run briefs, of the years with participation figures (compute_stage, and the plan)."""
    if not years:
        raise NgobriefError("the warehouse has no year with participation figures (both counts published)")
    if year in (None, "every"):
        return years
    if year == "latest":
        return years[-1:]
    if int(year) not in years:
        raise NgobriefError(f"no participation figures for {year}: years with figures are "
                            + ", ".join(map(str, years)))
    return [int(year)]


# What a brief's file is called: the brief stage's one rule (the CLI and the flows both reach it).
brief_path = brief.brief_path


def render_stage(year: int, lang: str, warehouse_path: Path | None = None,
                 out: Path | None = None, types: list[str] | None = None,
                 compare_to: int | None = None, worker=None) -> brief.Brief:
    """A brief from the published edition: read-only, without the write lock, so briefs run in parallel
    with each other and with a run; the brief is recorded in editions/briefs.jsonl. `worker`: a
    pdf_worker.Worker that writes the PDF (WeasyPrint already imported there), else this process."""
    from . import editions

    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        if worker is None:
            made = brief.render_brief(con, year, lang, out=out, types=types, compare_to=compare_to)
        else:
            made = _render_in(worker, brief.prepare_brief(con, year, lang, out, types, compare_to))
        stamp = editions.stamp_of(con)
    finally:
        con.close()
    editions.record_brief(made, year, lang, warehouse_path, stamp["edition_id"] if stamp else None)
    return made


def _render_in(worker, prepared: brief.Prepared) -> brief.Brief:
    done = worker.write(prepared.html, prepared.out, prepared.charts)
    if done is None:   # the worker could not start or stopped: write the PDF here, as without it
        return brief.finish_brief(prepared, brief.write_pdf(prepared.html, prepared.out, charts=prepared.charts))
    pages, warnings = done
    for level, message in warnings:   # WeasyPrint's warnings in the worker reach this command's log
        logging.getLogger("weasyprint").log(level, message)
    return brief.finish_brief(prepared, pages)


def render_stages(jobs: list[tuple[int, str]], warehouse_path: Path | None = None,
                  workers: int | None = None) -> list[brief.Brief]:
    """The briefs of a run, one per (year, language), each made and recorded as render_stage makes
    one, with WeasyPrint across the cores (brief.parallel)."""
    from . import editions
    from .brief.parallel import render_briefs

    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        made = render_briefs(con, jobs, workers)
        stamp = editions.stamp_of(con)
    finally:
        con.close()
    for (year, lang), b in zip(jobs, made):
        editions.record_brief(b, year, lang, warehouse_path, stamp["edition_id"] if stamp else None)
    return made


def key_figures(years: list[int], warehouse_path: Path | None = None, types: list[str] | None = None) -> list[dict]:
    """Participation rows for `years` (every org type unless `types`), for summaries."""
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        rows = []
        for y in years:
            rows.extend(metrics.participation(con, y, types).to_dicts())
        return rows
    finally:
        con.close()


def _cell(column: str, value) -> str:
    """A figure as the briefs print it: counts with thousands separators, ratios as 0.11%."""
    if value is None:
        return "—"
    if column in ("engaged_international", "registered"):
        return f"{value:,.0f}"
    if column.endswith("_pct"):
        return f"{value:.2f}%"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value).replace("|", "\\|")


def summary_markdown(title: str, *, figures: list[dict], validation: dict, briefs: list[str],
                     blocked: dict[int, list[str]] | None = None, loaded: dict[str, str] | None = None,
                     notes: list[str] | None = None) -> str:
    """A run's summary as markdown (a Prefect artifact): key figures, the validation summary
    (`validation_summary`), the briefs written and what happened to each snapshot."""
    out = [f"# {title}", "", "## Key figures", ""]
    if figures:
        cols = ["year", "period", "as_of", "org_type", "engaged_international", "registered", "participation_pct"]
        out += ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        out += ["| " + " | ".join(_cell(c, r.get(c)) for c in cols) + " |" for r in figures]
    else:
        out.append("No participation figures for the years asked.")
    out += ["", "## Validation", ""]
    if validation.get("run_id") is None:
        out.append("No validation run in the warehouse.")
    else:
        out.append(f"Run `{validation['run_id']}`: {validation['errors']} error(s), "
                   f"{validation['warnings']} warning(s).")
        out += [""] + [f"- {f}" for f in validation["findings"]] if validation["findings"] else []
        out += ["", f"Validation report: `{validation['report']}`" if validation.get("report")
                else "Validation report: none on this machine (the run was stored in audit.validation_results)."]
    for y, why in sorted((blocked or {}).items()):
        out += ["", f"**No brief for {y}**: " + "; ".join(why)]
    out += ["", "## Briefs", ""]
    out += [f"- `{b}`" for b in briefs] or ["None written."]
    if loaded is not None:
        out += ["", "## Snapshots", ""]
        out += [f"- {sid}: {what}" for sid, what in loaded.items()]
    for n in notes or []:
        out += ["", n]
    return "\n".join(out) + "\n"
