"""The CANGO survey's sector priorities: rank order, support band and any published percentage."""

from __future__ import annotations

import polars as pl

from ..checks import blank_to_null, exact_columns, first_bad
from ..read import Parsed, Source, Table, norm_header

NAME = "survey_csv"
DESCRIPTION = "the CANGO survey's sector priorities"
TARGETS = ("raw.survey_priorities", "staging.survey_priorities")
DETECT_ORDER = 20
CITES_PER_ROW = True

SURVEY_COLUMNS = ("rank", "sector_en", "sector_zh", "support_band", "support_pct", "source_id", "note")


def detect(table: Table) -> bool:
    first = [norm_header(c) for c in table.rows[0][1]]
    return sum(c in first for c in SURVEY_COLUMNS) * 2 > len(SURVEY_COLUMNS)


def parse(source: Source) -> Parsed:
    """The survey's sector priorities: rank order, support band and any published percentage."""
    table = source.table()
    name = table.name
    raw, df = exact_columns(table, SURVEY_COLUMNS, "priorities")
    rank = pl.col("rank").cast(pl.Int32, strict=False)
    first_bad(df, name, "rank", rank.is_not_null(), "a rank must be a whole number")
    first_bad(df, name, "rank", rank >= 1, "a rank starts at 1")
    pct = pl.col("support_pct").cast(pl.Float64, strict=False)
    first_bad(df, name, "support_pct", pct.is_not_null() | (pl.col("support_pct") == ""), "not a percentage")
    first_bad(df, name, "support_pct", pct.is_null() | pct.is_between(0, 100), "a percentage must be within 0-100")
    typed = df.with_columns(rank.alias("rank"), pct.alias("support_pct"), blank_to_null("note"))
    return Parsed(raw, typed.select(["source_row", *SURVEY_COLUMNS]), table.encoding, table.sheet)
