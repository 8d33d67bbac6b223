"""How a brief says things: the per-language content files, sentence patterns, citation numbers, and
numbers, percentages and dates in the reader's locale (babel)."""

from __future__ import annotations

import datetime as dt
import functools
import math

import yaml
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, StrictUndefined

from .. import config
from ..errors import RenderError  # noqa: F401  (the brief's error, importable from here as before)

LANGS = ("en", "zh")


def content(lang: str) -> dict:
    path = config.TEMPLATES_DIR / "content" / f"{lang}.yaml"
    if lang not in LANGS or not path.is_file():
        raise RenderError(f"no brief content for language {lang!r}; choose one of {', '.join(LANGS)}")
    # libyaml's loader (when PyYAML has it) reads the content files ~10x faster than the pure-Python one
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


class Formatter:
    """Numbers, percentages and dates in the reader's locale (babel); 万 where a Chinese reader expects it."""

    def __init__(self, locale: str, wan: str | None = None):
        self.locale, self.wan = locale, wan

    def count(self, value, half_unit=None) -> str:
        """A count as published: in 万 when the source printed it to a tenth or hundredth of 万 (49.9万),
        otherwise every digit (3,029). Never more or fewer digits than the source printed."""
        if value is None:
            return ""
        if self.wan and value >= 10_000 and half_unit and half_unit >= 5:
            decimals = max(0, round(-math.log10(2 * half_unit / 10_000)))
            if decimals <= 2:
                return format_decimal(value / 10_000, format="#,##0." + "0" * decimals if decimals else "#,##0",
                                      locale=self.locale) + self.wan
        return format_decimal(round(value), format="#,##0", locale=self.locale)

    def axis(self, value: float) -> str:
        """A round chart tick (200,000 or 20万)."""
        if self.wan and value >= 10_000:
            return format_decimal(value / 10_000, format="#,##0.##", locale=self.locale) + self.wan
        return format_decimal(value, format="#,##0.##", locale=self.locale)

    def pct(self, value, digits: int | None = None) -> str:
        """A percentage given in percent (0.11 -> 0.11%): two decimals, more for tiny shares so that
        at least two significant digits show (0.0025%)."""
        if value is None:
            return ""
        if digits is None:
            digits = 2 if value <= 0 else max(2, 1 - math.floor(math.log10(value)))
        return format_percent(value / 100, format="#,##0." + "0" * digits + "%", locale=self.locale)

    def change_pct(self, value) -> str:
        if value is None:
            return ""
        return format_percent(value / 100, format="+#,##0.0%;-#,##0.0%", locale=self.locale)

    def points(self, value) -> str:
        """A difference of two percentages, in percentage points."""
        if value is None:
            return ""
        digits = 2 if value == 0 else max(2, 1 - math.floor(math.log10(abs(value))))
        pattern = "0." + "0" * digits
        return format_decimal(value, format=f"+{pattern};-{pattern}", locale=self.locale)

    def number(self, value) -> str:
        """A figure that is not a published count (a difference, a tolerance): up to two decimals."""
        if value is None:
            return ""
        return format_decimal(value, format="#,##0.##", locale=self.locale)

    def date(self, value, length: str = "long") -> str:
        """A date in words (December 31, 2012 / 2012年12月31日); length "medium" for tables."""
        if value is None:
            return ""
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            value = value.date()
        return format_date(value, format=length, locale=self.locale)


@functools.lru_cache(maxsize=1024)
def _pattern(pattern: str):
    # a brief fills a few hundred patterns, many of them the same: compile each once per process
    return Environment(autoescape=False, undefined=StrictUndefined).from_string(pattern)


def say(pattern: str, **values) -> str:
    """Fill a content file's sentence pattern with already formatted values (escaped later, in the page)."""
    return _pattern(pattern).render(**values)


class Citations:
    """Numbers sources in order of first citation, so the brief's notes read [1], [2], … down the pages."""

    def __init__(self):
        self.order: list[str] = []

    def __call__(self, *source_ids) -> list[int]:
        numbers = []
        for sid in source_ids:
            for s in ([sid] if isinstance(sid, str) else list(sid or [])):
                if s is None:
                    continue
                if s not in self.order:
                    self.order.append(s)
                numbers.append(self.order.index(s) + 1)
        return sorted(set(numbers))


def digits(half_unit) -> int:
    """Decimals a published percentage was printed with (half a unit of 0.005 -> 2)."""
    if not half_unit:
        return 2
    return max(0, round(-math.log10(2 * half_unit)))


def cite_text(numbers: list[int]) -> str:
    return "[" + ", ".join(str(n) for n in numbers) + "]" if numbers else ""




# Punctuation that may not open a line of Chinese text (it closes what comes before it).
CLOSING_PUNCTUATION = "，。、；：？！）」』》〉】〕”’%％"


def split_tail(sentence: str) -> tuple[str, str]:
    """A sentence and its last character with the closing punctuation after it, apart: the page keeps
    the tail, the note marker and the final 。 on one line, so no line opens with "）[2]。"."""
    i = len(sentence.rstrip(CLOSING_PUNCTUATION))
    return sentence[:max(i - 1, 0)], sentence[max(i - 1, 0):]
