"""A wide table: one row per year (or per year and measure), one column per org type, with English or
Chinese headers. The headers understood are listed in docs/sources.md; a test keeps the two in step."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path

import polars as pl

from ...errors import InputError
from .. import contract
from ..checks import PERIODS, check_figure, drop_repeats, parse_date, parse_year, strip_cells, today
from ..published import is_missing, parse_published
from ..read import Parsed, Source, Table, text_frame

NAME = "wide_table"
DESCRIPTION = "a year × org-type table with English or Chinese headers"
TARGETS = ("raw.table_cells", "staging.observations")
DETECT_ORDER = 90     # the loosest test: after every layout with named columns

CONTRACT = Path(__file__).with_suffix(".toml")
_DECLARED = contract.declared(CONTRACT)
YEAR_HEADERS = tuple(_DECLARED["years"])
ORG_TYPE_HEADERS = {k: tuple(v) for k, v in _DECLARED["org_types"].items()}
OTHER_HEADERS = {k: tuple(v) for k, v in _DECLARED["other_columns"].items()}
MEASURE_NAMES = {k: tuple(v) for k, v in _DECLARED["measures"].items()}
PERIOD_NAMES = {k: tuple(v) for k, v in _DECLARED["periods"].items()}
MEASURE_UNITS = dict(_DECLARED["units"])
PERIOD_ENDS = {"year_end": (12, 31), "Q1": (3, 31), "Q2": (6, 30), "Q3": (9, 30), "Q4": (12, 31)}

# `社会组织（万个）`: the part in brackets is the column's unit.
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\s*[(\[]\s*(?:单位\s*[:：]\s*)?(?P<mult>万|亿)?(?P<word>个|家|人|名|元)?\s*[)\]]$")
_PREAMBLE_UNIT = re.compile(r"单位\s*[:：]\s*(?P<mult>万|亿)?(?P<word>个|家|人|名|元)?")


def _key(text: str) -> str:
    return re.sub(r"[\s_]+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def _lookup(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(alias): canonical for canonical, aliases in table.items() for alias in aliases}


_ORG_TYPES, _OTHERS = _lookup(ORG_TYPE_HEADERS), _lookup(OTHER_HEADERS)
_MEASURES, _PERIODS = _lookup(MEASURE_NAMES), _lookup(PERIOD_NAMES)
_YEARS = {_key(h) for h in YEAR_HEADERS}


def _split_header_unit(header: str) -> tuple[str, str | None]:
    m = _HEADER_UNIT.match(unicodedata.normalize("NFKC", header).strip())
    if not m:
        return header, None
    return m.group("name"), m.group("mult") or ""


def _is_wide_header(cells: list[str]) -> bool:
    keys = [_key(_split_header_unit(c)[0]) for c in cells]
    return any(k in _YEARS for k in keys) and any(k in _ORG_TYPES for k in keys)



def detect(table: Table) -> bool:
    return any(_is_wide_header(cells) for _, cells in table.rows[:10])


def parse(source: Source) -> Parsed:
    """A year × org-type table (see docs/sources.md).

    Every figure is attributed to the source's id unless a 来源/source_id column names another. A figure
    in a column headed `社会组织（万个）`, or under a `单位：万个` line above the header, is in 万."""
    table, o = source.table(), source.options
    name = table.name
    period = o.get("period") or "year_end"
    if period not in PERIODS:
        raise InputError(name, f"unknown period {period!r}; use one of {', '.join(PERIODS)}")
    at, table_mult = _find_header(table)
    header, frame = text_frame(table, at)
    header_row = table.rows[at][0]
    cols = _Columns.read(header, name, header_row, table_mult)
    df = strip_cells(frame, [c for c in frame.columns if c != "source_row"])
    defaults = {"measure": o.get("measure") or "registered", "period": period, "unit": o.get("unit"),
                "source_id": source.source_id}
    rows = []
    for r in df.iter_rows(named=True):
        rows.extend(_row_figures(r, cols, defaults, name))
    if not rows:
        raise InputError(name, "the table has no figures (every figure cell is blank or --)")
    typed = pl.DataFrame(rows, orient="row", schema={
        "year": pl.Int32, "period": pl.Utf8, "as_of": pl.Date, "measure": pl.Utf8, "org_type": pl.Utf8,
        "value": pl.Float64, "as_published": pl.Utf8, "half_unit": pl.Float64, "unit": pl.Utf8,
        "source_id": pl.Utf8, "note": pl.Utf8, "source_row": pl.Int64, "source_column": pl.Utf8})
    typed, notes = drop_repeats(typed, name, ["year", "period", "as_of", "measure", "org_type", "source_id"],
                                ["value", "half_unit", "unit"], shown="as_published")
    cells = [(row_no, j + 1, header[j] if row_no > header_row and j < len(header) else None, c)
             for row_no, cs in table.rows for j, c in enumerate(cs)]
    raw = pl.DataFrame(cells, orient="row", schema={"source_row": pl.Int64, "column_no": pl.Int32,
                                                    "column_name": pl.Utf8, "cell": pl.Utf8})
    return Parsed(raw, typed, table.encoding, table.sheet, notes)


def _find_header(table: Table) -> tuple[int, str | None]:
    """The header row (within the first 10), and the unit a `单位：万个` line above it gives the table."""
    at = next((i for i, (_, cells) in enumerate(table.rows[:10]) if _is_wide_header(cells)), None)
    if at is None:
        raise InputError(table.name, "no header row with a year column (年份 / year) and an org-type column "
                         "(社会组织, 社会团体, 民办非企业单位, 社会服务机构, 基金会, ...) in the first 10 rows",
                         hint="see docs/sources.md for the headers that are understood")
    table_mult = None
    for _, cells in table.rows[:at]:
        for c in cells:
            if m := _PREAMBLE_UNIT.search(unicodedata.normalize("NFKC", c)):
                table_mult = m.group("mult") or ""
    return at, table_mult


class _Columns:
    """What each header of a wide table means: the year, an org type (with its unit), or another field."""

    def __init__(self, year: str, orgs: dict[str, str], others: dict[str, str], mult: dict[str, str | None]):
        self.year, self.orgs, self.others, self.mult = year, orgs, others, mult

    @classmethod
    def read(cls, header: list[str], name: str, header_row: int, table_mult: str | None) -> "_Columns":
        year_col, org_cols, other_cols = None, {}, {}
        for h in header:
            k = _key(_split_header_unit(h)[0])
            if k in _YEARS:
                year_col = h
            elif k in _ORG_TYPES:
                t = _ORG_TYPES[k]
                if t in org_cols.values():
                    twin = next(c for c, v in org_cols.items() if v == t)
                    raise InputError(name, f"columns {twin!r} and {h!r} both mean {t}", row=header_row, column=h)
                org_cols[h] = t
            elif k in _OTHERS:
                other_cols[_OTHERS[k]] = h
            else:
                raise InputError(name, "unknown column header", row=header_row, column=h, value=h,
                                 hint="docs/sources.md lists the headers understood; rename or delete the column")
        mult = {h: (_split_header_unit(h)[1] if _split_header_unit(h)[1] is not None else table_mult)
                for h in org_cols}
        return cls(year_col, org_cols, other_cols, mult)

    def text(self, r: dict, field: str) -> str:
        return r[self.others[field]] if field in self.others else ""


def _row_figures(r: dict, cols: _Columns, defaults: dict, name: str) -> list[tuple]:
    """The figures of one row, one per org-type cell that prints one."""
    row_no = r["source_row"]
    year = parse_year(r[cols.year])
    if year is None:
        raise InputError(name, "a year must be a whole number such as 2012 (or 2012年)",
                         row=row_no, column=cols.year, value=r[cols.year])
    if year > today().year:
        raise InputError(name, f"a year in the future (this is {today().year})", row=row_no,
                         column=cols.year, value=r[cols.year])
    m = _named(cols, r, "measure", _MEASURES, defaults["measure"], name, "unknown measure",
               f"use one of {', '.join(MEASURE_NAMES)} or a name in docs/sources.md")
    p = _named(cols, r, "period", _PERIODS, defaults["period"], name,
               f"unknown period; use one of {', '.join(PERIODS)} or 年末, 一季度, ...")
    as_of = _as_of(r, cols, year, p, name)
    sid = cols.text(r, "source_id") or defaults["source_id"]
    if not sid:
        raise InputError(name, "no source for the figures: give the table a 来源/source_id column, "
                         "or pull it under a source id", row=row_no, column=cols.year)
    note = cols.text(r, "note") or None
    unit = defaults["unit"] or MEASURE_UNITS.get(m, "organizations")
    out = []
    for h, org_type in cols.orgs.items():
        if is_missing(r[h]):
            continue
        printed, pub = _cell_figure(r[h], cols.mult[h], name, row_no, h)
        check_figure(name, row_no, h, r[h], pub.value,
                     (defaults["unit"] or MEASURE_UNITS.get(m, "")) == "percent" or pub.unit == "%")
        out.append((year, p, as_of, m, org_type, pub.value, printed, pub.half_unit, unit, sid, note, row_no, h))
    return out


def _named(cols: _Columns, r: dict, field: str, names: dict[str, str], default: str, name: str, message: str,
           hint: str | None = None) -> str:
    """A row's measure or period, in our words: its own cell when it has one, else the table's default."""
    text = cols.text(r, field)
    if not text:
        return default
    found = names.get(_key(text)) or names.get(text.strip())
    if found is None:
        raise InputError(name, message, row=r["source_row"], column=cols.others[field], value=text,
                         hint=hint)
    return found


def _as_of(r: dict, cols: _Columns, year: int, period: str, name: str) -> dt.date:
    if text := cols.text(r, "as_of"):
        as_of = parse_date(text)
        if as_of is None:
            raise InputError(name, "a date must be written YYYY-MM-DD (or 2022年12月31日)", row=r["source_row"],
                             column=cols.others["as_of"], value=text)
        return as_of
    if period in PERIOD_ENDS:
        return dt.date(year, *PERIOD_ENDS[period])
    raise InputError(name, "period as_of needs a date column (截至日期 / as_of)", row=r["source_row"],
                     column=cols.others.get("period", cols.year), value=period)


def _cell_figure(text: str, mult: str | None, name: str, row_no: int, column: str):
    """A figure cell as printed (with its column's unit appended) and as read."""
    printed = text
    if mult:
        try:
            own = parse_published(text)
        except ValueError:
            own = None
        if own is not None and own.unit in ("万", "亿", "万元", "亿元"):
            raise InputError(name, f"the cell has a unit of its own and its column is in {mult}",
                             row=row_no, column=column, value=text)
        printed = f"{text}{mult}"
    try:
        return printed, parse_published(printed)
    except ValueError:
        raise InputError(name, "not a published figure", row=row_no, column=column, value=text,
                         hint="write digits with an optional 万, 亿, 万元, million or %, "
                              "or -- for a figure not published") from None
