"""Key figures and the opening narrative: the headline type's counts and participation ratio, the
total registered, and the change since the previous observation (or since --compare-to)."""

from __future__ import annotations

from .. import metrics
from .edition import Edition
from .figures import registered_trends
from .format import digits, say

KEY = "key"


def build(ed: Edition) -> dict:
    headline = next((r for r in ed.rows if r["org_type"] == "all"), ed.rows[0])
    total_type = "all" if "all" in ed.types else headline["org_type"]
    total = next((t for t in registered_trends(ed.con, ed.year, [total_type], since=ed.compare_to)
                  if t["year"] == ed.year), None)
    change = total if total and total["previous_year"] is not None else None
    repeated = None
    if change and ed.compare_to is None and metrics.repeats_previous_year(ed.con, ed.year, total_type):
        repeated = say(ed.text["landscape"]["repeated_label"], type=ed.label[total_type], since=change["previous_year"],
                       year=ed.year, before=ed.fmt.count(change["previous_registered"], change["previous_half_unit"]))
        change = None   # the "change" would compare one figure with itself under another year label
    key = _cards(ed, headline, total_type, total, change)
    narrative = _narrative(ed, headline, total_type, change)
    if repeated:
        narrative.insert(1, repeated)
    return {"key": key, "narrative": narrative}


def _cards(ed: Edition, headline: dict, total_type: str, total: dict | None, change: dict | None) -> list[dict]:
    text, fmt, label = ed.text, ed.fmt, ed.label
    key = []
    if total:
        key.append({"label": say(text["key"]["registered"], type=label[total_type]),
                    "value": fmt.count(total["registered"], total["half_unit"]),
                    "when": fmt.date(total["as_of"]), "note": ed.note(total["source_id"])})
    key.append({"label": say(text["key"]["engaged"], type=label[headline["org_type"]]),
                "value": fmt.count(headline["engaged_international"]),
                "when": fmt.date(headline["as_of"]), "note": ed.note(headline["engaged_source_id"])})
    key.append({"label": say(text["key"]["ratio"], type=label[headline["org_type"]]),
                "value": fmt.pct(headline["participation_pct"]), "when": fmt.date(headline["as_of"]),
                "note": say(text["key"]["ratio_note"], sources=ed.note(headline["engaged_source_id"],
                                                                       headline["registered_source_id"]))})
    if change:
        key.append({"label": say(text["key"]["change"], type=label[total_type], since=change["previous_year"]),
                    "value": fmt.change_pct(change["change_pct"]),
                    "when": say(text["key"]["change_detail"],
                                before=fmt.count(change["previous_registered"], change["previous_half_unit"]),
                                after=fmt.count(change["registered"], change["half_unit"])),
                    "note": ed.note(change["previous_source_id"], change["source_id"])})
    return key


def _direction(after, before) -> str:
    return "rose" if after > before else "fell" if after < before else "same"


def _narrative(ed: Edition, headline: dict, total_type: str, change: dict | None) -> list[str]:
    text, fmt, label, year = ed.text, ed.fmt, ed.label, ed.year
    narrative = [say(text["narrative"]["headline"], type=label[headline["org_type"]],
                     engaged=fmt.count(headline["engaged_international"]),
                     registered=fmt.count(headline["registered"], headline["registered_half_unit"]),
                     pct=fmt.pct(headline["participation_pct"]), date=fmt.date(headline["as_of"]))]
    if change:
        narrative.append(say(text["narrative"]["change"][_direction(change["change"], 0)], type=label[total_type],
                             before=fmt.count(change["previous_registered"], change["previous_half_unit"]),
                             after=fmt.count(change["registered"], change["half_unit"]),
                             since=change["previous_year"], year=change["year"],
                             pct=fmt.change_pct(change["change_pct"]).lstrip("+-"),
                             cagr=fmt.change_pct(change["cagr_pct"]).lstrip("+-")))
    elif ed.compare_to is not None:
        narrative.append(say(text["narrative"]["no_compare"], type=label[total_type], since=ed.compare_to))
    if ed.compare_to is not None:
        narrative += _engaged_since(ed, headline)
    by_type = [r for r in ed.rows if r["org_type"] != "all" and r["as_of"] == headline["as_of"]]
    if len(by_type) > 1:
        low = min(by_type, key=lambda r: r["participation_pct"])
        high = max(by_type, key=lambda r: r["participation_pct"])
        narrative.append(say(text["narrative"]["range"], low=fmt.pct(low["participation_pct"]),
                             low_type=label[low["org_type"]], high=fmt.pct(high["participation_pct"]),
                             high_type=label[high["org_type"]]))
    for r in ed.rows:
        if r["published_disagrees"]:
            narrative.append(say(text["narrative"]["disagrees"], type=label[r["org_type"]],
                                 published=fmt.pct(r["published_share_pct"], digits(r["published_half_unit"])),
                                 pct=fmt.pct(r["participation_pct"])))
    return narrative


def _engaged_since(ed: Edition, headline: dict) -> list[str]:
    """How the headline type's engaged count moved since --compare-to, when both years count it the
    same way (the same definition); otherwise that the two are not comparable."""
    earlier = metrics.participation(ed.con, ed.compare_to, [headline["org_type"]])
    earlier = earlier.filter(earlier["participation_pct"].is_not_null()).to_dicts()
    if not earlier:
        return []
    e, label = earlier[0], ed.label
    if e["definition"] != headline["definition"]:
        return [say(ed.text["narrative"]["not_comparable"], type=label[headline["org_type"]], since=ed.compare_to)]
    return [say(ed.text["narrative"]["engaged_change"][_direction(headline["engaged_international"],
                                                                  e["engaged_international"])],
                type=label[headline["org_type"]], before=ed.fmt.count(e["engaged_international"]),
                after=ed.fmt.count(headline["engaged_international"]), since=ed.compare_to, year=ed.year,
                points=ed.fmt.points(headline["participation_pct"] - e["participation_pct"]))]
