"""The command line of warehouse editions: `ngobrief editions`, `publish`, `diff` and `withdraw`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from . import diff as diff_mod, editions, publishing


def register(app: typer.Typer, WarehouseOpt) -> None:  # noqa: N803  (the CLI's own option object)
    """Add the commands to the CLI's app (called by ngobrief.cli, which passes its --warehouse option)."""

    @app.command("editions")
    def editions_cmd(fmt: str = typer.Option("table", "--format", "-f", help="table or json"),
                     warehouse: Optional[Path] = WarehouseOpt):
        """The kept warehouse editions, oldest first: number, id, which is published, validation, briefs."""
        rows = editions.listing(warehouse)
        if fmt == "json":
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1, default=str) + "\n")
            return
        if fmt != "table":
            raise editions.EditionError(f"unknown format {fmt!r}: use table or json")
        if not rows:
            typer.echo("no editions yet: `ngobrief run` builds and publishes the first")
            return
        typer.echo(f"{'':2}{'#':>3}  {'edition':16}  {'built (UTC)':19}  {'flow run':36}  snaps  err  warn  briefs")
        for r in rows:
            typer.echo(f"{'*' if r['published'] else ' ':2}{r['number']:>3}  {r['id']:16}  {(r['built_at'] or '')[:19]:19}  "
                       f"{r['flow_run_id'] or '-':36}  {r['snapshots']:>5}  {'-' if r['errors'] is None else r['errors']:>3}  "
                       f"{'-' if r['warnings'] is None else r['warnings']:>4}  {len(r['briefs']):>6}"
                       + (f"  ({r['note']})" if r.get("note") else ""))
        typer.echo(f"* published: {editions.published_path(warehouse)}; kept under {editions.home(warehouse)}")

    @app.command("publish")
    def publish_cmd(edition: str = typer.Argument(..., help="Edition number or id (or a unique start of the id)."),
                    warehouse: Optional[Path] = WarehouseOpt):
        """Publish a kept edition again (rollback), by the same atomic rename as a run."""
        e = editions.rollback(edition, warehouse)
        typer.echo(f"edition {e['number']} ({e['id']}) is published: {editions.published_path(warehouse)}")

    @app.command("diff")
    def diff_cmd(old: Optional[str] = typer.Argument(None, help="Older edition (default: the one before NEW)."),
                 new: Optional[str] = typer.Argument(None, help="Newer edition (default: the published one)."),
                 fmt: str = typer.Option("table", "--format", "-f", help="table, markdown or json"),
                 warehouse: Optional[Path] = WarehouseOpt):
        """What changed between two editions: figures added, revised (old → new, both sources) and removed,
        validation findings new and resolved, snapshots changed, and code changes in sql/, expectations/, templates/."""
        if fmt not in diff_mod.FORMATS:
            raise editions.EditionError(f"unknown format {fmt!r}: use table, markdown or json")
        typer.echo(diff_mod.render(diff_mod.diff_editions(old, new, warehouse), fmt), nl=False)

    @app.command("withdraw")
    def withdraw_cmd(snapshot: str = typer.Argument(..., help="Snapshot id (or a source id one snapshot holds)."),
                     warehouse: Optional[Path] = WarehouseOpt):
        """Take a pulled snapshot back out of the manifest (one that failed its audit), so the next run publishes."""
        typer.echo(publishing.withdraw(snapshot, warehouse))
