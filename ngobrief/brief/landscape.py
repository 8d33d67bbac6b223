"""The brief's landscape section: where the international field stands among all fields of activity,
and foreign NGOs in China under the Overseas NGO Law (inbound engagement, shown as context only).

Figures come from marts.figures_by_field and marts.foreign_ngos_in_china through metrics; this module
only selects, formats and draws them."""

from __future__ import annotations

from typing import Callable

import polars as pl

from .. import charts, metrics
from .edition import Edition
from .format import say as _say

KEY = "landscape"

# The inbound series drawn in the chart: cumulative counts since the law took effect.
INBOUND_SERIES = ("rep_offices_cumulative", "temporary_activities_cumulative")


def fields_part(con, year: int, text: dict, fmt, cite: Callable, say: Callable) -> dict | None:
    """The field counts printed for the edition year (the latest date that year), as a bar chart."""
    fields = metrics.figures_by_field(con, year)
    if fields.height == 0:
        return None
    latest = fields["as_of"].max()
    rows = fields.filter(pl.col("as_of") == latest).to_dicts()
    t = text["landscape"]
    names = t["fields"]
    bars = [charts.Bar(names.get(r["field"], r["field_as_published"] or r["field"]),
                       r["organizations"], fmt.count(r["organizations"], r["half_unit"]), r["is_international"])
            for r in rows]
    title = say(t["fields_chart"], date=fmt.date(latest))
    svg = charts.bar_chart(bars, font_family=text["font_family"], title=title)
    intl = next((r for r in rows if r["is_international"]), None)
    sentence = ""
    if intl is not None:
        key = "smallest" if intl["field_rank"] == len(rows) else "rank"
        sentence = say(t["international_" + key], count=fmt.count(intl["organizations"], intl["half_unit"]),
                       rank=intl["field_rank"], fields=len(rows),
                       largest=names.get(rows[0]["field"], rows[0]["field"]),
                       largest_count=fmt.count(rows[0]["organizations"], rows[0]["half_unit"]),
                       date=fmt.date(latest))
    return {"name": "fields", "svg": svg, "title": title, "cites": cite(*[r["source_id"] for r in rows]),
            "alt": say(t["fields_alt"], title=title, fields=len(rows)), "sentence": sentence,
            "note": t["fields_note"]}


def inbound_part(con, year: int, text: dict, fmt, cite: Callable, say: Callable) -> dict | None:
    """Foreign NGOs in China up to the edition year: cumulative offices and temporary activities."""
    rows = metrics.foreign_ngos_in_china(con, year)
    drawn = rows.filter(pl.col("series").is_in(INBOUND_SERIES))
    if drawn.height == 0:
        return None
    t = text["landscape"]
    series = [charts.Series(s, t["inbound_series"][s], [
        charts.Point(r["as_of"], r["value"], False) for r in drawn.filter(pl.col("series") == s).to_dicts()])
        for s in INBOUND_SERIES]
    first = int(drawn["year"].min())
    # The chart's x axis puts each year's end on its tick: a count dated during the first year lies left of
    # that tick, so the axis starts a year earlier to keep it inside the plot.
    svg = charts.line_chart(series, first_year=first - 1, last_year=year, value_label=fmt.axis,
                            font_family=text["font_family"], title=t["inbound_chart"],
                            other_period_label=t["inbound_marker"], height=170)
    latest = {s: drawn.filter(pl.col("series") == s).row(-1, named=True) for s in INBOUND_SERIES
              if drawn.filter(pl.col("series") == s).height}
    sentence = ""
    if len(latest) == len(INBOUND_SERIES):
        o, a = latest["rep_offices_cumulative"], latest["temporary_activities_cumulative"]
        sentence = say(t["inbound_sentence"], offices=fmt.count(o["value"], o["half_unit"]),
                       offices_date=fmt.date(o["as_of"]), activities=fmt.count(a["value"], a["half_unit"]),
                       activities_date=fmt.date(a["as_of"]))
    per_year = rows.filter(pl.col("series") == "rep_offices_new").to_dicts()
    new_offices = text["value_sep"].join(say(t["new_offices_item"], year=r["year"], count=fmt.count(r["value"], r["half_unit"]))
                                      for r in per_year)
    return {"name": "inbound", "svg": svg, "title": t["inbound_chart"],
            "cites": cite(*drawn["source_id"].to_list()),
            "alt": say(t["inbound_alt"], first=first, last=year), "sentence": sentence,
            "new_offices": say(t["new_offices"], items=new_offices) if per_year else "",
            "new_offices_cites": cite(*[r["source_id"] for r in per_year]),
            "note": t["inbound_note"]}


def build(ed: Edition) -> dict:
    return {KEY: landscape(ed.con, ed.year, ed.text, ed.fmt, ed.cite, _say)}


def landscape(con, year: int, text: dict, fmt, cite: Callable, say: Callable) -> dict:
    """The section's parts (each None when no figure exists up to the edition year) and their charts."""
    fields = fields_part(con, year, text, fmt, cite, say)
    inbound = inbound_part(con, year, text, fmt, cite, say)
    return {"fields": fields, "inbound": inbound, "charts": [c for c in (fields, inbound) if c]}


def no_engagement(types: list[str], engaged_types: set[str], labels: dict[str, str], text: dict,
                  year: int, say: Callable) -> str:
    """The plain sentence naming the covered types with no engagement figure for the edition year."""
    missing = [labels[t] for t in types if t not in engaged_types]
    if not missing:
        return ""
    return say(text["landscape"]["no_engagement"], year=year, types=text["list_sep"].join(missing))
