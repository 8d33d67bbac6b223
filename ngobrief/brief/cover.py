"""The cover: the edition, the latest date its figures describe, when they were loaded, the vintage
(the latest year with figures and its age at the edition date), the types covered."""

from __future__ import annotations

import datetime as dt

import polars as pl
from babel.dates import format_timedelta

from .. import metrics
from .edition import Edition
from .format import say

KEY = "cover"


def build(ed: Edition) -> dict:
    registered_year = metrics.registered(ed.con, ed.year).filter(pl.col("org_type").is_in(ed.types))
    as_of_dates = [r["as_of"] for r in ed.rows] + registered_year["as_of"].to_list()
    covered = [t for t in ed.types if t in {r["org_type"] for r in ed.rows} | set(registered_year["org_type"])]
    text, fmt = ed.text, ed.fmt
    return {"cover": {
        "edition": say(text["cover"]["edition"], year=ed.year),
        "as_of": say(text["cover"]["as_of"], date=fmt.date(max(as_of_dates))),
        "generated": say(text["cover"]["generated"], date=fmt.date(ed.loaded_at)),
        "vintage": say(text["cover"]["vintage"], year=max(as_of_dates).year, date=fmt.date(ed.loaded_at),
                       age=format_timedelta(dt.timedelta(days=365.25 * (ed.loaded_at.year - max(as_of_dates).year)),
                                            granularity="year", threshold=1, format="long", locale=fmt.locale)),
        "types": [ed.label[t] for t in covered],
    }}
