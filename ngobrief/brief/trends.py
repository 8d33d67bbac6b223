"""Trends: registered organizations by type over the observed years up to the edition year (two
charts), the growth table, the long view from the first year-end count, and the years with no count."""

from __future__ import annotations

import polars as pl

from .. import charts, metrics
from .edition import Edition
from .figures import registered_trends
from .format import say

KEY = "trends"

# The series of the main trends chart, and the foundation types of the foundations chart and section.
MAIN_TYPES = ("all", "social_association", "private_non_enterprise", "foundation")
FOUNDATION_TYPES = ("foundation", "foundation_public", "foundation_nonpublic")
# Chart height in the charts' own units (they are 640 wide): low enough that both charts and the growth
# table share a page.
CHART_HEIGHT = 185
# The ratio chart prints a value beside every dot: taller, so the labels of one year have room.
RATIO_CHART_HEIGHT = 215


def build(ed: Edition) -> dict:
    reg = metrics.registered(ed.con, up_to_year=ed.year)
    if reg.filter(pl.col("period") == "year_end").height == 0:
        return {"trends": {"charts": [], "growth": [], "narrative": []}}
    first_year = int(reg["year"].min())
    drawn = _ratio_chart(ed) + _charts(ed, reg, first_year)
    growth = _growth(ed)
    narrative = _long_view(ed)
    missing = metrics.years_without_registered(ed.con, first_year, ed.year, ed.types)
    if missing:
        narrative.append({"text": say(ed.text["trends"]["gaps"],
                                      years=ed.text["list_sep"].join(str(y) for y in missing)), "cites": []})
    return {"trends": {"charts": drawn, "growth": growth, "narrative": narrative}}


def _charts(ed: Edition, reg: pl.DataFrame, first_year: int) -> list[dict]:
    text, fmt, types = ed.text, ed.fmt, ed.types
    chart_specs = [("registered-main", [t for t in MAIN_TYPES if t in types and t != "foundation"],
                    text["trends"]["chart_main"]),
                   ("registered-foundations", [t for t in FOUNDATION_TYPES if t in types],
                    text["trends"]["chart_foundations"])]
    drawn = []
    for name, chart_types, title in chart_specs:
        frame = reg.filter(pl.col("org_type").is_in(chart_types))
        if frame.height == 0:
            continue
        series = []
        for t in chart_types:
            pts = frame.filter(pl.col("org_type") == t).to_dicts()
            series.append(charts.Series(t, text["org_types"][t], [
                charts.Point(p["as_of"], p["registered"], p["period"] == "year_end") for p in pts]))
        svg = charts.line_chart(series, first_year=first_year, last_year=ed.year, value_label=fmt.axis,
                                font_family=text["font_family"], title=title,
                                other_period_label=text["trends"]["other_period"], height=CHART_HEIGHT,
                                y_title=text["trends"]["y_registered"], gap_label=text["gap"])
        others = frame.filter(pl.col("period") != "year_end").to_dicts()
        drawn.append({"name": name, "svg": svg, "title": title, "cites": ed.cite(*frame["source_id"].to_list()),
                      "source": _source_line(ed, frame["source_id"].to_list()),
                      "alt": say(text["trends"]["alt"], title=title, first=first_year, last=ed.year,
                                 types=", ".join(text["org_types"][t] for t in chart_types
                                                 if t in set(frame["org_type"]))),
                      "others": text["value_sep"].join(
                          say(text["trends"]["other_point"], type=text["org_types"][o["org_type"]],
                              period=text["periods"].get(o["period"], o["period"]),
                              date=fmt.date(o["as_of"], "medium"), value=fmt.count(o["registered"], o["half_unit"]))
                          for o in others)})
    return drawn


def _growth(ed: Edition) -> list[dict]:
    text, fmt = ed.text, ed.fmt
    growth = []
    for g in registered_trends(ed.con, ed.year, [t for t in (*MAIN_TYPES, *FOUNDATION_TYPES[1:]) if t in ed.types]):
        # one figure printed under two year labels by two sources (marts.check_year_on_year) is not growth:
        # the row says so instead of printing +0.0 %
        repeated = g["previous_year"] == g["year"] - 1 and metrics.repeats_previous_year(ed.con, g["year"],
                                                                                          g["org_type"])
        growth.append({
            "type": text["org_types"][g["org_type"]], "year": say(text["trends"]["latest_year"], year=g["year"]),
            "registered": fmt.count(g["registered"], g["half_unit"]),
            "previous": say(text["trends"]["previous"], value=fmt.count(g["previous_registered"],
                                                                        g["previous_half_unit"]),
                            year=g["previous_year"]) if g["previous_year"] else text["gap"],
            "change": text["trends"]["repeated_change"] if repeated else
            fmt.change_pct(g["change_pct"]) if g["change_pct"] is not None else text["gap"],
            "repeated": repeated,
            # a change between counts of two different sources is footnoted, never passed off as growth
            "mixed": bool(g["sources_differ"]) and not repeated,
            "cagr": text["check"]["none"] if repeated else
            fmt.change_pct(g["cagr_pct"]) if g["cagr_pct"] is not None else text["gap"],
            "share": fmt.pct(g["share_of_total_pct"], 1) if g["share_of_total_pct"] is not None else "",
            "cites": ed.cite(g["source_id"], g["previous_source_id"],
                             g["total_source_id"] if g["share_of_total_pct"] is not None else None)})
    return growth


def _long_view(ed: Edition) -> list[dict]:
    """The total's and foundations' change from their first year-end count to the latest."""
    text, fmt = ed.text, ed.fmt
    narrative = []
    for t in [t for t in ("all", "foundation") if t in ed.types]:
        first = metrics.first_registered_year(ed.con, ed.year, t)
        if first is None:
            continue
        g = registered_trends(ed.con, ed.year, [t], since=first)[0]
        if g["previous_year"] is None:
            continue
        direction = "rose" if g["change"] > 0 else "fell" if g["change"] < 0 else "same"
        sentence = say(text["trends"]["span"][direction], type=text["org_types"][t],
                       before=fmt.count(g["previous_registered"], g["previous_half_unit"]),
                       after=fmt.count(g["registered"], g["half_unit"]), since=g["previous_year"], year=g["year"],
                       pct=fmt.change_pct(g["change_pct"]).lstrip("+-"),
                       cagr=fmt.change_pct(g["cagr_pct"]).lstrip("+-"))
        if g["sources_differ"]:
            sentence += text["trends"]["mixed_sentence"]
        narrative.append({"text": sentence, "cites": ed.cite(g["previous_source_id"], g["source_id"])})
    return narrative


def _source_line(ed: Edition, source_ids: list[str]) -> str:
    """The chart's source line: publisher and title of every source it draws from, numbered as cited."""
    return say(ed.text["trends"]["source"], sources=ed.note(*dict.fromkeys(source_ids)))


def _ratio_chart(ed: Edition) -> list[dict]:
    """The participation ratio by type and year up to the edition year (marts.participation): dots
    printed with their value, never joined (the definitions differ between sources and years)."""
    text, fmt = ed.text, ed.fmt
    rows = metrics.participation(ed.con, None, ed.types).filter(
        pl.col("participation_pct").is_not_null() & (pl.col("year") <= ed.year))
    if rows.height == 0:
        return []
    series = [charts.Series(t, text["org_types"][t], [
        charts.Point(r["as_of"], r["participation_pct"], r["period"] == "year_end")
        for r in rows.filter(pl.col("org_type") == t).to_dicts()]) for t in ed.types]
    title = text["trends"]["chart_ratio"]
    first = int(rows["year"].min())       # from the first year with a ratio: earlier years hold none
    svg = charts.line_chart(series, first_year=first, last_year=ed.year,
                            value_label=lambda v: fmt.number(v) + text["percent_sign"],
                            font_family=text["font_family"], title=title,
                            other_period_label=text["trends"]["other_period_ratio"], height=RATIO_CHART_HEIGHT,
                            y_title=text["trends"]["y_ratio"], gap_label=text["gap"], join=False,
                            point_label=fmt.pct)
    sources = [i for ids in rows["source_ids"].to_list() for i in ids]
    return [{"name": "participation-ratio", "svg": svg, "title": title, "cites": ed.cite(*sources),
             "source": _source_line(ed, sources),
             "alt": say(text["trends"]["alt"], title=title, first=first, last=ed.year,
                        types=", ".join(text["org_types"][t] for t in ed.types if t in set(rows["org_type"]))),
             "others": ""}]
