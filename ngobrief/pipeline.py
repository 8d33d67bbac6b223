"""The annual refresh as plain functions, one per stage, so that flows and the CLI compose the same code."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import config, metrics, parse, pull, render, validate, warehouse


@dataclass
class StageReport:
    """What a stage did, for logs and artifacts."""

    stage: str
    details: dict = field(default_factory=dict)


def pull_stage() -> list[pull.Snapshot]:
    return pull.bundled_snapshots()


def load_stage(snapshots: list[pull.Snapshot], warehouse_path: Path | None = None) -> dict[str, int]:
    con = warehouse.connect(warehouse_path)
    try:
        warehouse.create(con)
        warehouse.load_sources(con, pull.read_manifest().get("sources", {}))
        return {s.snapshot_id: parse.load(con, s) for s in snapshots}
    finally:
        con.close()


def validate_stage(warehouse_path: Path | None = None) -> validate.ValidationRun:
    con = warehouse.connect(warehouse_path)
    try:
        warehouse.create(con)  # the check views and audit tables as sql/ defines them now
        run = validate.run_suites(con)
        validate.store(con, run)
        return run
    finally:
        con.close()


def compute_stage(warehouse_path: Path | None = None, year: int | None = None) -> list[int]:
    """The years a brief can be written for (marts are views: computing is reading them)."""
    con = warehouse.connect(warehouse_path, read_only=True)
    try:
        years = metrics.brief_years(con)
    finally:
        con.close()
    return [y for y in years if year is None or y == year]


def render_stage(year: int, lang: str, warehouse_path: Path | None = None,
                 out: Path | None = None, types: list[str] | None = None,
                 compare_to: int | None = None) -> render.Brief:
    con = warehouse.connect(warehouse_path)
    try:
        return render.render_brief(con, year, lang, out=out, types=types, compare_to=compare_to)
    finally:
        con.close()
