"""One edition of the brief as every section sees it: the warehouse, the year, language and types,
the reader's formatter, the citation numbers, and the participation rows the edition is built on."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import polars as pl

from .. import metrics
from .figures import data_loaded_at, types_for, with_half_units
from .format import Citations, Formatter, RenderError, content


@dataclass
class Edition:
    con: object
    year: int
    lang: str
    types: list[str]
    compare_to: int | None
    text: dict
    fmt: Formatter
    cite: Citations
    rows: list[dict]                 # participation rows of the year with a ratio, with printed precision
    loaded_at: dt.datetime
    known_sources: dict = field(default_factory=dict)

    @property
    def label(self) -> dict:
        return self.text["org_types"]

    def note(self, *source_ids) -> str:
        """The short source notes of a key figure (publisher, title [n]), numbered as cited."""
        from .sources import short_source

        ids = [i for i in dict.fromkeys(source_ids) if i]
        return self.text["value_sep"].join(short_source(self.known_sources.get(i), self.cite(i)[0], self.text) for i in ids)


def open_edition(con, year: int, lang: str, types: list[str] | None = None,
                 compare_to: int | None = None) -> Edition:
    """Check that the warehouse can brief `year` for these types and gather what every section needs."""
    text = content(lang)
    if not metrics.has_figures(con):
        raise RenderError("the warehouse holds no figures yet: run `ngobrief run` (or `ngobrief pull`) first")
    types = types_for(types)
    if compare_to is not None and compare_to >= year:
        raise RenderError(f"--compare-to {compare_to} must be earlier than the edition year {year}")
    part = metrics.participation(con, year, types)
    if part.filter(pl.col("participation_pct").is_not_null()).height == 0:
        every = metrics.participation(con, None, types).filter(pl.col("participation_pct").is_not_null())
        years = ", ".join(str(y) for y in sorted(set(every["year"]))) or "none"
        raise RenderError(f"no participation figures for {year} and types {', '.join(types)}: the warehouse "
                          f"holds both counts for these types only in: {years}")
    rows = with_half_units(con, part.filter(pl.col("participation_pct").is_not_null()).to_dicts())
    known = {s["source_id"]: s for s in metrics.sources_used(con, metrics.known_sources(con)).to_dicts()}
    return Edition(con, year, lang, types, compare_to, text, Formatter(text["locale"], text.get("wan_unit")),
                   Citations(), rows, data_loaded_at(con), known)
