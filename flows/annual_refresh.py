"""Annual refresh: pull → load → validate → compute → render, on the bundled or newly pulled sources."""

from __future__ import annotations

from pathlib import Path

from prefect import flow, get_run_logger, task

from ngobrief import pipeline


@task(name="pull")
def pull():
    return pipeline.pull_stage()


@task(name="load")
def load(snapshots, warehouse: Path | None):
    return pipeline.load_stage(snapshots, warehouse)


@task(name="validate")
def validate(warehouse: Path | None):
    return pipeline.validate_stage(warehouse)


@task(name="compute")
def compute(warehouse: Path | None, year: int | None):
    return pipeline.compute_stage(warehouse, year)


@task(name="render")
def render(year: int, lang: str, warehouse: Path | None):
    return pipeline.render_stage(year, lang, warehouse)


def _run_name() -> str:
    from prefect.runtime import flow_run

    year = flow_run.parameters.get("year")
    return f"annual-refresh-{year or 'all-years'}"


@flow(name="annual-refresh", flow_run_name=_run_name)
def annual_refresh(year: int | None = None, langs: tuple[str, ...] = ("en", "zh"),
                   warehouse: Path | None = None) -> dict:
    log = get_run_logger()
    snapshots = pull()
    loaded = load(snapshots, warehouse)
    log.info("loaded rows per snapshot: %s", loaded)
    checks = validate(warehouse)
    log.info("validation: %d errors, %d warnings", len(checks.errors), len(checks.warnings))
    briefs, blocked = [], {}
    for y in compute(warehouse, year):
        if stops := checks.blocks(y):
            blocked[y] = [f.summary(y) for f in stops]
            log.error("no brief for %s: validation errors %s", y, blocked[y])
            continue
        for lang in langs:
            briefs.append(str(render(y, lang, warehouse).path))
    log.info("briefs written: %s", briefs)
    return {"loaded": loaded, "briefs": briefs, "blocked": blocked,
            "errors": len(checks.errors), "warnings": len(checks.warnings)}
