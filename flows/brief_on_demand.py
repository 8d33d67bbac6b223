"""Brief on demand: one PDF brief for a year, a language and (optionally) some org types.

Deployed as `brief-on-demand/brief-on-demand` (prefect.yaml), without a schedule. It brings the
warehouse up to date first — cheaply: snapshots already loaded are skipped by sha256, and validation
runs again only when the rows it checks have changed since the stored run."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger

from flows.outcome import ON_DEMAND_TIMEOUT, operated
from flows.tasks import compute, holding_warehouse, load_snapshots, publish_summary, pull, render, validate
from ngobrief import pipeline


def run_name(year, lang, types=None) -> str:
    return f"brief-{year}-{lang}" + "".join(f"-{t}" for t in sorted(types or []))


def _run_name() -> str:
    from prefect.runtime import flow_run

    p = flow_run.parameters
    return run_name(p.get("year"), p.get("lang", "en"), p.get("types"))


@flow(name="brief-on-demand", flow_run_name=_run_name, timeout_seconds=ON_DEMAND_TIMEOUT)
@operated
def brief_on_demand(year: int, lang: Literal["en", "zh"] = "en", types: list[str] | None = None,
                    warehouse: Path | None = None, lock_timeout: float = 900) -> dict:
    """Write one brief.

    Args:
        year: The edition year (one with participation figures).
        lang: The brief's language: en or zh.
        types: Only these org types, e.g. ["social_association", "foundation"] (default: all).
        warehouse: The warehouse file (default $NGOBRIEF_WAREHOUSE, else outputs/warehouse.duckdb).
        lock_timeout: Seconds to wait while another run is writing the warehouse.
    """
    log = get_run_logger()
    with holding_warehouse(warehouse, lock_timeout):
        loaded = load_snapshots(pull(), warehouse)
        if pipeline.validation_is_current(warehouse):
            log.info("validation: the stored run checked these same rows; not run again")
        else:
            validate(warehouse)
        compute(warehouse, year)
        pipeline.check_publishable(year, warehouse)
        brief = render(year, lang, warehouse, types)
        figures = pipeline.key_figures([year], warehouse, types)
        summary = pipeline.validation_summary(warehouse)
    name = run_name(year, lang, types)
    publish_summary(name, pipeline.summary_markdown(
        name, figures=figures, validation=summary, briefs=[str(brief.path)], loaded=loaded),
        description=f"Brief {year} ({lang}" + (f"; {', '.join(types)}" if types else "") + ")")
    log.info("brief written: %s", brief.path)
    return {"brief": str(brief.path), "pdf_sha256": brief.pdf_sha256, "validation_report": summary["report"]}
