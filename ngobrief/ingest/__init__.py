"""Ingest: read a source file in one of the layouts under `layouts/` into raw and typed frames.

The layouts are found here, once: every module in `layouts/` declares its NAME, DESCRIPTION, TARGETS
(raw and staging tables), DETECT_ORDER, `detect(table)` and `parse(source)`. The warehouse's targets,
the CLI's --parser help, the personal-field screen, detection, dispatch and the pending-snapshot check
all read this registry (`registry()`): adding a layout is adding a module (docs/sources.md)."""

from __future__ import annotations

import functools
import hashlib
import importlib
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from ..errors import InputError
from .read import Parsed, Source, Table

__all__ = ["Layout", "Parsed", "Source", "Table", "detect", "registry", "layout", "parse_source",
           "parse_snapshot", "parser_version", "snapshot_tables"]

_HERE = Path(__file__).resolve().parent
# The code every layout's parse runs besides its own module: a change here parses every snapshot again.
SHARED_READER = ("read.py", "checks.py", "published.py", "coerce.py", "coercions.toml", "contract.py")


@dataclass(frozen=True)
class Layout:
    """One layout, as its module declares it."""

    name: str
    description: str
    targets: tuple[str, str]              # (raw table, staging table)
    module: ModuleType
    detect_order: int | None = None       # None: never told from a header, only named
    screen_header_rows: int = 0           # header rows searched for personal columns (0: not screened)
    personal: tuple[str, ...] = ()        # the layout's own names for personal columns
    cites_per_row: bool = False           # every row names its source document
    needs_source_id: bool = False         # rows name none: the snapshot must
    derived: tuple[str, ...] = ()         # sql/ files computing tables from the rows, run in the load

    def detect(self, table: Table) -> bool:
        return self.module.detect(table)

    def parse(self, source: Source) -> Parsed:
        return self.module.parse(source)

    def code_files(self) -> list[Path]:
        """The files a parse in this layout depends on: the shared reader, the layout's module and its
        contract."""
        contract = getattr(self.module, "CONTRACT", None)
        return [*(_HERE / f for f in SHARED_READER), Path(self.module.__file__), *([contract] if contract else [])]

    def derived_sql(self) -> tuple[Path, ...]:
        from .. import config

        return tuple(config.SQL_DIR / f for f in self.derived)


def _layout(module: ModuleType) -> Layout:
    m = module
    return Layout(m.NAME, m.DESCRIPTION, tuple(m.TARGETS), m, getattr(m, "DETECT_ORDER", None),
                  getattr(m, "SCREEN_HEADER_ROWS", 0), tuple(getattr(m, "PERSONAL", ())),
                  getattr(m, "CITES_PER_ROW", False), getattr(m, "NEEDS_SOURCE_ID", False),
                  tuple(getattr(m, "DERIVED", ())))


@functools.cache
def registry() -> dict[str, Layout]:
    """Every layout, by name: those told from a header first, in the order they are tried."""
    found = [_layout(importlib.import_module(f"{__name__}.layouts.{info.name}"))
             for info in pkgutil.iter_modules([str(_HERE / "layouts")]) if not info.name.startswith("_")]
    found.sort(key=lambda lay: (lay.detect_order is None, lay.detect_order or 0, lay.name))
    return {lay.name: lay for lay in found}


def layout(name: str, file: str = "input") -> Layout:
    """The layout called `name`; an unknown name is refused naming the ones there are."""
    if name not in registry():
        raise InputError(file, f"unknown parser {name!r}", hint=f"one of {', '.join(registry())}")
    return registry()[name]


def parser_help() -> str:
    """The layouts a user may name (--parser), and which are told from a header."""
    named = [n for n, lay in registry().items() if lay.detect_order is None]
    return (f"{', '.join(registry())} (default: told from the header"
            + (f"; {', '.join(named)} must be named" if named else "") + ").")


def snapshot_tables() -> list[str]:
    """Every raw and staging table a snapshot can fill."""
    return sorted({t for lay in registry().values() for t in lay.targets})


def detect(table: Table) -> str:
    """The layout a table is in, from its header."""
    for lay in registry().values():
        if lay.detect_order is not None and lay.detect(table):
            return lay.name
    raise InputError(table.name, "cannot tell which layout this is", row=table.rows[0][0],
                     hint="expected the long layout (year, period, as_of, measure, org_type, value, ...), "
                          "a wide table with a 年份/year column, or the RICF register; or give --parser")


def parse_source(data: Path | bytes, *, parser: str | None = None, name: str | None = None,
                 encoding: str | None = None, sheet: str | None = None, source_id: str | None = None,
                 measure: str | None = None, period: str | None = None, unit: str | None = None,
                 overrides: dict | None = None) -> tuple[str, Parsed]:
    """Read any supported file and parse it with `parser` (default: detected), its contract extended by
    the source's `overrides` (source_overrides). Returns (parser, Parsed)."""
    name = name or (str(data) if isinstance(data, Path) else "<data>")
    lay = layout(parser, name) if parser is not None else None
    source = Source(data, name, encoding, sheet, source_id,
                    {k: v for k, v in (("measure", measure), ("period", period), ("unit", unit)) if v is not None},
                    overrides)
    lay = lay or registry()[detect(source.table())]
    return lay.name, lay.parse(source)


def parse_snapshot(snapshot) -> Parsed:
    """A snapshot from the manifest, read with the options its entry records."""
    source = snapshot_source(snapshot)
    lay = layout(snapshot.parser, source.name) if snapshot.parser is not None else registry()[detect(source.table())]
    return lay.parse(source)


def snapshot_source(snapshot) -> Source:
    """A snapshot from the manifest as the Source parse_snapshot reads (for a layout that loads
    straight into the warehouse: `stage` in its module)."""
    o = snapshot.options
    return Source(snapshot.path, f"data/{snapshot.file}", o.get("encoding"), o.get("sheet"), snapshot.source_id,
                  {k: o[k] for k in ("measure", "period", "unit") if o.get(k) is not None},
                  source_overrides(snapshot.source_id))


def source_overrides(source_id: str | None, manifest: dict | None = None) -> dict | None:
    """What a source adds to its layout's contract: [sources.ID.contract] in data/sources.toml
    (`aliases = {column = [header, ...]}`, `optional = [column, ...]`)."""
    if source_id is None:
        return None
    if manifest is None:
        import tomllib

        from .. import config

        try:
            with open(config.MANIFEST, "rb") as fh:
                manifest = tomllib.load(fh)
        except (OSError, tomllib.TOMLDecodeError):
            return None
    return manifest.get("sources", {}).get(source_id, {}).get("contract") or None


def parser_version(parser: str, source_id: str | None = None) -> str:
    """sha256 of what a parse in layout `parser` depends on (Layout.code_files: the shared reader, the
    layout's module and contract) and of the source's own aliases: a fix to one layout, or to one
    source's aliases, parses only those snapshots again."""
    import json

    h = hashlib.sha256()
    for f in layout(parser).code_files():
        h.update(f.name.encode("utf-8") + b"\0" + f.read_bytes() + b"\0")
    h.update(json.dumps(source_overrides(source_id), sort_keys=True, default=str).encode("utf-8"))
    return h.hexdigest()
