"""Key messages: the three findings page 1 opens with, written from the edition's participation rows
and the register's growth (marts.participation, marts.registered_cagr): the headline ratio, how the
headline type's ratio moved since its last comparable year, and how the register grew."""

from __future__ import annotations

import polars as pl

from .. import metrics
from .edition import Edition
from .figures import registered_trends
from .format import say

KEY = "messages"
# The headline measure every edition leads with when its sources have it: all social organizations.
HEADLINE_TYPE = "all"
# A ratio whose numerator counts fewer organizations than this is called out as resting on few.
FEW_ORGANIZATIONS = 30


def headline_row(ed: Edition) -> dict:
    """The row the edition leads with: all social organizations, else the type with the largest
    register (so the lead is never a small sub-type when a broader one is there)."""
    return next((r for r in ed.rows if r["org_type"] == HEADLINE_TYPE),
                max(ed.rows, key=lambda r: r["registered"]))


def build(ed: Edition) -> dict:
    text, fmt, label = ed.text["messages"], ed.fmt, ed.label
    head = headline_row(ed)
    values = {"type": label[head["org_type"]], "pct": fmt.pct(head["participation_pct"]),
              "engaged": fmt.count(head["engaged_international"]),
              "registered": fmt.count(head["registered"], head["registered_half_unit"]),
              "date": fmt.date(head["as_of"]), "headline_type": label[HEADLINE_TYPE]}
    # a brief of chosen types that leaves out all social organizations does not speak of that measure
    plain = head["org_type"] == HEADLINE_TYPE or HEADLINE_TYPE not in ed.types
    first = say(text["headline" if plain else "headline_other"], **values)
    if head["engaged_international"] < FEW_ORGANIZATIONS:
        first += say(text["few"], engaged=values["engaged"], few=fmt.number(FEW_ORGANIZATIONS))
    messages = [first, _since(ed, head), _register(ed), _since_last_edition(ed)]
    return {"messages": [m for m in messages if m]}


def _since_last_edition(ed: Edition) -> str | None:
    """One line on what changed since the previous warehouse edition, from the same diff as the
    "Since the last edition" section (the edition's audit.edition row); nothing before editions exist."""
    from .. import editions

    stamp = editions.stamp_of(ed.con)
    since = (stamp or {}).get("since_previous")
    if not since:
        return None
    c = since["counts"]
    return say(ed.text["messages"]["since_edition"], number=stamp["number"],
               previous=since["previous"]["number"] or "?", added=ed.fmt.number(c["added"]),
               revised=ed.fmt.number(c["revised"]), removed=ed.fmt.number(c["removed"]))


def _since(ed: Edition, head: dict) -> str | None:
    """The headline type's ratio against its latest earlier year counted the same way."""
    text, fmt = ed.text["messages"], ed.fmt
    earlier = metrics.participation(ed.con, None, [head["org_type"]]).filter(
        pl.col("participation_pct").is_not_null() & (pl.col("year") < ed.year)
        & pl.col("definition").eq_missing(head["definition"]) & (pl.col("period") == head["period"]))
    if earlier.height == 0:
        other = _other_definition(ed, head)
        if other:
            return other
        by_type = [r for r in ed.rows if r["as_of"] == head["as_of"] and r["org_type"] != head["org_type"]]
        if not by_type:
            return say(text["no_earlier"], type=ed.label[head["org_type"]])
        low = min(by_type, key=lambda r: r["participation_pct"])
        high = max(by_type, key=lambda r: r["participation_pct"])
        return say(text["range"], low=fmt.pct(low["participation_pct"]), low_type=ed.label[low["org_type"]],
                   high=fmt.pct(high["participation_pct"]), high_type=ed.label[high["org_type"]])
    e = earlier.sort("year").row(-1, named=True)
    direction = "rose" if head["participation_pct"] > e["participation_pct"] else \
        "fell" if head["participation_pct"] < e["participation_pct"] else "same"
    return say(text["since"][direction], type=ed.label[head["org_type"]], since=e["year"], year=ed.year,
               before=fmt.pct(e["participation_pct"]), after=fmt.pct(head["participation_pct"]),
               before_n=fmt.count(e["engaged_international"]), after_n=fmt.count(head["engaged_international"]))


def _other_definition(ed: Edition, head: dict) -> str | None:
    """Why the headline type's latest earlier ratio, counted under another definition, is not compared:
    what each of the two counts counts (marts.engagement_definitions). An earlier count whose source
    states no definition but which is the sum of parts that do (marts.check_subtotals) is described by
    its parts' definitions."""
    text, fmt = ed.text["messages"], ed.fmt
    earlier = metrics.participation(ed.con, None, [head["org_type"]]).filter(
        pl.col("participation_pct").is_not_null() & (pl.col("year") < ed.year) & (pl.col("period") == head["period"])
        & pl.col("definition_id").ne_missing(head["definition_id"]))
    if earlier.height == 0:
        return None
    e = earlier.sort("as_of").row(-1, named=True)
    return say(text["not_same"], type=ed.label[head["org_type"]], since=e["year"], year=ed.year,
               before_n=fmt.count(e["engaged_international"]), after_n=fmt.count(head["engaged_international"]),
               before_def=_counted_as(ed, e), after_def=_counted_as(ed, head))


def _counted_as(ed: Edition, row: dict) -> str:
    """What a participation row's numerator counts, in the reader's words."""
    text = ed.text["messages"]
    if row["definition_id"] in text["counted_as"]:
        # "all social organizations in the field" would read as every one of them: say "social organizations"
        types = text["all_plain"] if row["org_type"] == HEADLINE_TYPE else ed.label[row["org_type"]]
        return say(text["counted_as"][row["definition_id"]], types=types)
    parts = metrics.engaged_parts(ed.con, row["year"], row["period"], row["as_of"], row["org_type"])
    if parts.height and parts["definition_id"].is_in(list(text["counted_as"])).all():
        by_definition = {}
        for p in parts.iter_rows(named=True):
            by_definition.setdefault(p["definition_id"], []).append(ed.label[p["org_type"]])
        return text["parts_sep"].join(say(text["counted_as"][d], types=ed.text["and_sep"].join(types))
                                      for d, types in by_definition.items())
    return say(text["counted_as_unstated"], types=ed.label[row["org_type"]])


def _register(ed: Edition) -> str | None:
    """All social organizations on the register: the latest count against the previous one."""
    text, fmt = ed.text["messages"], ed.fmt
    if HEADLINE_TYPE not in ed.types:
        return None
    rows = [t for t in registered_trends(ed.con, ed.year, [HEADLINE_TYPE]) if t["previous_year"] is not None]
    if not rows:
        return None
    g = rows[0]
    if metrics.repeats_previous_year(ed.con, ed.year, HEADLINE_TYPE):
        # one figure under two year labels (validation flags it): no change is given, as in the key figures
        return say(ed.text["landscape"]["repeated_label"], type=ed.label[HEADLINE_TYPE], since=g["previous_year"],
                   year=ed.year, before=fmt.count(g["previous_registered"], g["previous_half_unit"]))
    direction = "rose" if g["change"] > 0 else "fell" if g["change"] < 0 else "same"
    return say(text["register"][direction], type=ed.label[HEADLINE_TYPE], since=g["previous_year"], year=g["year"],
               before=fmt.count(g["previous_registered"], g["previous_half_unit"]),
               after=fmt.count(g["registered"], g["half_unit"]), pct=fmt.change_pct(g["change_pct"]).lstrip("+-"))
