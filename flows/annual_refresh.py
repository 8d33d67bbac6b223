"""Annual refresh: pull → build → load → validate → publish → compute → render, on the bundled or newly
pulled sources (write-audit-publish: the published warehouse is replaced whole, or not at all).

Deployed as `annual-refresh/annual-refresh` (prefect.yaml), on a yearly schedule; `ngobrief run`
calls it directly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger

from flows.outcome import ANNUAL_TIMEOUT, operated
from flows.tasks import (audit_and_publish, begin_edition, compute, holding_warehouse, load_snapshots,
                         publish_summary, pull, rename_run, render_all, validate)
from ngobrief import editions, pipeline, publishing


def run_name(year) -> str:
    if year == "every":
        return "annual-refresh-all-years"
    return f"annual-refresh-{year}"


def _run_name() -> str:
    from prefect.runtime import flow_run

    return run_name(flow_run.parameters.get("year", "latest"))


@flow(name="annual-refresh", flow_run_name=_run_name, timeout_seconds=ANNUAL_TIMEOUT)
@operated
def annual_refresh(year: int | Literal["latest", "every"] = "latest", langs: list[str] = ["en", "zh"],  # noqa: B006
                   warehouse: Path | None = None, lock_timeout: float = 900) -> dict:
    """Build a new warehouse edition from the snapshots, audit it, publish it, and write the briefs.

    Args:
        year: The edition to brief: a year, "latest" (the latest year with participation figures)
            or "every" (every such year).
        langs: Brief languages (en, zh).
        warehouse: The published warehouse file (default $NGOBRIEF_WAREHOUSE, else outputs/warehouse.duckdb).
        lock_timeout: Seconds to wait while another run is writing the warehouse.
    """
    log = get_run_logger()
    with holding_warehouse(warehouse, lock_timeout):
        snapshots = pull()
        build = begin_edition(snapshots, warehouse)
        if build is None:
            loaded = {s.snapshot_id: "unchanged (in the published edition)" for s in snapshots}
            outcome = publishing.unchanged(warehouse)
        else:
            loaded = load_snapshots(snapshots, build.path)
            checks = validate(build.path)
            log.info("validation: %d errors, %d warnings", len(checks.errors), len(checks.warnings))
            outcome = audit_and_publish(build, checks)
        for note in outcome.notes:
            log.info(note)
        if not outcome.published:
            log.error("nothing published: validation errors %s; the build is kept at %s",
                      outcome.findings, outcome.failed_build)
            name = run_name(year)
            publish_summary(name, pipeline.summary_markdown(
                name, figures=[], validation=outcome.validation, briefs=[], loaded=loaded,
                notes=[f"**Nothing published**: the audit found error(s); the build is kept at "
                       f"`{outcome.failed_build}`."]),
                description=f"Annual refresh: nothing published, {len(outcome.findings)} validation error(s)")
            return _result(outcome, loaded, [], [], {})
        years = compute(warehouse, year)
        if year == "latest" and years:
            rename_run(run_name(years[0]))
        jobs, blocked = [], {}
        for y in years:
            # a published edition has no error-level finding, unless it was adopted from before editions
            if stops := pipeline.stored_blocks(y, warehouse):
                blocked[y] = stops
                log.error("no brief for %s: validation errors %s", y, blocked[y])
                continue
            jobs += [(y, lang) for lang in langs]
        briefs = [str(b.path) for b in render_all(jobs, warehouse)] if jobs else []
        editions.record_run_briefs(outcome.edition, briefs, warehouse)
        figures = pipeline.key_figures(years, warehouse)
        changes = publishing.changes_markdown(warehouse) if outcome.new else None
    log.info("briefs written: %s", briefs)
    name = run_name(years[0] if year == "latest" and years else year)
    publish_summary(name, pipeline.summary_markdown(
        name, figures=figures, validation=outcome.validation, briefs=briefs, blocked=blocked, loaded=loaded,
        notes=[f"Edition {outcome.number} (`{outcome.edition}`)"
               + (" published by this run." if outcome.new else ": inputs unchanged, no new edition."),
               *([changes] if changes else [])]),
        description=f"Annual refresh: edition {outcome.number}, {len(briefs)} brief(s), "
                    f"{outcome.validation.get('errors')} validation error(s)")
    return _result(outcome, loaded, years, briefs, blocked)


def _result(outcome, loaded, years, briefs, blocked) -> dict:
    return {"loaded": loaded, "years": years, "briefs": briefs, "blocked": blocked,
            "errors": outcome.validation.get("errors") or 0, "warnings": outcome.validation.get("warnings") or 0,
            "validation_report": outcome.validation.get("report"), "edition": outcome.edition,
            "edition_number": outcome.number, "new_edition": outcome.new, "published": outcome.published,
            "failed_build": str(outcome.failed_build) if outcome.failed_build else None,
            "findings": outcome.findings}
