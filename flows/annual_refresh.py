"""Annual refresh: pull → load → validate → compute → render, on the bundled or newly pulled sources.

Deployed as `annual-refresh/annual-refresh` (prefect.yaml), on a yearly schedule; `ngobrief run`
calls it directly."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger

from flows.outcome import ANNUAL_TIMEOUT, operated
from flows.tasks import (compute, holding_warehouse, load_snapshots, publish_summary, pull, rename_run, render_all,
                         validate)
from ngobrief import pipeline


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
    """Load new snapshots, validate everything, and write the briefs.

    Args:
        year: The edition to brief: a year, "latest" (the latest year with participation figures)
            or "every" (every such year).
        langs: Brief languages (en, zh).
        warehouse: The warehouse file (default $NGOBRIEF_WAREHOUSE, else outputs/warehouse.duckdb).
        lock_timeout: Seconds to wait while another run is writing the warehouse.
    """
    log = get_run_logger()
    with holding_warehouse(warehouse, lock_timeout):
        snapshots = pull()
        loaded = load_snapshots(snapshots, warehouse)
        checks = validate(warehouse)
        log.info("validation: %d errors, %d warnings", len(checks.errors), len(checks.warnings))
        years = compute(warehouse, year)
        if year == "latest" and years:
            rename_run(run_name(years[0]))
        jobs, blocked = [], {}
        for y in years:
            if stops := checks.blocks(y):
                blocked[y] = [f.summary(y) for f in stops]
                log.error("no brief for %s: validation errors %s", y, blocked[y])
                continue
            jobs += [(y, lang) for lang in langs]
        briefs = [str(b.path) for b in render_all(jobs, warehouse)] if jobs else []
        figures = pipeline.key_figures(years, warehouse)
        summary = pipeline.validation_summary(warehouse)
    log.info("briefs written: %s", briefs)
    name = run_name(years[0] if year == "latest" and years else year)
    publish_summary(name, pipeline.summary_markdown(
        name, figures=figures, validation=summary, briefs=briefs, blocked=blocked, loaded=loaded),
        description=f"Annual refresh: {len(briefs)} brief(s), {summary['errors']} validation error(s)")
    return {"loaded": loaded, "years": years, "briefs": briefs, "blocked": blocked,
            "errors": len(checks.errors), "warnings": len(checks.warnings),
            "validation_report": summary["report"]}
