"""Checks every layout shares: required columns, the first bad cell of a column, repeats, published
figures and the years and dates they are for. Each refusal names the file, row, column and value."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import polars as pl

from ..errors import InputError
from .published import is_missing, parse_published
from .read import Table, norm_header, text_frame

PERIODS = ("year_end", "Q1", "Q2", "Q3", "Q4", "as_of")
OBSERVATION_COLUMNS = ("year", "period", "as_of", "measure", "org_type", "value", "as_published",
                       "half_unit", "unit", "source_id", "note", "source_row", "source_column")


def require_columns(df_or_header, path, columns, *, row: int | None = None, exact: bool = False) -> None:
    """Every column of `columns` is in the header (row `row`). A header the layout does not know is
    named as the likely rename of a missing column; with `exact`, an extra column is refused too
    (it would be dropped without a word)."""
    have = df_or_header.columns if isinstance(df_or_header, pl.DataFrame) else df_or_header
    missing = [c for c in columns if c not in have]
    unknown = [h for h in have if h not in columns and h != "source_row"]
    if missing:
        renamed = f"; the header has {unknown[0]!r} instead (renamed?)" if unknown else ""
        raise InputError(path, f"missing column(s) {', '.join(missing)}{renamed}", row=row,
                         column=missing[0], value=unknown[0] if unknown else None,
                         hint=f"expected columns: {', '.join(columns)}")
    if exact and unknown:
        raise InputError(path, "a column this layout does not have", row=row, column=unknown[0], value=unknown[0],
                         hint=f"expected columns: {', '.join(columns)}; delete or rename it")



def has_most_columns(table: Table, columns) -> bool:
    """A header with most of a layout's columns is in that layout (detection), so that the one missing
    or renamed is named rather than the layout not being recognized."""
    first = [norm_header(c) for c in table.rows[0][1]]
    return sum(c in first for c in columns) * 2 > len(columns)


def exact_columns(table: Table, columns, rows_are: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A table with exactly `columns` as (raw cells, cells trimmed); a table with a header and no rows
    is refused (`rows_are` says what they would have been: figures, priorities)."""
    header, raw = text_frame(table)
    require_columns(header, table.name, columns, row=table.rows[0][0], exact=True)
    raw = raw.select(["source_row", *columns])
    df = strip_cells(raw, columns)
    if df.height == 0:
        raise InputError(table.name, f"the file has a header but no {rows_are}", row=table.rows[0][0])
    return raw, df


def today() -> dt.date:
    return dt.date.today()


def check_year(df: pl.DataFrame, path, column: str, year: pl.Expr) -> None:
    """A figure for a year that has not begun is a typo (or a forecast, which is not a published figure)."""
    first_bad(df, path, column, year.is_null() | (year <= today().year),
               f"a year in the future (this is {today().year})")


def first_bad(df: pl.DataFrame, path, column: str, ok: pl.Expr, message: str, hint: str | None = None) -> None:
    bad = df.filter(~ok.fill_null(False))
    if bad.height:
        r = bad.row(0, named=True)
        raise InputError(path, message, row=r["source_row"], column=column, value=r[column], hint=hint)


def strip_cells(df: pl.DataFrame, columns) -> pl.DataFrame:
    """Cells trimmed; a column with nothing to trim is shared with `df`, not copied (large files)."""
    changed = [c for c in columns if df.select((pl.col(c).str.strip_chars() != pl.col(c)).any()).item()]
    return df.with_columns([pl.col(c).str.strip_chars() for c in changed]) if changed else df


def blank_to_null(column: str) -> pl.Expr:
    return pl.when(pl.col(column).str.strip_chars() == "").then(None).otherwise(pl.col(column)).alias(column)


def drop_repeats(typed: pl.DataFrame, name: str, key: list[str], same: list[str],
                 shown: str | None = None) -> tuple[pl.DataFrame, list[str]]:
    """Keep a figure a file prints twice once (an exact repeat); refuse one it prints with two values.
    The error's sentence quotes the cells as printed (column `shown`, when given); its value is typed.
    Compared in Polars (a join on the key), not row by row in Python."""
    extra = [c for c in ["source_column", shown] if c and c in typed.columns and c not in key + same]
    df = typed.select("source_row", *extra, *key, *same).with_row_index("_i")
    firsts = df.group_by(key, maintain_order=True).agg(pl.all().first())
    later = (df.join(firsts.rename({c: f"{c}__first" for c in firsts.columns if c not in key}), on=key,
                     how="inner", nulls_equal=True, maintain_order="left")
             .filter(pl.col("_i") != pl.col("_i__first")))
    if later.height == 0:
        return typed, []
    differs = [pl.col(c).ne_missing(pl.col(f"{c}__first")) for c in same]
    conflict = later.filter(pl.any_horizontal(differs)).sort("_i")
    if conflict.height:
        r = conflict.row(0, named=True)
        col = next(c for c in same if (r[c] != r[f"{c}__first"]))
        show = shown if shown in r else col
        raise InputError(name, f"gives {r[show]!r} where row {r['source_row__first']} gives "
                         f"{r[f'{show}__first']!r} for the same {', '.join(key)}", row=r["source_row"],
                         column=r.get("source_column") or col, value=r[col],
                         hint="a file may print a figure once; put a second version in its own snapshot")
    notes = [f"row {r} repeats row {e}: kept once"
             for r, e in later.sort("_i").select("source_row", "source_row__first").iter_rows()]
    if "source_column" in typed.columns:
        gone = later.select("source_row", "source_column")
        typed = typed.join(gone, on=["source_row", "source_column"], how="anti", maintain_order="left")
    else:
        typed = typed.filter(~pl.col("source_row").is_in(later["source_row"].implode()))
    return typed, notes


def figures(df: pl.DataFrame, name: str, value_col: str | None, published_col: str,
             column_name=None) -> tuple[list[float | None], list[float | None], list[str | None]]:
    values, halves, printed = [], [], []
    for r in df.iter_rows(named=True):
        pub_text = r[published_col]
        try:
            pub = parse_published(pub_text)
        except ValueError:
            raise InputError(name, "the figure as published cannot be read", row=r["source_row"],
                             column=column_name or published_col, value=pub_text,
                             hint="write digits with an optional 万, 亿, 万元, million or %") from None
        val = None
        if value_col is not None:
            try:
                val = parse_published(r[value_col])
            except ValueError:
                raise InputError(name, "not a number", row=r["source_row"], column=value_col,
                                 value=r[value_col]) from None
        if val is None and pub is None:
            values.append(None), halves.append(None), printed.append(None)
            continue
        values.append(val.value if val is not None else pub.value)
        halves.append(pub.half_unit if pub is not None else val.half_unit)
        printed.append(None if is_missing(pub_text) else pub_text.strip())
    return values, halves, printed


def check_figure(name: str, row: int, column: str, text: str, value: float | None, percent: bool) -> None:
    """Published figures are counts, amounts or percentages: none is negative, no percentage above 100."""
    if value is None:
        return
    if value < 0:
        raise InputError(name, "a negative figure: counts, amounts and percentages are never below 0",
                         row=row, column=column, value=text)
    if percent and value > 100:
        raise InputError(name, "a percentage above 100", row=row, column=column, value=text)


def parse_year(text: str) -> int | None:
    m = re.fullmatch(r"(\d{4})\s*年?(?:度)?", unicodedata.normalize("NFKC", text).strip())
    return int(m.group(1)) if m else None


def parse_date(text: str) -> dt.date | None:
    s = unicodedata.normalize("NFKC", text).strip()
    m = (re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
         or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s))
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None
