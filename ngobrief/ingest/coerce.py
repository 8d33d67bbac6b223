"""Coercions declared once (coercions.toml) and applied to a cell's text whatever the file's format:
missing values, whole numbers, dates, provinces. Each returns the value or raises ValueError with a
sentence the caller turns into an error naming the file, row, column and value."""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
import unicodedata
from pathlib import Path

FILE = Path(__file__).resolve().parent / "coercions.toml"


@functools.cache
def declared() -> dict:
    with open(FILE, "rb") as fh:
        return tomllib.load(fh)


def _norm(text: str | None) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def is_missing(text: str | None) -> bool:
    """None, NULL, --, blank and the other declared gaps."""
    return text is None or _norm(text) in _missing()


@functools.cache
def _missing() -> frozenset[str]:
    return frozenset(_norm(m) for m in declared()["missing"]) | frozenset(declared()["missing"])


def text(cell: str | None) -> str | None:
    return None if is_missing(cell) else cell.strip()


def whole_number(cell: str | None) -> int | None:
    """`12` and `0.0` are whole numbers (a spreadsheet writes counts as floats); `1.5`, `-3` and
    digits that are not ASCII (`²`) are refused."""
    if is_missing(cell):
        return None
    m = _WHOLE.fullmatch(cell.strip())
    if not m:
        raise ValueError("a count must be a whole number")
    return int(m.group(1))


_WHOLE = re.compile(r"([0-9]+)(?:\.0+)?", re.ASCII)


def date(cell: str | None) -> dt.date | None:
    """`2007年07月31日`, `2007-07-31`, `7/31/2007` (and an Excel date cell, read as 2007-07-31)."""
    if is_missing(cell):
        return None
    s = _norm(cell).split(" ")[0] if re.fullmatch(r"\d{4}-\d{2}-\d{2} 00:00:00", _norm(cell)) else _norm(cell)
    for fmt in declared()["dates"]:
        try:
            return dt.datetime.strptime(s, fmt).date()
        except ValueError:
            pass
    raise ValueError("a date must be written YYYY-MM-DD, YYYY年MM月DD日 or M/D/YYYY")


def year(cell: str | None) -> int | None:
    """`2013`, `2013年`, `2013年度`, or a date in the year."""
    if is_missing(cell):
        return None
    m = re.fullmatch(r"(\d{4})\s*年?(?:度)?(?:\.0)?", _norm(cell))
    if m:
        return int(m.group(1))
    try:
        return date(cell).year
    except ValueError:
        raise ValueError("a year must be a year such as 2013") from None


@functools.cache
def provinces() -> dict[str, str]:
    """Every accepted spelling of a province -> its canonical (pinyin) form."""
    out = {}
    for zh, pinyin in declared()["provinces"].items():
        short = re.sub(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区)$", "", zh)
        out.update({zh: pinyin, short: pinyin, pinyin: pinyin, pinyin.lower(): pinyin})
    return out


def province(cell: str | None) -> str | None:
    """A province in Chinese (上海市, 上海) or pinyin, in its canonical spelling; one not known is kept
    as printed (validation reports it)."""
    if is_missing(cell):
        return None
    s = _norm(cell)
    return provinces().get(s) or provinces().get(s.lower()) or s
