"""The canonical long layout: one row per published figure, each citing its source document."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from .. import contract
from ..checks import (OBSERVATION_COLUMNS, PERIODS, blank_to_null, check_figure, check_year, drop_repeats,
                      exact_columns, figures, first_bad, has_most_columns)
from ..published import is_missing
from ..read import Parsed, Source, Table

NAME = "long_csv"
DESCRIPTION = "the canonical long layout (one row per figure)"
TARGETS = ("raw.observations", "staging.observations")
DETECT_ORDER = 10
CITES_PER_ROW = True      # every row names its source document: the file itself needs none

CONTRACT = Path(__file__).with_suffix(".toml")
LONG_COLUMNS = tuple(contract.load(CONTRACT).columns)


def detect(table: Table) -> bool:
    return has_most_columns(table, LONG_COLUMNS)


def parse(source: Source) -> Parsed:
    return parse_long(source.table())


def parse_long(table: Table) -> Parsed:
    """The canonical long layout (the columns of LONG_COLUMNS)."""
    name = table.name
    raw, df = exact_columns(table, LONG_COLUMNS, "figures")
    for col in ("year", "period", "measure", "org_type", "source_id", "unit"):
        first_bad(df, name, col, pl.col(col) != "", "a required value is blank")
    year = pl.col("year").cast(pl.Int32, strict=False)
    first_bad(df, name, "year", year.is_not_null(), "a year must be a whole number such as 2012")
    check_year(df, name, "year", year)
    first_bad(df, name, "period", pl.col("period").is_in(PERIODS),
               f"unknown period; use one of {', '.join(PERIODS)}")
    as_of = pl.col("as_of").str.to_date("%Y-%m-%d", strict=False)
    first_bad(df, name, "as_of", as_of.is_not_null(), "a date must be written YYYY-MM-DD")

    values, halves, printed = figures(df, name, "value", "as_published")
    for r, v in zip(df.select("source_row", "value", "as_published", "unit").iter_rows(), values):
        check_figure(name, r[0], "as_published" if is_missing(r[1]) else "value",
                      r[2] if is_missing(r[1]) else r[1], v, r[3] == "percent" or str(r[2]).strip().endswith("%"))
    typed = df.with_columns(
        year.alias("year"),
        as_of.alias("as_of"),
        pl.Series("value", values, dtype=pl.Float64),
        pl.Series("half_unit", halves, dtype=pl.Float64),
        pl.Series("as_published", printed, dtype=pl.Utf8),
        blank_to_null("note"),
        pl.lit("as_published").alias("source_column"),
    )
    notes = [f"row {r} prints no figure (blank or --): kept in raw only"
             for r in typed.filter(pl.col("value").is_null())["source_row"]]
    typed = typed.filter(pl.col("value").is_not_null()).select(OBSERVATION_COLUMNS)
    typed, repeats = drop_repeats(typed, name, ["year", "period", "as_of", "measure", "org_type", "source_id"],
                                  ["value", "half_unit", "unit"], shown="as_published")
    return Parsed(raw, typed, table.encoding, table.sheet, notes + repeats)



def parse_long_csv(path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The canonical long layout from a file, as (raw, typed): raw is every cell as text; typed has
    proper types and the published precision of each figure (`half_unit`)."""
    p = parse(Source(path, str(path), encoding))
    return p.raw, p.typed
