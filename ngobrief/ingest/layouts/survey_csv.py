"""The CANGO survey's sector priorities: rank order, support band and any published percentage."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .. import contract
from ..checks import blank_to_null, exact_columns, first_bad, has_most_columns
from ..read import Parsed, Source, Table

NAME = "survey_csv"
DESCRIPTION = "the CANGO survey's sector priorities"
TARGETS = ("raw.survey_priorities", "staging.survey_priorities")
DETECT_ORDER = 20
CITES_PER_ROW = True

CONTRACT = Path(__file__).with_suffix(".toml")
SURVEY_COLUMNS = tuple(contract.load(CONTRACT).columns)


def detect(table: Table) -> bool:
    return has_most_columns(table, SURVEY_COLUMNS)


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
