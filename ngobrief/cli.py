"""The `ngobrief` command line. Exit codes: 0 ok, 1 validation blocked publishing, 2 bad input or
usage, 3 the warehouse is busy."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from . import config, metrics as metrics_mod, pipeline, pull as pull_mod, warehouse as wh
from .errors import NgobriefError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Figures on Chinese social organizations' international participation, checked and briefed.")
warehouse_app = typer.Typer(no_args_is_help=True, help="Look inside the DuckDB warehouse.")
app.add_typer(warehouse_app, name="warehouse")

WarehouseOpt = typer.Option(None, "--warehouse", "-w", help="Warehouse file (default $NGOBRIEF_WAREHOUSE or outputs/warehouse.duckdb).")


def _print_frame(df, fmt: str) -> None:
    if fmt == "csv":
        sys.stdout.write(df.write_csv())
    elif fmt == "json":
        sys.stdout.write(json.dumps(df.to_dicts(), ensure_ascii=False, default=str, indent=1) + "\n")
    else:
        import polars as pl

        with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=60, tbl_width_chars=200, tbl_hide_dataframe_shape=True):
            print(df)


@app.command()
def run(year: Optional[int] = typer.Option(None, help="Only this year's brief (default: every year with participation data)."),
        lang: list[str] = typer.Option(["en", "zh"], help="Brief language(s)."),
        wait: float = typer.Option(900, help="Seconds to wait while another run is writing the warehouse."),
        warehouse: Optional[Path] = WarehouseOpt):
    """The annual refresh (a Prefect flow): pull, load, validate, compute, render."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.annual_refresh import annual_refresh

    result = annual_refresh(year=year if year is not None else "every", langs=list(lang), warehouse=warehouse,
                            lock_timeout=wait)
    for p in result["briefs"]:
        typer.echo(f"brief: {p}")
    for y, why in result["blocked"].items():
        typer.echo(f"no brief for {y}: " + "; ".join(why), err=True)
    typer.echo(f"validation: {result['errors']} error(s), {result['warnings']} warning(s)")
    if result["validation_report"]:
        typer.echo(f"validation report: {result['validation_report']}")
    raise typer.Exit(1 if result["blocked"] else 0)


@app.command()
def pull(warehouse: Optional[Path] = WarehouseOpt):
    """Check the bundled snapshots against the manifest and load them into the warehouse."""
    snaps = pipeline.pull_stage()
    loaded = pipeline.load_stage(snaps, warehouse)
    for s in snaps:
        typer.echo(f"{s.snapshot_id:20} {s.sha256[:12]}  {s.bytes:>9} bytes  {loaded[s.snapshot_id]:>6} rows loaded")


@app.command()
def validate(warehouse: Optional[Path] = WarehouseOpt):
    """Run the expectation suites on the warehouse; exit 1 if any error-level check fails."""
    run_ = pipeline.validate_stage(warehouse)
    for f in run_.findings:
        mark = "ok  " if f.success else ("FAIL" if f.severity == "error" else "warn")
        typer.echo(f"{mark} {f.severity:7} {f.suite:22} {f.description}")
        if not f.success:
            typer.echo(f"     observed {f.observed_value}; rows {f.unexpected_rows}")
    typer.echo(f"run {run_.run_id}: {len(run_.errors)} error(s), {len(run_.warnings)} warning(s)")
    raise typer.Exit(1 if run_.errors else 0)


@app.command()
def metrics(year: Optional[int] = typer.Option(None), fmt: str = typer.Option("table", "--format", help="table, csv or json"),
            warehouse: Optional[Path] = WarehouseOpt):
    """Participation ratios from the marts."""
    con = wh.connect(warehouse, read_only=True)
    try:
        df = metrics_mod.participation(con, year)
    finally:
        con.close()
    _print_frame(df.select("year", "period", "as_of", "org_type", "engaged_international", "registered",
                           "participation_pct", "published_share_pct", "published_disagrees", "source_ids")
                 if fmt == "table" else df, fmt)


@app.command()
def brief(year: int = typer.Option(..., help="Edition year."),
          lang: str = typer.Option("en", help="en or zh"),
          types: Optional[str] = typer.Option(None, help="Comma-separated org types, e.g. social_association,foundation"),
          out: Optional[Path] = typer.Option(None, help="Write the PDF here instead of outputs/briefs/."),
          warehouse: Optional[Path] = WarehouseOpt):
    """Render one PDF brief from the warehouse (no Prefect, no network)."""
    b = pipeline.render_stage(year, lang, warehouse, out, types.split(",") if types else None)
    typer.echo(str(b.path))


@app.command()
def sources():
    """Every source document in the manifest, with its snapshot."""
    manifest = pull_mod.read_manifest()
    for sid, s in manifest.get("sources", {}).items():
        typer.echo(f"{sid:28} {s.get('kind',''):22} {s.get('published',''):11} {s.get('publisher','')}: {s.get('title','')[:70]}")
    for sid, s in manifest.get("snapshots", {}).items():
        typer.echo(f"snapshot {sid:19} data/{s['file']}  sha256 {s['sha256'][:12]}  parser {s['parser']}")


@warehouse_app.command("tables")
def warehouse_tables(warehouse: Optional[Path] = WarehouseOpt):
    """Every table and view with its row count and description."""
    con = wh.connect(warehouse, read_only=True)
    try:
        rows = con.sql("""
            SELECT schema_name AS schema, table_name AS name, 'table' AS kind, comment FROM duckdb_tables() WHERE NOT internal
            UNION ALL
            SELECT schema_name, view_name, 'view', comment FROM duckdb_views() WHERE NOT internal AND schema_name <> 'main'
            ORDER BY 1, 2""").fetchall()
        for schema, name, kind, comment in rows:
            n = con.sql(f'SELECT count(*) FROM "{schema}"."{name}"').fetchall()[0][0]
            typer.echo(f"{schema}.{name:28} {kind:5} {n:>7} rows  {comment or ''}")
    finally:
        con.close()


def main() -> None:
    try:
        app(standalone_mode=False)
    except NgobriefError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and aborts
        import click

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise


if __name__ == "__main__":
    main()
