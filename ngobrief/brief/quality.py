"""Data quality: what validation found about the edition (each failing row as a sentence in the
reader's language), where sources print a figure differently beyond their precision."""

from __future__ import annotations

import json
import re

from .. import validate
from .edition import Edition
from .figures import source_disagreements
from .format import say

KEY = "quality"
DISPUTED_MEASURES = ["registered", "engaged_international", "published_share_pct"]


def build(ed: Edition) -> dict:
    text, fmt, cite, year, types = ed.text, ed.fmt, ed.cite, ed.year, ed.types
    findings, elsewhere = [], 0
    for f in validate.latest_findings(ed.con):
        if not validate.about_figures(f["suite"]):
            continue   # the sources' age: the cover states the vintage
        failing = json.loads(f["unexpected_rows"] or "[]")
        # the edition's rows (validate.rows_about: its year's and those naming no year, which concern
        # every edition) about the types it covers
        shown = validate.rows_about(failing, year)
        here = [(r, e) for r, e in zip(failing, f["explanations"])
                if r in shown and r.get("org_type", types[0]) in types]
        if failing and (not validate.concerns(failing, year) or not here):
            elsewhere += 1      # a finding about other years or types only: kept in the warehouse
            continue
        findings.append({"severity": text["severity"].get(f["severity"], f["severity"]),
                         "level": f["severity"],
                         "description": _description(f["description"] or f["expectation"], text),
                         "rows": [_finding_row(f["suite"], r, e, text, fmt, cite) for r, e in here]})
    disputes = [_dispute(ed, d) for d in source_disagreements(ed.con, year, DISPUTED_MEASURES, types)]
    return {"quality": {"findings": findings, "other_years": elsewhere, "disputes": disputes}}


def _dispute(ed: Edition, d: dict) -> dict:
    """A figure sources print differently: the chosen printing and each other one, with the gap."""
    text, fmt = ed.text, ed.fmt

    def shown(v):
        value = fmt.pct(v["value"]) if d["unit"] == "percent" else fmt.count(v["value"], v["half_unit"])
        # the printing as published when the brief's form of it has other digits (89.13万 as 891,300)
        printed = say(text["quality"]["printed"], as_published=v["as_published"]) \
            if re.sub(r"\D", "", value) != re.sub(r"\D", "", v["as_published"] or value) else ""
        return {"value": value, "printed": printed, "cites": ed.cite(v["source_id"])}
    return {
        "what": say(text["quality"]["dispute"], year=d["year"], type=ed.label.get(d["org_type"], d["org_type"]),
                    measure=text["measures"].get(d["measure"], d["measure"]),
                    period=text["periods"].get(d["period"], d["period"])),
        "chosen": shown(d["chosen"]),
        "others": [{**shown(o), "gap": say(text["quality"]["beyond"], difference=fmt.number(abs(o["difference"])),
                                           tolerance=fmt.number(o["tolerance"]))} for o in d["others"]]}


def _description(description: str, text: dict) -> str:
    """A check's description in the reader's language. Translations are keyed by the suite's English
    text; the numbers of a rule (its bounds) stay in expectations/ and fill the translation's
    {{ numbers }} (in the order the English names them; `first` and `last` pick one)."""
    translated = text["finding_descriptions"].get(description)
    if translated is None:
        return description
    return say(translated, numbers=re.findall(r"\d+(?:\.\d+)?", description))


# Fields of a failing row that name the sources it is about (footnoted instead of written out).
SOURCE_FIELDS = ("source_id", "published_source_id", "previous_source_id", "chosen_source_id", "other_source_id",
                 "engaged_source_id", "registered_source_id", "source_ids", "newest_source")


def _finding_row(suite: str, row: dict, explanation: str | None, text: dict, fmt, cite) -> dict:
    """One failing row of a validation check as a sentence in the reader's language: where it is
    (year, type, measure, period) and what is wrong. In English that is the sentence validation wrote
    (validate.latest_findings' explanations, as in `ngobrief validate` and the HTML report); in
    Chinese, and for rows validation gives no sentence, the content file's pattern for the suite."""
    where = []
    if row.get("year") is not None:
        where.append(say(text["year_pattern"], year=row["year"]))
    if row.get("org_type"):
        where.append(text["org_types"].get(row["org_type"], row["org_type"]))
    if row.get("measure"):
        where.append(text["measures"].get(row["measure"], row["measure"]))
    if row.get("period"):
        period = text["periods"].get(row["period"], row["period"])
        if row.get("as_of") and row["period"] != "year_end":
            period = say(text["quality"]["dated"], period=period, date=fmt.date(row["as_of"], "medium"))
        where.append(period)
    ids = []
    for field in SOURCE_FIELDS:
        value = row.get(field)
        ids += value.split(",") if isinstance(value, str) else list(value or [])
    patterns = text["finding_rows"]
    body = None
    if patterns["explanations"] and row.get("finding") and explanation:
        # validation's sentence starts with the row's codes and sources ("2013 as_of registered
        # foundation (huang-cango): ..."), which the brief says in words and footnotes instead
        head, sep, rest = explanation.partition(": ")
        body = rest if sep and head.startswith(str(row.get("year"))) else explanation
        if row.get("basis") == "chosen_figures" and isinstance(patterns.get(suite), dict):
            body += patterns[suite].get("chosen_figures", "")   # the sentence does not say it
    elif suite in patterns:
        body = _finding_pattern(suite, row, patterns[suite], text, fmt)
    if body is None:
        values = []
        for k, v in row.items():
            if v is None or k in SOURCE_FIELDS or k in ("year", "org_type", "period", "as_of", "measure") \
                    or k not in text["finding_fields"]:
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = fmt.pct(v) if k.endswith("_pct") else fmt.number(v)
            values.append(say(text["quality"]["field"], label=text["finding_fields"][k], value=v))
        body = text["value_sep"].join(values)
    # a row that names no year, type or measure (a survey row) is its values alone, without a colon
    said = text["quality"]["where_sep"].join(where) + (text["colon"] + body if body and where else body or "")
    return {"text": said,
            "cites": cite(*[i.strip() for i in ids if i and i.strip()])}


def _finding_pattern(suite: str, row: dict, pattern, text: dict, fmt) -> str | None:
    """Fill a suite's sentence pattern from a failing row's fields (formatted for the reader)."""
    def number(field):
        return fmt.number(row[field]) if row.get(field) is not None else text["gap"]

    def pct(field):
        return fmt.pct(row[field]) if row.get(field) is not None else text["gap"]

    if suite == "marts_check_subtotals":
        difference, tolerance = row.get("difference"), row.get("tolerance") or 0
        variant = ("incomplete" if row.get("breakdown") == "incomplete" or difference is None else
                   "adds_up" if abs(difference) <= tolerance else
                   "total_exceeds" if difference > 0 else "parts_exceed")
        out = say(pattern[variant], total=number("total"), parts=number("parts_sum"),
                  difference=fmt.number(abs(difference)) if difference is not None else text["gap"],
                  tolerance=number("tolerance"))
        if row.get("breakdown") == "remainder_not_printed":
            out += pattern["remainder_not_printed"]
        if row.get("basis") == "chosen_figures":
            out += pattern["chosen_figures"]
        return out
    if not isinstance(pattern, str):
        return None
    return say(pattern, published=pct("published_share_pct"), recomputed=pct("recomputed_pct"),
               points=fmt.points(row["difference_pct_points"]) if row.get("difference_pct_points") is not None
               else text["gap"],
               value=number("value"), previous=number("previous_value"), previous_year=row.get("previous_year"),
               change=fmt.change_pct(row.get("change_pct")), annual=fmt.change_pct(row.get("annual_change_pct")),
               chosen=row.get("chosen_as_published"), other=row.get("other_as_published"),
               difference=fmt.number(abs(row["difference"])) if row.get("difference") is not None else text["gap"],
               tolerance=number("tolerance"), engaged=number("engaged_international"),
               registered=number("registered"), pct=pct("participation_pct"))

