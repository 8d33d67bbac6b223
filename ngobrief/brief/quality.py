"""Data quality: what validation found about the edition (each failing row as a sentence in the
reader's language), where sources print a figure differently beyond their precision."""

from __future__ import annotations

import datetime as dt
import json
import re

from .. import metrics, validate
from .edition import Edition
from .figures import half_units, source_disagreements
from .format import say

KEY = "quality"
# The foundation types whose public / non-public split the foundations section borrows from the nearest year.
FOUNDATION_SPLIT = ("foundation_public", "foundation_nonpublic")
DISPUTED_MEASURES = ["registered", "engaged_international", "published_share_pct"]


def build(ed: Edition) -> dict:
    text, fmt, cite, year, types = ed.text, ed.fmt, ed.cite, ed.year, ed.types
    findings, elsewhere = [], 0
    printed = printed_years(ed)
    disputed = source_disagreements(ed.con, max(printed), DISPUTED_MEASURES, types)
    # each printing of a disputed figure, so a finding writes it as the edition writes counts (70.2万)
    printings = {(d["year"], d["period"], str(d["as_of"])[:10], d["measure"], d["org_type"], v["source_id"]): v
                 for d in disputed for v in [d["chosen"], *d["others"]]}
    # and the printed precision of every registered count, so a finding writes counts as the edition does
    printings["half_units"] = half_units(ed.con)
    for f in validate.latest_findings(ed.con):
        if not validate.about_figures(f["suite"]):
            continue   # the sources' age: the cover states the vintage
        failing = json.loads(f["unexpected_rows"] or "[]")
        # the rows about figures the edition prints (its year's, every earlier year's, which its charts
        # and tables show, the year its foundations section borrows, and rows naming no year) and the
        # types it covers: a flag goes with its figure into every edition that prints it
        here = [(r, e) for r, e in zip(failing, f["explanations"])
                if (r.get("year") is None or int(r["year"]) in printed) and r.get("org_type", types[0]) in types]
        if failing and not here:
            elsewhere += 1      # a finding about other years or types only: kept in the warehouse
            continue
        findings.append({"severity": text["severity"].get(f["severity"], f["severity"]),
                         "level": f["severity"],
                         "description": _description(f["description"] or f["expectation"], text),
                         "rows": [_finding_row(f["suite"], r, e, text, fmt, cite, printings) for r, e in here]})
    disputes = [_dispute(ed, d) for d in source_disagreements(ed.con, year, DISPUTED_MEASURES, types)]
    return {"quality": {"findings": findings, "other_years": elsewhere, "disputes": disputes}}


def printed_years(ed: Edition) -> set[int]:
    """Years whose figures the edition prints: every year up to its own (trend charts, growth table,
    long view) and the year of the public / non-public foundation split it borrows when its own year
    has none (metrics.nearest_participation_year, as the foundations section reads it)."""
    years = set(range(min(ed.year, *(int(y) for y in metrics.registered(ed.con)["year"])), ed.year + 1))
    split = [t for t in FOUNDATION_SPLIT if t in ed.types]
    near = metrics.nearest_participation_year(ed.con, ed.year, split) if split else None
    return years | ({near} if near is not None else set())


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


def _finding_row(suite: str, row: dict, explanation: str | None, text: dict, fmt, cite,
                 printings: dict | None = None) -> dict:
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
        body = _finding_pattern(suite, row, patterns[suite], text, fmt, printings or {})
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


def _date(as_of, year):
    """The date of a year-on-year row's figure: its own as_of, or the 31 December of the earlier year."""
    if year is None:
        return None
    if as_of and str(as_of)[:4] == str(year):
        return dt.date.fromisoformat(str(as_of)[:10])
    return dt.date(int(year), 12, 31)


def _printing(row: dict, side: str, fmt, printings: dict) -> str | None:
    """A disputed figure as the edition writes counts (in 万 in Chinese where it was rounded), else as printed."""
    v = printings.get((row.get("year"), row.get("period"), str(row.get("as_of"))[:10], row.get("measure"),
                       row.get("org_type"), row.get(f"{side}_source_id")))
    if v is None or row.get("measure") == "published_share_pct":
        return row.get(f"{side}_as_published")
    return fmt.count(v["value"], v["half_unit"])


def _finding_pattern(suite: str, row: dict, pattern, text: dict, fmt, printings: dict) -> str | None:
    """Fill a suite's sentence pattern from a failing row's fields (formatted for the reader)."""
    def number(field):
        return fmt.number(row[field]) if row.get(field) is not None else text["gap"]

    def count(field, year):
        """A registered count in the edition's form (70.2万), other values as plain numbers."""
        half = printings.get("half_units", {}).get((year, row.get("period"), _date(row.get("as_of"), year),
                                                    row.get("org_type")))
        if row.get(field) is None or row.get("measure") != "registered" or half is None:
            return number(field)
        return fmt.count(row[field], half)

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
               value=count("value", row.get("year")), previous=count("previous_value", row.get("previous_year")),
               previous_year=row.get("previous_year"),
               change=fmt.change_pct(row.get("change_pct")), annual=fmt.change_pct(row.get("annual_change_pct")),
               chosen=_printing(row, "chosen", fmt, printings), other=_printing(row, "other", fmt, printings),
               difference=fmt.number(abs(row["difference"])) if row.get("difference") is not None else text["gap"],
               tolerance=number("tolerance"), engaged=number("engaged_international"),
               registered=number("registered"), pct=pct("participation_pct"))

