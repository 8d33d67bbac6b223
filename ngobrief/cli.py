"""The `ngobrief` command line. Exit codes: 0 ok, 1 validation blocked publishing, 2 bad input or
usage, 3 the warehouse is busy."""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Optional

import duckdb
import typer

from . import config, ingest, lock, metrics as metrics_mod, pipeline, pull as pull_mod, warehouse as wh
from .errors import NgobriefError, os_error_message

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


# Errors whose message says all a user needs (a full disk, a busy warehouse, a bad snapshot): the
# command ends with that message on one line, so the logs of the failed flow need no traceback either.
USER_ERRORS = (NgobriefError, OSError, duckdb.IOException, duckdb.TransactionException, duckdb.FatalException)


class _NoTraceForUserErrors(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], USER_ERRORS):
            record.exc_info, record.exc_text = None, None
        return True


def _quiet_traces_of_user_errors() -> None:
    """Drop the traceback from the log records of a task or flow run that failed with a user error
    (the record's one-line message stays): on every handler Prefect has set up."""
    quiet = _NoTraceForUserErrors()
    loggers = [logging.getLogger()] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                                        if name.startswith("prefect")]
    for handler in {h for lg in loggers for h in lg.handlers}:
        if not any(isinstance(f, _NoTraceForUserErrors) for f in handler.filters):
            handler.addFilter(quiet)


def _flow(name: str):
    """A flow of flows/ (or flows/server.py, which picks the Prefect server) by its name, through the
    `ngobrief.flows` entry points (pyproject.toml): the library starts flows without importing
    flows/, which imports the library."""
    from importlib.metadata import entry_points

    found = entry_points(group="ngobrief.flows", name=name)
    if not found:
        raise NgobriefError(f"no flow {name!r} is installed: run `make install` to register the flows")
    return next(iter(found)).load()


@app.command()
def run(year: Optional[int] = typer.Option(None, help="Only this year's brief (default: every year with participation data)."),
        lang: list[str] = typer.Option(["en", "zh"], help="Brief language(s)."),
        wait: float = typer.Option(900, help="Seconds to wait while another run is writing the warehouse."),
        warehouse: Optional[Path] = WarehouseOpt,
        plan: bool = typer.Option(False, "--plan", help="Only say what the run would do (snapshots, suites, briefs); write nothing.")):
    """The annual refresh (a Prefect flow): pull, build a new edition, audit, publish, render."""
    if plan:
        from . import plan as plan_mod

        typer.echo("\n".join(plan_mod.plan_lines(plan_mod.make_plan(year if year is not None else "every", list(lang),
                                                                    warehouse))))
        return
    # A read-only or full output folder, or a warehouse another run is writing, is one clear line
    # before Prefect starts, not a failed flow run. The lock is held for the whole flow (which takes
    # it again, re-entrantly), so nothing can write between this check and the flow's first stage.
    pipeline.check_writable(*pipeline.output_folders(warehouse))
    with lock.warehouse_lock(warehouse, wait=wait, on_wait=lambda who: typer.echo(
            f"waiting up to {wait:g} s for the warehouse: {who} is writing it", err=True)):
        os.environ.setdefault("DO_NOT_TRACK", "1")
        os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
        # A running server (PREFECT_API_URL, or `make server`'s) is used; else a temporary one
        # starts now and comes up while this process imports Prefect and the flows.
        prefect_server = _flow("prefect-server")
        server = prefect_server.choose()
        annual_refresh = _flow("annual-refresh")
        if server.process:
            prefect_server.wait_until_up(server)
        typer.echo(server.note)
        _quiet_traces_of_user_errors()
        result = annual_refresh(year=year if year is not None else "every", langs=list(lang), warehouse=warehouse,
                                lock_timeout=wait)
    if not result["published"]:
        typer.echo("nothing published: validation found error(s): " + "; ".join(result["findings"]), err=True)
        typer.echo(f"the build is kept for inspection: ngobrief warehouse tables --warehouse {result['failed_build']}",
                   err=True)
    else:
        typer.echo(f"edition {result['edition_number']} ({result['edition']}): "
                   + ("published" if result["new_edition"] else "inputs unchanged, no new edition"))
    for p in result["briefs"]:
        typer.echo(f"brief: {p}")
    for y, why in result["blocked"].items():
        typer.echo(f"no brief for {y}: " + "; ".join(why), err=True)
    typer.echo(f"validation: {result['errors']} error(s), {result['warnings']} warning(s)")
    if result["validation_report"]:
        typer.echo(f"validation report: {result['validation_report']}")
    raise typer.Exit(1 if result["blocked"] or not result["published"] else 0)


@app.command()
def pull(source_id: Optional[str] = typer.Argument(None, help="Snapshot or source id; a new id adds a source (with --file or --url). Omit to load every snapshot in the manifest."),
         file: Optional[Path] = typer.Option(None, "--file", help="Pull this local file (CSV, TSV or XLSX)."),
         url: Optional[str] = typer.Option(None, "--url", help="Pull this http(s) URL."),
         publisher: Optional[str] = typer.Option(None, help="Publisher of a new source."),
         title: Optional[str] = typer.Option(None, help="Title of a new source."),
         kind: Optional[str] = typer.Option(None, help="Kind of a new source (sets its priority): primary, 'primary (reprint)', ..., secondary (default)."),
         published: Optional[str] = typer.Option(None, help="Publication date of a new source (YYYY-MM-DD or YYYY)."),
         parser: Optional[str] = typer.Option(None, help=ingest.parser_help()),
         sheet: Optional[str] = typer.Option(None, help="XLSX sheet to read (default: the first)."),
         encoding: Optional[str] = typer.Option(None, help="Text encoding, e.g. gb18030 (default: detected)."),
         measure: Optional[str] = typer.Option(None, help="Wide tables: the measure of the figures (default registered)."),
         period: Optional[str] = typer.Option(None, help="Wide tables: year_end (default), Q1..Q4 or as_of."),
         refresh: bool = typer.Option(False, "--refresh", help="Fetch again from the URL the snapshot was pulled from."),
         timeout: float = typer.Option(10.0, help="Seconds to wait for the server."),
         retries: int = typer.Option(2, help="Retries after a network error or a 5xx/429 answer."),
         warehouse: Optional[Path] = WarehouseOpt):
    """Fetch a source, keep its bytes as a sha256-named snapshot, record provenance, and load it into a
    build copy (staged): the next `ngobrief run` audits it and publishes a new edition."""
    from . import editions

    if source_id is None and (file or url or refresh):
        raise typer.BadParameter("give a SOURCE_ID to pull a file or URL under")
    pipeline.check_writable(*pipeline.output_folders(warehouse, briefs=False, validation=False))
    with lock.warehouse_lock(warehouse):   # a run publishing now would remove the staged copy
        staged = editions.stage_copy(warehouse)
        if source_id is None:
            results = pull_mod.load_bundled(staged)
        else:
            results = [pull_mod.pull_source(
                source_id, file=file, url=url, publisher=publisher, title=title, kind=kind, published=published,
                parser=parser, encoding=encoding, sheet=sheet, measure=measure, period=period, refresh=refresh,
                timeout=timeout, retries=retries, warehouse_path=staged)]
    manifest = pull_mod.read_manifest()
    for r in results:
        typer.echo(f"{r.snapshot_id:20} {r.status:12} {r.sha256[:12]}  {r.bytes:>9} bytes  {r.parser:10} "
                   f"{r.rows_loaded:>6} rows loaded  data/{r.file}")
        for note in r.notes:
            typer.echo(f"    {note}")
        if r.parser == "ricf_tsv":
            src = manifest.get("sources", {}).get(r.source_id or "", {})
            licence = manifest.get("snapshots", {}).get(r.snapshot_id, {}).get("licence")
            typer.echo(f"    register figures: cite {src.get('publisher', '')}, {src.get('title', '')}"
                       + (f" (licence: {licence})" if licence else ""))
    typer.echo(f"staged in {staged} (not published): the next `ngobrief run` audits it and publishes a new "
               "edition; `ngobrief withdraw SNAPSHOT` takes a snapshot back")


@app.command()
def validate(warehouse: Optional[Path] = WarehouseOpt,
             again: bool = typer.Option(False, "--again", help="Run the suites even when nothing they depend on has changed since the stored run.")):
    """Audit the published edition read-only (or a build copy: --warehouse BUILD); exit 1 if any
    error-level check fails. Writes the HTML report; never writes the warehouse or makes an edition."""
    from . import publishing, validate as validate_mod

    run_ = publishing.audit_published(warehouse, reuse=not again)
    for line in validate_mod.summary_lines(run_):
        typer.echo(line)
    typer.echo(f"\nreport: {run_.report_path}")
    typer.echo(run_.inputs_note)
    typer.echo(f"run {run_.run_id}: {len(run_.errors)} error(s), {len(run_.warnings)} warning(s); "
               f"{validate_mod.verdict(run_)}")
    raise typer.Exit(1 if run_.errors else 0)


# What `ngobrief metrics --metric NAME` prints: the reader, and the columns of the table view
# (csv and json print every column).
METRICS = {
    "participation": (lambda con, year, start: metrics_mod.participation(con, year),
                      ["year", "period", "as_of", "org_type", "definition_id", "engaged_international", "registered",
                       "participation_pct", "published_share_pct", "published_disagrees", "source_ids"]),
    "trends": (lambda con, year, start: metrics_mod.registered_trends(con, year),
               ["period", "org_type", "year", "registered", "prev_year", "prev_registered", "change_abs",
                "change_pct", "cagr_pct", "share_of_total_pct", "sources_differ", "source_ids"]),
    "participation-trends": (lambda con, year, start: metrics_mod.participation_trends(con, year),
                             ["definition_id", "org_type", "period", "year", "prev_year", "engaged_international",
                              "prev_engaged_international", "engaged_cagr_pct", "participation_pct",
                              "prev_participation_pct", "participation_change_pct_points", "source_ids"]),
    "cagr": (lambda con, year, start: metrics_mod.registered_cagr(con, start, year),
             ["period", "org_type", "start_year", "end_year", "start_registered", "end_registered",
              "years_between", "observations_between", "change_pct", "cagr_pct", "source_ids"]),
    "foundations": (lambda con, year, start: metrics_mod.foundation_international(con, year),
                    ["year", "period", "as_of", "org_type", "engaged_international", "registered", "participation_pct",
                     "published_share_pct", "published_disagrees", "foundations_with_overseas_projects",
                     "overseas_projects", "overseas_project_countries", "source_ids"]),
    "definitions": (lambda con, year, start: metrics_mod.engagement_definitions(con),
                    ["definition_id", "term", "counted_by", "description"]),
    "register": (lambda con, year, start: metrics_mod.register(con, year),
                 ["record_year", "measure", "province", "value", "recorded", "foundations", "coverage_pct",
                  "pct_of_foundations", "source_id"]),
}


@app.command()
def metrics(year: Optional[int] = typer.Option(None, help="Only rows for this year (for cagr: ending in it)."),
            fmt: str = typer.Option("table", "--format", help="table, csv or json"),
            metric: str = typer.Option("participation", help="participation, trends (registered), "
                                       "participation-trends, cagr (registered, any two years), foundations, definitions, "
                                       "register (the RICF register by record year, with coverage)"),
            from_year: Optional[int] = typer.Option(None, "--from-year", help="cagr only: growth starting in this year."),
            warehouse: Optional[Path] = WarehouseOpt):
    """Metrics from the marts: participation ratios, trends, growth rates, foundations' international activity."""
    # usage errors end with exit 2 and one line, the same way whichever entry point runs the app
    problem = (f"--metric {metric!r} is not a metric; choose one of {', '.join(METRICS)}" if metric not in METRICS
               else f"--format {fmt!r} is not a format; choose table, csv or json" if fmt not in ("table", "csv", "json")
               else "--from-year goes only with --metric cagr" if from_year is not None and metric != "cagr"
               else None)
    if problem:
        typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(2)
    read, table_columns = METRICS[metric]
    con = wh.connect(warehouse, read_only=True)
    try:
        df = read(con, year, from_year)
    finally:
        con.close()
    if fmt == "table":
        import polars as pl

        if df.height == 0:
            typer.echo(f"no {metric} rows" + (f" for {year}" if year is not None else "")
                       + (f" from {from_year}" if from_year is not None else ""), err=True)
        with pl.Config(float_precision=4):
            _print_frame(metrics_mod.for_display(df.select(table_columns)), fmt)
    else:
        _print_frame(metrics_mod.flat_lists(df) if fmt == "csv" else df, fmt)


@app.command()
def brief(year: int = typer.Option(..., help="Edition year."),
          lang: str = typer.Option("en", help="en or zh"),
          types: Optional[str] = typer.Option(None, help="Comma-separated org types, e.g. social_association,foundation"),
          compare_to: Optional[int] = typer.Option(None, "--compare-to", help="Earlier year for the key figures' change (default: the previous observation)."),
          out: Optional[Path] = typer.Option(None, help="Write the PDF here instead of outputs/briefs/."),
          warehouse: Optional[Path] = WarehouseOpt):
    """Render one PDF brief from the warehouse (no Prefect, no network)."""
    pipeline.check_writable(*pipeline.output_folders(warehouse, briefs=out is None, validation=False))
    pipeline.check_publishable(year, warehouse)
    from . import pdf_worker

    b = pipeline.render_stage(year, lang, warehouse, out, [t.strip() for t in types.split(",") if t.strip()] if types else None,
                              compare_to, worker=pdf_worker.take())
    typer.echo(f"{b.path}  {b.pages} pages  sha256 {b.pdf_sha256[:12]}")


@app.command()
def sources(fmt: str = typer.Option("table", "--format", help="table or json"),
            warehouse: Optional[Path] = WarehouseOpt):
    """Every source document (by priority), its age and whether its series is overdue, and every
    snapshot, with its provenance and last load."""
    import datetime as dt

    from . import freshness

    listing = freshness.annotate(pull_mod.list_sources(warehouse), dt.date.today())
    if fmt == "json":
        sys.stdout.write(json.dumps(listing, ensure_ascii=False, default=str, indent=1) + "\n")
        return
    typer.echo("SOURCES (rank 1 is preferred when several print one figure)")
    for s in listing["sources"]:
        held = "" if s["warehouse_rows"] is None else f"{s['warehouse_rows']:>4} rows"
        typer.echo(f"{s['priority_rank'] or '':>3}  {s['source_id']:28} {s['kind'] or '':30} {s['published'] or '':11} "
                   f"{held:9} {s['publisher'] or ''}: {(s['title'] or '')[:70]}")
        if s["url"]:
            typer.echo(f"{'':5}{s['url']}")
        typer.echo(f"{'':5}age {s['age_days'] if s['age_days'] is not None else '?'} days; "
                   + (f"series {s['series']}: {'OVERDUE' if s['overdue'] else 'on time'}" if s["series"]
                      else "one-off (no series)"))
    typer.echo("\nSERIES (cadence; next release expected; overdue after its grace days)")
    for r in listing["series"]:
        typer.echo(f"{r['series']:28} {r['cadence']:9} latest {r['latest_release']} ({r['age_days']} days old); "
                   f"next expected {r['next_expected']}"
                   + (f"; OVERDUE by {r['days_overdue']} days" if r["overdue"] else "; on time"))
    typer.echo("\nSNAPSHOTS")
    for s in listing["snapshots"]:
        loaded = (f"loaded {s['loaded_at']} ({s['rows_loaded']} rows)" if s["loaded_at"]
                  else "not loaded in this warehouse" if s["loaded_at"] is None and listing["warehouse"] else "")
        typer.echo(f"{s['snapshot_id']:20} data/{s['file']}  sha256 {s['sha256'][:12]}  {s['bytes'] or '':>8} bytes  "
                   f"parser {s['parser']}")
        typer.echo(f"{'':20} origin {s['origin']}; fetched {s['fetched_at'] or 'not recorded'}; {loaded}")
        if s.get("licence"):
            typer.echo(f"{'':20} licence: {s['licence']}")


@app.command()
def status(fmt: str = typer.Option("table", "--format", help="table or json"),
           today: Optional[str] = typer.Option(None, help="Judge freshness as of this date (YYYY-MM-DD; default today)."),
           api_url: Optional[str] = typer.Option(None, "--api-url", envvar="PREFECT_API_URL",
                                                 help="Prefect API to ask (default $PREFECT_API_URL; without one, prefect.yaml's cron)."),
           warehouse: Optional[Path] = WarehouseOpt):
    """Is the annual schedule healthy? Exit 0 if so; else the sum of 4 (last run failed), 8 (a source
    is overdue), 16 (the published edition is older than the schedule allows)."""
    import datetime as dt

    from . import status as status_mod

    s = status_mod.status(today=dt.date.fromisoformat(today) if today else None, warehouse_path=warehouse,
                          api_url=api_url)
    if fmt == "json":
        typer.echo(json.dumps(s, ensure_ascii=False, default=str, indent=1))
    else:
        typer.echo("\n".join(status_mod.table_lines(s)))
    raise typer.Exit(s["exit_code"])


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


from . import cli_editions  # noqa: E402

cli_editions.register(app, WarehouseOpt)   # editions, publish, diff, withdraw


def main() -> None:
    try:
        # without standalone mode, typer.Exit(n) comes back as the return value, not as an exception
        code = app(standalone_mode=False)
    except NgobriefError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except OSError as exc:  # a folder that turned read-only or full during a command
        typer.echo(f"error: {os_error_message(exc)}", err=True)
        sys.exit(2)
    except USER_ERRORS[2:] as exc:
        # DuckDB could not write the warehouse file (a full disk fails the commit: nothing of it is kept)
        typer.echo(f"error: the warehouse could not be written: {' '.join(str(exc).split())}", err=True)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors and aborts
        import click

        usage, aborts = [click.exceptions.ClickException], [click.exceptions.Abort, typer.Abort]
        try:  # typer 0.2x ships its own copy of click, with its own exception classes
            from typer._click import exceptions as typer_click

            usage.append(typer_click.ClickException)
        except ImportError:
            pass
        if isinstance(exc, tuple(usage)):
            exc.show()
            sys.exit(2)
        if isinstance(exc, tuple(aborts)):
            sys.exit(130)
        raise
    if isinstance(code, int) and code:
        sys.exit(code)


if __name__ == "__main__":
    main()
