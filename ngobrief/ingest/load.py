"""The one way a snapshot gets into the warehouse: parse it (unless its frames are given, e.g. from the
parse cache) and write its raw and staging rows and its provenance in one transaction. Pull, the
pipeline, the flows and the tests all load through `load_snapshot`."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import warehouse
from . import layout, parse_snapshot, snapshot_source, snapshot_tables
from .read import Parsed


@dataclass
class Loaded:
    """What loading one snapshot did: rows written (0 when the same bytes were already loaded) and what
    the parse noticed."""

    rows: int
    notes: list[str] = field(default_factory=list)


def load_snapshot(con, snapshot, parsed: Parsed | None = None, *, sources: dict | None = None) -> Loaded:
    """Load `snapshot` (a pull.Snapshot) into its layout's raw and staging tables, all or nothing; with
    `sources`, raw.sources is replaced in the same transaction. Nothing is parsed or written when the
    warehouse already holds the same bytes."""
    if warehouse.loaded_sha256(con, snapshot.snapshot_id) == snapshot.sha256:
        return Loaded(0)
    lay = layout(snapshot.parser, snapshot.file)
    if parsed is None and hasattr(lay.module, "stage"):
        # read by DuckDB into the warehouse connection: no frames between the file and the tables
        staged = lay.module.stage(con, snapshot_source(snapshot))
        try:
            rows = warehouse.write_snapshot(con, snapshot, staged.raw, staged.typed, tables=lay.targets,
                                            clear=snapshot_tables(), encoding=staged.encoding, sources=sources,
                                            drift=staged.drift, derived=lay.derived_sql())
        finally:
            staged.close()
        return Loaded(rows, list(staged.notes))
    parsed = parsed if parsed is not None else parse_snapshot(snapshot)
    rows = warehouse.write_snapshot(con, snapshot, parsed.raw, parsed.typed, tables=lay.targets,
                                    clear=snapshot_tables(), encoding=parsed.encoding, sheet=parsed.sheet,
                                    sources=sources, drift=parsed.drift, derived=lay.derived_sql())
    return Loaded(rows, list(parsed.notes))
