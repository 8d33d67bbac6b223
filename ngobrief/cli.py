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
        warehouse: Optional[Path] = WarehouseOpt):
    """The annual refresh (a Prefect flow): pull, load, validate, compute, render."""
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows.annual_refresh import annual_refresh

    result = annual_refresh(year=year, langs=tuple(lang), warehouse=warehouse)
    for p in result["briefs"]:
        typer.echo(f"brief: {p}")
    for y, why in result["blocked"].items():
        typer.echo(f"no brief for {y}: " + "; ".join(why), err=True)
    typer.echo(f"validation: {result['errors']} error(s), {result['warnings']} warning(s)")
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


FormatOpt = typer.Option("table", "--format", "-f", help="table, csv, json or markdown")


@warehouse_app.command("tables")
def warehouse_tables(fmt: str = FormatOpt, warehouse: Optional[Path] = WarehouseOpt):
    """Every table and view: schema, name, kind, row count and description."""
    from . import inspect as insp

    con = wh.connect_for_reading(warehouse)
    try:
        typer.echo(insp.format_frame(insp.catalog(con), fmt), nl=False)
        if fmt == "table":
            version = wh.storage_version(con) or "unknown"
            typer.echo(f"storage format {version}: DuckDB {version.strip('v+')} or later opens this file")
    finally:
        con.close()


@warehouse_app.command("describe")
def warehouse_describe(table: str = typer.Argument(..., help="schema.name, or a name only one schema has"),
                       fmt: str = FormatOpt, warehouse: Optional[Path] = WarehouseOpt):
    """One table or view: description, key, defining file, and its columns with types and comments."""
    from . import inspect as insp

    con = wh.connect_for_reading(warehouse)
    try:
        d = insp.describe(con, table)
    finally:
        con.close()
    if fmt == "json":
        typer.echo(json.dumps({**d, "columns": d["columns"].to_dicts()}, ensure_ascii=False, indent=1))
        return
    if fmt == "table":
        typer.echo(f"{d['name']}  ({d['kind']}, {d['rows']} rows)")
        typer.echo(f"  {d['description']}")
        typer.echo(f"  key: {'; '.join(d['keys']) if d['keys'] else 'none declared (see docs/warehouse.md for its grain)'}")
        if d["defined_in"]:
            typer.echo(f"  defined in {d['defined_in']}")
        typer.echo("")
    typer.echo(insp.format_frame(d["columns"], fmt, noun="column"), nl=False)


@warehouse_app.command("sql")
def warehouse_sql(query: str = typer.Argument(..., help="SQL to run; the warehouse is opened read-only"),
                  fmt: str = FormatOpt, warehouse: Optional[Path] = WarehouseOpt):
    """Run a query on a read-only connection: writes, file access and ATTACH are refused (exit 2)."""
    from . import inspect as insp

    if fmt not in insp.FORMATS:
        raise insp.QueryError(f"unknown format {fmt!r}: use one of {', '.join(insp.FORMATS)}")
    con = wh.connect_for_reading(warehouse)
    try:
        df = insp.run_query(con, query)
    finally:
        con.close()
    typer.echo(insp.format_frame(df, fmt), nl=False)


@warehouse_app.command("export")
def warehouse_export(table_or_query: str = typer.Argument(..., help="schema.name of a table or view, or a SELECT query"),
                     to: Path = typer.Option(..., "--to", help="FILE.parquet, FILE.csv or FILE.xlsx"),
                     warehouse: Optional[Path] = WarehouseOpt):
    """Write a table, view or query result to Parquet, CSV or Excel. In CSV and Excel, text that a
    spreadsheet would run as a formula (starting with =, +, -, @) stays text."""
    from . import inspect as insp

    con = wh.connect_for_reading(warehouse)
    try:
        df, label = insp.read_target(con, table_or_query)
    finally:
        con.close()
    path = insp.export(df, to, sheet=label)
    typer.echo(f"{path}: {df.height} row{'s' if df.height != 1 else ''}, {df.width} columns from {label}")


@warehouse_app.command("lineage")
def warehouse_lineage(year: int = typer.Option(..., help="Year of the figure."),
                      org_type: str = typer.Option(..., "--org-type", help="all, social_association, private_non_enterprise, foundation, foundation_*"),
                      measure: str = typer.Option("participation_ratio", help="participation_ratio, participation_pct, or a published measure: registered, engaged_international, published_share_pct, ..."),
                      period: Optional[str] = typer.Option(None, help="year_end, Q3, Q4 or as_of (default: every period, listed apart)"),
                      as_of: Optional[str] = typer.Option(None, "--as-of", help="Date of the figure, YYYY-MM-DD."),
                      fmt: str = typer.Option("text", "--format", "-f", help="text or json"),
                      warehouse: Optional[Path] = WarehouseOpt):
    """Where a figure comes from: the staging and raw rows, the snapshot file (sha256) and the source
    document, for the chosen source and every other source that printed the figure."""
    import datetime as dt

    from . import inspect as insp

    if fmt not in ("text", "json"):
        raise insp.QueryError(f"unknown format {fmt!r}: use text or json")
    if as_of is not None:
        try:
            dt.date.fromisoformat(as_of)
        except ValueError:
            raise insp.QueryError(f"--as-of {as_of!r} is not a date like 2012-12-31") from None
    con = wh.connect_for_reading(warehouse)
    try:
        items = insp.lineage(con, year, org_type, measure, period=period, as_of=as_of)
    finally:
        con.close()
    if fmt == "json":
        typer.echo(json.dumps(items, ensure_ascii=False, default=str, indent=1))
    else:
        typer.echo(insp.format_lineage(items), nl=False)


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
