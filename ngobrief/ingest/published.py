"""Figures as published: 万/亿 and other unit words, and the precision a figure was printed with
(`half_unit`, half a unit of its last printed digit)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MISSING = {"", "--", "—", "——", "-", "–", "...", "…", "n/a", "NA", "N/A", "－－", "－"}

# Unit words that scale a printed figure; 万 = 10^4 and 亿 = 10^8.
MULTIPLIERS = {
    "": Decimal(1), "元": Decimal(1), "%": Decimal(1),
    "万": Decimal(10) ** 4, "万元": Decimal(10) ** 4,
    "亿": Decimal(10) ** 8, "亿元": Decimal(10) ** 8,
    "million": Decimal(10) ** 6, "billion": Decimal(10) ** 9,
}
# A count word after the number (49.9万个, 3029家, 613.3万人) names what is counted; it does not scale.
_PUBLISHED = re.compile(
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*"
    r"(?P<unit>万元|万|亿元|亿|million|billion|%|元)?\s*(?:个|家|人|名)?$"
)


@dataclass(frozen=True)
class Published:
    """A figure as printed: its value and half a unit of its last printed digit."""

    value: float
    half_unit: float
    unit: str


def parse_published(text: str | None) -> Published | None:
    """`49.9万` -> 499000 ± 500; `3,029` -> 3029 ± 0.5; `0.11%` -> 0.11 ± 0.005; `--` -> None.

    Full-width digits and commas (３，０２９) read as their ASCII forms."""
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", str(text)).strip()
    if s in MISSING:
        return None
    m = _PUBLISHED.match(s)
    if not m:
        raise ValueError(f"not a published figure: {text!r}")
    num, unit = m.group("num").replace(",", ""), m.group("unit") or ""
    try:
        d = Decimal(num)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError(f"not a number: {text!r}") from exc
    decimals = -d.as_tuple().exponent if d.as_tuple().exponent < 0 else 0
    mult = MULTIPLIERS[unit]
    half = Decimal("0.5") * (Decimal(10) ** -decimals) * mult
    return Published(float(d * mult), float(half), unit)


def is_missing(text: str | None) -> bool:
    return text is None or unicodedata.normalize("NFKC", str(text)).strip() in MISSING
