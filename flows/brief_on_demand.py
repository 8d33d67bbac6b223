"""Brief on demand: one PDF brief for a year, a language and (optionally) some org types.

Deployed as `brief-on-demand/brief-on-demand` (prefect.yaml), without a schedule. It reads the
published warehouse edition only — no load, no validation, no write lock — so on-demand briefs run in
parallel with each other and with an annual refresh (which publishes a new edition whole)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from prefect import flow, get_run_logger

from flows.outcome import ON_DEMAND_TIMEOUT, operated
from flows.tasks import compute, publish_summary, render
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
    """Write one brief from the published edition.

    Args:
        year: The edition year (one with participation figures).
        lang: The brief's language: en or zh.
        types: Only these org types, e.g. ["social_association", "foundation"] (default: all).
        warehouse: The published warehouse file (default $NGOBRIEF_WAREHOUSE, else outputs/warehouse.duckdb).
        lock_timeout: Kept for deployments that pass it; a brief takes no lock.
    """
    log = get_run_logger()
    compute(warehouse, year)
    pipeline.check_publishable(year, warehouse)
    brief = render(year, lang, warehouse, types)
    figures = pipeline.key_figures([year], warehouse, types)
    summary = pipeline.validation_summary(warehouse)
    name = run_name(year, lang, types)
    publish_summary(name, pipeline.summary_markdown(
        name, figures=figures, validation=summary, briefs=[str(brief.path)]),
        description=f"Brief {year} ({lang}" + (f"; {', '.join(types)}" if types else "") + ")")
    log.info("brief written: %s", brief.path)
    return {"brief": str(brief.path), "pdf_sha256": brief.pdf_sha256, "validation_report": summary["report"]}
