"""Render stage: figures from the warehouse into an HTML brief (Jinja2) and a tagged PDF (WeasyPrint).

Every number shown comes from the warehouse; the per-language content files in templates/content/
hold labels, sentence patterns and the study summary only, never a figure. The same warehouse and
templates give the same PDF bytes: the PDF's dates come from the data load, not the clock."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import logging
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import charts, config, landscape, metrics, validate
from .errors import NgobriefError

LANGS = ("en", "zh")
# The series of the main trends chart, and the foundation types of the foundations chart and section.
MAIN_TYPES = ("all", "social_association", "private_non_enterprise", "foundation")
FOUNDATION_TYPES = ("foundation", "foundation_public", "foundation_nonpublic")
# Chart height in the charts' own units (they are 640 wide): low enough that both charts and the growth
# table share a page.
CHART_HEIGHT = 185
# The URL prefix under which a render's own charts are served (from memory, never from disk or network).
CHART_SCHEME = "ngobrief-chart:"


class RenderError(NgobriefError):
    pass


def content(lang: str) -> dict:
    path = config.TEMPLATES_DIR / "content" / f"{lang}.yaml"
    if lang not in LANGS or not path.is_file():
        raise RenderError(f"no brief content for language {lang!r}; choose one of {', '.join(LANGS)}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


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


def say(pattern: str, **values) -> str:
    """Fill a content file's sentence pattern with already formatted values (escaped later, in the page)."""
    return Environment(autoescape=False, undefined=StrictUndefined).from_string(pattern).render(**values)


def _env() -> Environment:
    return Environment(loader=FileSystemLoader(config.TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]),
                       undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)


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


# ---- reads: every figure comes from a mart through metrics.py; here it is only selected ----

def data_loaded_at(con) -> dt.datetime:
    """When the figures were loaded: the brief's 'generated' date and the PDF's creation date.

    Derived from the warehouse, not the clock, so the same warehouse always gives the same PDF."""
    loaded = metrics.data_loaded_at(con)
    if loaded is None:
        raise RenderError("the warehouse holds no loaded snapshot: run `ngobrief pull` first")
    return loaded.replace(microsecond=0)


def _half_units(con) -> dict[tuple, float]:
    """The printed precision of every chosen registered count (49.9万 -> 500), by year, period, as_of
    and org_type, so that counts are shown with the digits their source printed."""
    return {(r["year"], r["period"], r["as_of"], r["org_type"]): r["half_unit"]
            for r in metrics.registered(con).iter_rows(named=True)}


def registered_trends(con, year: int, types: list[str], since: int | None = None) -> list[dict]:
    """For each type: its latest year-end count up to `year` and the earlier count it is compared with
    (the previous observation of its series, marts.registered_trends; or the count of year `since`,
    marts.registered_cagr), with the change, the compound annual growth rate over the years between
    (gaps annualized, never filled) and its share of the whole it belongs to. The marts compute every
    rate; this only picks the rows."""
    trend = metrics.registered_trends(con, types=types, period="year_end").filter(pl.col("year") <= year)
    half = _half_units(con)
    rows = []
    for org_type in types:
        series = trend.filter(pl.col("org_type") == org_type)
        if series.height == 0:
            continue
        latest = series.row(-1, named=True)     # metrics orders each series by as_of
        row = {"org_type": org_type, "year": latest["year"], "as_of": latest["as_of"],
               "registered": latest["registered"], "source_id": latest["source_id"],
               "half_unit": half.get((latest["year"], "year_end", latest["as_of"], org_type)),
               "share_of_total_pct": latest["share_of_total_pct"], "total_org_type": latest["total_org_type"],
               "total_source_id": latest["total_source_id"],
               "previous_year": None, "previous_as_of": None, "previous_registered": None,
               "previous_half_unit": None, "previous_source_id": None, "change": None, "change_pct": None,
               "cagr_pct": None, "years_between": None, "sources_differ": None}
        if since is None and latest["prev_year"] is not None:
            row.update(previous_year=latest["prev_year"], previous_as_of=latest["prev_as_of"],
                       previous_registered=latest["prev_registered"], previous_source_id=latest["prev_source_id"],
                       change=latest["change_abs"], change_pct=latest["change_pct"], cagr_pct=latest["cagr_pct"],
                       years_between=latest["years_between"], sources_differ=latest["sources_differ"])
        elif since is not None and since < latest["year"]:
            growth = metrics.cagr_between(con, since, latest["year"], org_type, "year_end")
            if growth is not None:
                row.update(previous_year=growth.start_year, previous_as_of=growth.start_as_of,
                           previous_registered=growth.start_registered, previous_source_id=growth.start_source_id,
                           change=growth.change_abs, change_pct=growth.change_pct, cagr_pct=growth.cagr_pct,
                           years_between=growth.years_between, sources_differ=growth.sources_differ)
        if row["previous_year"] is not None:
            row["previous_half_unit"] = half.get((row["previous_year"], "year_end", row["previous_as_of"], org_type))
        rows.append(row)
    return rows


def source_disagreements(con, up_to_year: int, measures: list[str], types: list[str]) -> list[dict]:
    """Figures up to `up_to_year` that several sources print differently beyond the precision each
    printed (marts.source_disagreements), one entry per figure: the printing the marts chose (by
    source priority) and every other printing that does not agree with it."""
    pairs = metrics.source_disagreements(con, up_to_year, measures, types)
    out = []
    for keys, group in pairs.group_by(["year", "period", "as_of", "measure", "org_type"], maintain_order=True):
        g = group.to_dicts()
        out.append({"year": keys[0], "period": keys[1], "as_of": keys[2], "measure": keys[3], "org_type": keys[4],
                    "unit": g[0]["unit"],
                    "chosen": {"source_id": g[0]["chosen_source_id"], "value": g[0]["chosen_value"],
                               "as_published": g[0]["chosen_as_published"], "half_unit": g[0]["chosen_half_unit"]},
                    "others": [{"source_id": r["other_source_id"], "value": r["other_value"],
                                "as_published": r["other_as_published"], "half_unit": r["other_half_unit"],
                                "difference": r["difference"], "tolerance": r["tolerance"]} for r in g]})
    return out


def register_foundations(con, year: int) -> dict | None:
    """The foundation register (RICF) for the foundations section: its groups from
    marts.register_foundations_by_group, from the register whose record year is nearest the edition
    year (the earlier one on a tie). None when no register is loaded. The brief labels a register of
    another year with its own year (see docs/brief.md)."""
    years = metrics.register_years(con)
    if not years:
        return None
    record_year = min(years, key=lambda y: (abs(y - year), y))
    groups = metrics.register_foundations_by_group(con, record_year)

    def grouped(by: str) -> list[dict]:
        return groups.filter(pl.col("grouped_by") == by).to_dicts()

    overall = grouped("all")[0]
    return {"record_year": record_year, "overall": overall, "by_type": grouped("org_type"),
            "by_scope": grouped("scope"), "by_type_scope": grouped("org_type, scope"),
            "by_province": grouped("province"), "source_id": overall["source_id"],
            "citation": overall["citation"]}


# ---- the brief, section by section, in page order (citations are numbered as they appear) ----

def _types_for(con, year: int, types: list[str] | None) -> list[str]:
    known = list(metrics.TYPE_ORDER)
    if types:
        unknown = [t for t in types if t not in known]
        if unknown:
            raise RenderError(f"unknown organization type(s) {', '.join(unknown)}; choose from {', '.join(known)}")
        return [t for t in known if t in types]
    return known


def _with_half_units(con, rows: list[dict]) -> list[dict]:
    """Attach the printed precision of each row's registered count (49.9万 -> ± 500)."""
    half = _half_units(con)
    return [{**r, "registered_half_unit": half.get((r["year"], r["period"], r["as_of"], r["org_type"]))}
            for r in rows]


def _short_source(source: dict | None, n: int) -> str:
    """Publisher and title (up to its first ';') with the source's number in the list of sources."""
    if not source:
        return f"[{n}]"
    return f"{source['publisher']}, {source['title'].split(';')[0].strip()} [{n}]"


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
                 "engaged_source_id", "registered_source_id", "source_ids")


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
    return {"text": text["quality"]["where_sep"].join(where) + (text["colon"] + body if body else ""),
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


def brief_context(con, year: int, lang: str, types: list[str] | None = None,
                  compare_to: int | None = None) -> dict:
    text = content(lang)
    if not metrics.has_figures(con):
        raise RenderError("the warehouse holds no figures yet: run `ngobrief run` (or `ngobrief pull`) first")
    fmt = Formatter(text["locale"], text.get("wan_unit"))
    cite = Citations()
    types = _types_for(con, year, types)
    label = text["org_types"]
    if compare_to is not None and compare_to >= year:
        raise RenderError(f"--compare-to {compare_to} must be earlier than the edition year {year}")

    part = metrics.participation(con, year, types)
    if part.filter(pl.col("participation_pct").is_not_null()).height == 0:
        every = metrics.participation(con, None, types).filter(pl.col("participation_pct").is_not_null())
        years = ", ".join(str(y) for y in sorted(set(every["year"]))) or "none"
        raise RenderError(f"no participation figures for {year} and types {', '.join(types)}: the warehouse "
                          f"holds both counts for these types only in: {years}")
    rows = _with_half_units(con, part.filter(pl.col("participation_pct").is_not_null()).to_dicts())
    known_sources = {s["source_id"]: s for s in metrics.sources_used(con, metrics.known_sources(con)).to_dicts()}

    def note(*source_ids) -> str:
        ids = [i for i in dict.fromkeys(source_ids) if i]
        return text["value_sep"].join(_short_source(known_sources.get(i), cite(i)[0]) for i in ids)
    registered_year = metrics.registered(con, year).filter(pl.col("org_type").is_in(types))
    loaded_at = data_loaded_at(con)
    as_of_dates = [r["as_of"] for r in rows] + registered_year["as_of"].to_list()
    covered = [t for t in types if t in {r["org_type"] for r in rows} | set(registered_year["org_type"])]

    # Cover
    cover = {
        "edition": say(text["cover"]["edition"], year=year),
        "as_of": say(text["cover"]["as_of"], date=fmt.date(max(as_of_dates))),
        "generated": say(text["cover"]["generated"], date=fmt.date(loaded_at)),
        "types": [label[t] for t in covered],
    }

    # Key figures: the headline type's counts and ratio; the total registered; the change since Y0.
    headline = next((r for r in rows if r["org_type"] == "all"), rows[0])
    total_type = "all" if "all" in types else headline["org_type"]
    since = registered_trends(con, year, [total_type], since=compare_to)
    total = next((t for t in since if t["year"] == year), None)
    key = []
    if total:
        key.append({"label": say(text["key"]["registered"], type=label[total_type]),
                    "value": fmt.count(total["registered"], total["half_unit"]),
                    "when": fmt.date(total["as_of"]), "note": note(total["source_id"])})
    key.append({"label": say(text["key"]["engaged"], type=label[headline["org_type"]]),
                "value": fmt.count(headline["engaged_international"]),
                "when": fmt.date(headline["as_of"]), "note": note(headline["engaged_source_id"])})
    key.append({"label": say(text["key"]["ratio"], type=label[headline["org_type"]]),
                "value": fmt.pct(headline["participation_pct"]), "when": fmt.date(headline["as_of"]),
                "note": say(text["key"]["ratio_note"], sources=note(headline["engaged_source_id"],
                                                                    headline["registered_source_id"]))})
    narrative = [say(text["narrative"]["headline"], type=label[headline["org_type"]],
                     engaged=fmt.count(headline["engaged_international"]),
                     registered=fmt.count(headline["registered"], headline["registered_half_unit"]),
                     pct=fmt.pct(headline["participation_pct"]), date=fmt.date(headline["as_of"]))]
    change = total if total and total["previous_year"] is not None else None
    if change and compare_to is None and metrics.repeats_previous_year(con, year, total_type):
        narrative.append(say(text["landscape"]["repeated_label"], type=label[total_type], since=change["previous_year"],
                             year=year, before=fmt.count(change["previous_registered"], change["previous_half_unit"])))
        change = None   # the "change" would compare one figure with itself under another year label
    if change:
        key.append({"label": say(text["key"]["change"], type=label[total_type], since=change["previous_year"]),
                    "value": fmt.change_pct(change["change_pct"]),
                    "when": say(text["key"]["change_detail"],
                                before=fmt.count(change["previous_registered"], change["previous_half_unit"]),
                                after=fmt.count(change["registered"], change["half_unit"])),
                    "note": note(change["previous_source_id"], change["source_id"])})
        direction = "rose" if change["change"] > 0 else "fell" if change["change"] < 0 else "same"
        narrative.append(say(text["narrative"]["change"][direction], type=label[total_type],
                             before=fmt.count(change["previous_registered"], change["previous_half_unit"]),
                             after=fmt.count(change["registered"], change["half_unit"]),
                             since=change["previous_year"], year=change["year"],
                             pct=fmt.change_pct(change["change_pct"]).lstrip("+-"),
                             cagr=fmt.change_pct(change["cagr_pct"]).lstrip("+-")))
    elif compare_to is not None:
        narrative.append(say(text["narrative"]["no_compare"], type=label[total_type], since=compare_to))
    if compare_to is not None:
        earlier = metrics.participation(con, compare_to, [headline["org_type"]])
        earlier = earlier.filter(pl.col("participation_pct").is_not_null()).to_dicts()
        if earlier and earlier[0]["definition"] == headline["definition"]:
            e = earlier[0]
            direction = "rose" if headline["engaged_international"] > e["engaged_international"] else \
                "fell" if headline["engaged_international"] < e["engaged_international"] else "same"
            narrative.append(say(text["narrative"]["engaged_change"][direction], type=label[headline["org_type"]],
                                 before=fmt.count(e["engaged_international"]),
                                 after=fmt.count(headline["engaged_international"]), since=compare_to, year=year,
                                 points=fmt.points(headline["participation_pct"] - e["participation_pct"])))
        elif earlier:
            narrative.append(say(text["narrative"]["not_comparable"], type=label[headline["org_type"]],
                                 since=compare_to))
    by_type = [r for r in rows if r["org_type"] != "all" and r["as_of"] == headline["as_of"]]
    if len(by_type) > 1:
        low = min(by_type, key=lambda r: r["participation_pct"])
        high = max(by_type, key=lambda r: r["participation_pct"])
        narrative.append(say(text["narrative"]["range"], low=fmt.pct(low["participation_pct"]),
                             low_type=label[low["org_type"]], high=fmt.pct(high["participation_pct"]),
                             high_type=label[high["org_type"]]))
    for r in rows:
        if r["published_disagrees"]:
            narrative.append(say(text["narrative"]["disagrees"], type=label[r["org_type"]],
                                 published=fmt.pct(r["published_share_pct"], _digits(r["published_half_unit"])),
                                 pct=fmt.pct(r["participation_pct"])))

    # Participation by type (great_tables)
    participation = {"table": _participation_table(rows, text, fmt, cite), "definitions": [],
                     "no_engagement": landscape.no_engagement(types, {r["org_type"] for r in rows}, label, text,
                                                              year, say)}
    for d in dict.fromkeys(r["definition"] for r in rows if r["definition"]):
        participation["definitions"].append({
            "types": text["list_sep"].join(label[r["org_type"]] for r in rows if r["definition"] == d),
            "text": text["definition_glosses"].get(d, d)})

    # Trends: registered by type over the observed years up to the edition year
    trends = _trends(con, year, types, text, fmt, cite)
    # Where the international field stands among fields, and foreign NGOs in China (context)
    fields_and_inbound = landscape.landscape(con, year, text, fmt, cite, say)

    # Foundations
    has_foundations = any(t.startswith("foundation") for t in types)
    foundations = _foundations(con, year, types, text, fmt, cite) if has_foundations else None
    register = _register(register_foundations(con, year), year, types, text, fmt, cite) if has_foundations else None

    # Context: the survey's sector priorities and the study's hurdles and recommendations
    survey = metrics.survey_priorities(con).to_dicts()
    study = metrics.sources_used(con, [text["context"]["source_id"]]).to_dicts()
    context = {
        "priorities": [{"band": band, "sectors": list(items)} for band, items in itertools.groupby(
            [_priority(r, text, fmt) for r in survey], key=lambda p: p["band"])],
        "priorities_cites": cite(*[r["source_id"] for r in survey]),
        "study": say(text["context"]["study"], author=study[0]["publisher"], published=study[0]["published"])
        if study else "",
        "study_cites": cite(text["context"]["source_id"]) if study else [],
    }

    # Data quality: what validation found, where sources disagree, definitions that differ
    findings, elsewhere = [], 0
    for f in validate.latest_findings(con):
        failing = json.loads(f["unexpected_rows"] or "[]")
        here = [(r, e) for r, e in zip(failing, f["explanations"])
                if str(r.get("year")) == str(year) and r.get("org_type", types[0]) in types]
        if failing and not here:
            elsewhere += 1      # a finding about other years or types only: kept in the warehouse
            continue
        findings.append({"severity": text["severity"].get(f["severity"], f["severity"]),
                         "level": f["severity"],
                         "description": _description(f["description"] or f["expectation"], text),
                         "rows": [_finding_row(f["suite"], r, e, text, fmt, cite) for r, e in here]})
    disputes = []
    for d in source_disagreements(con, year, ["registered", "engaged_international", "published_share_pct"], types):
        def shown(v):
            value = fmt.pct(v["value"]) if d["unit"] == "percent" else fmt.count(v["value"], v["half_unit"])
            # the printing as published when the brief's form of it has other digits (89.13万 as 891,300)
            printed = say(text["quality"]["printed"], as_published=v["as_published"]) \
                if re.sub(r"\D", "", value) != re.sub(r"\D", "", v["as_published"] or value) else ""
            return {"value": value, "printed": printed, "cites": cite(v["source_id"])}
        disputes.append({
            "what": say(text["quality"]["dispute"], year=d["year"], type=label.get(d["org_type"], d["org_type"]),
                        measure=text["measures"].get(d["measure"], d["measure"]),
                        period=text["periods"].get(d["period"], d["period"])),
            "chosen": shown(d["chosen"]),
            "others": [{**shown(o), "gap": say(text["quality"]["beyond"], difference=fmt.number(abs(o["difference"])),
                                               tolerance=fmt.number(o["tolerance"]))} for o in d["others"]]})
    quality = {"findings": findings, "other_years": elsewhere, "disputes": disputes}

    # Sources and method
    sources = metrics.sources_used(con, cite.order).to_dicts()
    by_id = {s["source_id"]: s for s in sources}
    source_list = []
    for i, sid in enumerate(cite.order):
        s = by_id.get(sid, {"source_id": sid, "publisher": sid, "title": "", "url": None, "published": "",
                            "kind": ""})
        source_list.append({"n": i + 1, **s, "link": link_target(s["url"]),
                            "line": say(text["source_line"], publisher=s["publisher"],
                                                          title=s["title"], published=s["published"],
                                                          kind=text["source_kinds"].get(s["kind"], s["kind"]))})

    title = say(text["pdf_title"], year=year)
    return {
        "lang": lang, "year": year, "text": text, "title": title, "cover": cover,
        "key": key, "narrative": narrative, "participation": participation, "trends": trends,
        "landscape": fields_and_inbound,
        "foundations": foundations, "register": register, "context": context,
        "quality": quality, "sources": source_list, "types": types, "compare_to": compare_to,
        "created": loaded_at.isoformat() + "Z",
        "font_family": text["font_family"],
    }


def link_target(url: str | None) -> str | None:
    """A source URL the brief may link to: http(s) with a host only. Any other (javascript:, file:,
    data:, a bare path) is shown as text and never becomes a link."""
    from urllib.parse import urlsplit

    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _digits(half_unit) -> int:
    """Decimals a published percentage was printed with (half a unit of 0.005 -> 2)."""
    if not half_unit:
        return 2
    return max(0, round(-math.log10(2 * half_unit)))


def _cite_text(numbers: list[int]) -> str:
    return "[" + ", ".join(str(n) for n in numbers) + "]" if numbers else ""


def _participation_table(rows: list[dict], text: dict, fmt: Formatter, cite: Citations) -> Markup:
    """The participation table, built with great_tables (it escapes every cell)."""
    from great_tables import GT, loc, style

    col = text["columns"]
    frame = pl.DataFrame({
        "org_type": [text["org_types"][r["org_type"]] for r in rows],
        "as_of": [fmt.date(r["as_of"], "medium") for r in rows],
        "engaged": [fmt.count(r["engaged_international"]) for r in rows],
        "registered": [fmt.count(r["registered"], r["registered_half_unit"]) for r in rows],
        "pct": [fmt.pct(r["participation_pct"]) for r in rows],
        "published": [fmt.pct(r["published_share_pct"], _digits(r["published_half_unit"]))
                      if r["published_share_pct"] is not None else None for r in rows],
        "check": [text["check"]["none"] if r["published_disagrees"] is None else
                  text["check"]["disagrees"] if r["published_disagrees"] else text["check"]["agrees"] for r in rows],
        "sources": [_cite_text(cite(r["source_ids"])) for r in rows],
    }, schema={k: pl.String for k in ("org_type", "as_of", "engaged", "registered", "pct", "published", "check",
                                      "sources")})
    flagged = [i for i, r in enumerate(rows) if r["published_disagrees"]]
    gt = (GT(frame, id="participation-table")
          .cols_label(org_type=col["org_type"], as_of=col["as_of"], engaged=col["engaged"],
                      registered=col["registered"], pct=col["pct"], published=col["published"],
                      check=col["check"], sources=col["sources"])
          .tab_spanner(label=col["counts"], columns=["engaged", "registered"])
          .tab_spanner(label=col["ratios"], columns=["pct", "published", "check"])
          .cols_align(align="right", columns=["engaged", "registered", "pct", "published"])
          .sub_missing(missing_text=text["gap"])
          .tab_source_note(text["participation_note"])
          .opt_table_font(font=text["font_family"])
          .tab_options(table_width="100%", table_font_size="8.5pt", column_labels_font_weight="bold",
                       table_border_top_color="#0b3d62", column_labels_border_bottom_color="#333333",
                       table_body_hlines_color="#dddddd", data_row_padding="3px", source_notes_font_size="7.5pt"))
    if flagged:
        gt = gt.tab_style(style=[style.fill(color="#fff1dc"), style.text(color="#8a4b00")],
                          locations=loc.body(rows=flagged))
    return Markup(gt.as_raw_html())


def _priority(r: dict, text: dict, fmt: Formatter) -> dict:
    m = re.fullmatch(r"(above|below)_(\d+)pct", r["support_band"] or "")
    band = say(text["context"]["bands"][m.group(1)], threshold=fmt.pct(float(m.group(2)), 0)) if m else r["support_band"]
    sector = r["sector_zh"] if text["lang"] == "zh" else r["sector_en"][:1].upper() + r["sector_en"][1:]
    return {"rank": r["rank"], "sector": sector, "band": band, "above": bool(m and m.group(1) == "above"),
            "support": say(text["context"]["support"], pct=fmt.pct(r["support_pct"]))
            if r["support_pct"] is not None else ""}


def _trends(con, year, types, text, fmt, cite) -> dict:
    reg = metrics.registered(con).filter(pl.col("year") <= year)
    main = [t for t in MAIN_TYPES if t in types and t != "foundation"]
    found = [t for t in FOUNDATION_TYPES if t in types]
    year_end = reg.filter(pl.col("period") == "year_end")
    if year_end.height == 0:
        return {"charts": [], "growth": [], "narrative": []}
    first_year = int(reg["year"].min())
    chart_specs = [("registered-main", main, text["trends"]["chart_main"]),
                   ("registered-foundations", found, text["trends"]["chart_foundations"])]
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
        svg = charts.line_chart(series, first_year=first_year, last_year=year, value_label=fmt.axis,
                                font_family=text["font_family"], title=title,
                                other_period_label=text["trends"]["other_period"], height=CHART_HEIGHT)
        others = frame.filter(pl.col("period") != "year_end").to_dicts()
        drawn.append({"name": name, "svg": svg, "title": title, "cites": cite(*frame["source_id"].to_list()),
                      "alt": say(text["trends"]["alt"], title=title, first=first_year, last=year,
                                 types=", ".join(text["org_types"][t] for t in chart_types
                                                 if t in set(frame["org_type"]))),
                      "others": text["value_sep"].join(say(text["trends"]["other_point"], type=text["org_types"][o["org_type"]],
                                     period=text["periods"].get(o["period"], o["period"]),
                                     date=fmt.date(o["as_of"], "medium"),
                                     value=fmt.count(o["registered"], o["half_unit"]))
                                 for o in others)})
    growth, narrative = [], []
    for g in registered_trends(con, year, [t for t in (*MAIN_TYPES, *FOUNDATION_TYPES[1:]) if t in types]):
        growth.append({
            "type": text["org_types"][g["org_type"]], "year": say(text["trends"]["latest_year"], year=g["year"]),
            "registered": fmt.count(g["registered"], g["half_unit"]),
            "previous": say(text["trends"]["previous"], value=fmt.count(g["previous_registered"],
                                                                        g["previous_half_unit"]),
                            year=g["previous_year"]) if g["previous_year"] else text["gap"],
            "change": fmt.change_pct(g["change_pct"]) if g["change_pct"] is not None else text["gap"],
            "cagr": fmt.change_pct(g["cagr_pct"]) if g["cagr_pct"] is not None else text["gap"],
            "share": fmt.pct(g["share_of_total_pct"], 1) if g["share_of_total_pct"] is not None else "",
            "cites": cite(g["source_id"], g["previous_source_id"],
                          g["total_source_id"] if g["share_of_total_pct"] is not None else None)})
    # The long view for the total and for foundations: first to latest year-end count.
    for t in [t for t in ("all", "foundation") if t in types]:
        span = year_end.filter(pl.col("org_type") == t)
        if span.height < 2:
            continue
        g = registered_trends(con, year, [t], since=int(span["year"].min()))[0]
        if g["previous_year"] is None:
            continue
        direction = "rose" if g["change"] > 0 else "fell" if g["change"] < 0 else "same"
        sentence = say(text["trends"]["span"][direction], type=text["org_types"][t],
                       before=fmt.count(g["previous_registered"], g["previous_half_unit"]),
                       after=fmt.count(g["registered"], g["half_unit"]), since=g["previous_year"], year=g["year"],
                       pct=fmt.change_pct(g["change_pct"]).lstrip("+-"),
                       cagr=fmt.change_pct(g["cagr_pct"]).lstrip("+-"))
        narrative.append({"text": sentence, "cites": cite(g["previous_source_id"], g["source_id"])})
    observed = sorted(set(year_end.filter(pl.col("org_type").is_in(types))["year"].to_list()))
    missing = [y for y in range(first_year, year + 1) if y not in observed]
    if missing:
        narrative.append({"text": say(text["trends"]["gaps"], years=text["list_sep"].join(str(y) for y in missing)),
                      "cites": []})
    return {"charts": drawn, "growth": growth, "narrative": narrative}


def _foundations(con, year, types, text, fmt, cite) -> dict:
    label = text["org_types"]
    part = metrics.participation(con, None, [t for t in FOUNDATION_TYPES if t in types])
    part = part.filter(pl.col("participation_pct").is_not_null())
    this_year = part.filter(pl.col("year") == year)
    split = this_year.filter(pl.col("org_type") != "foundation")
    nearest = None
    if split.height == 0:
        # No public / non-public split this year: show the observation nearest to the edition year.
        other = part.filter(pl.col("org_type") != "foundation")
        if other.height:
            near_year = min(set(other["year"]), key=lambda y: (abs(y - year), y))
            nearest = near_year
            this_year = pl.concat([this_year, part.filter(pl.col("year") == near_year)])
    rows = []
    for r in _with_half_units(con, this_year.to_dicts()):
        rows.append({"type": label[r["org_type"]], "as_of": fmt.date(r["as_of"], "medium"),
                     "engaged": fmt.count(r["engaged_international"]),
                     "registered": fmt.count(r["registered"], r["registered_half_unit"]),
                     "pct": fmt.pct(r["participation_pct"]),
                     "definition": text["definition_glosses"].get(r["definition"], r["definition"] or ""),
                     "cites": cite(r["source_ids"])})
    sentences = []
    by_type = {r["org_type"]: r for r in this_year.to_dicts()}
    if "foundation_public" in by_type and "foundation_nonpublic" in by_type:
        pub, non = by_type["foundation_public"], by_type["foundation_nonpublic"]
        sentences.append({"text": say(text["foundations"]["split"], date=fmt.date(pub["as_of"]),
                                      public=fmt.count(pub["engaged_international"]),
                                      public_pct=fmt.pct(pub["participation_pct"]),
                                      nonpublic=fmt.count(non["engaged_international"]),
                                      nonpublic_pct=fmt.pct(non["participation_pct"])),
                          "cites": cite(pub["source_ids"], non["source_ids"])})
    if nearest is not None:
        sentences.insert(0, {"text": say(text["foundations"]["nearest"], year=year, nearest=nearest), "cites": []})
    register = metrics.registered(con, year).filter(pl.col("org_type").str.starts_with("foundation_")).to_dicts()
    breakdown = [{"type": label[r["org_type"]], "value": fmt.count(r["registered"], r["half_unit"]),
                  "as_of": fmt.date(r["as_of"], "medium"), "cites": cite(r["source_id"])} for r in register]
    projects = {r["measure"]: r for r in metrics.figures(
        con, ["foundations_with_overseas_projects", "overseas_projects", "overseas_project_countries"], year).to_dicts()}
    if len(projects) == 3:
        f, p, c = (projects[m] for m in ("foundations_with_overseas_projects", "overseas_projects",
                                         "overseas_project_countries"))
        sentences.append({"text": say(text["foundations"]["projects"], foundations=fmt.count(f["value"]),
                                      projects=fmt.count(p["value"]), countries=fmt.count(c["value"]), year=year),
                          "cites": cite(f["source_id"], p["source_id"], c["source_id"])})
    definitions = [{"as_of": text["list_sep"].join(dict.fromkeys(r["as_of"] for r in rows if r["definition"] == d)),
                    "text": d} for d in dict.fromkeys(r["definition"] for r in rows if r["definition"])]
    return {"rows": rows, "sentences": sentences, "breakdown": breakdown, "definitions": definitions}


# How many provinces the register section names (more when several tie with the last).
REGISTER_PROVINCES = 5


def _register(reg: dict | None, year: int, types: list[str], text: dict, fmt: Formatter, cite) -> dict | None:
    """The register part of the foundations section: sentences, a table by type and scope, the
    provinces with the most internationally focused foundations, and the register's citation."""
    if reg is None:
        return None
    words, label, record_year = text["register"], text["org_types"], reg["record_year"]
    cites = cite(reg["source_id"])

    def counts(g: dict | None, prefix: str = "") -> dict:
        if g is None:
            return {f"{prefix}foundations": text["gap"], f"{prefix}international": text["gap"], f"{prefix}pct": ""}
        return {f"{prefix}foundations": fmt.count(g["foundations"]),
                f"{prefix}international": fmt.count(g["international_focus"]),
                f"{prefix}pct": fmt.pct(g["international_focus_pct"])}

    sentences = []
    if record_year != year:
        sentences.append(say(words["other_year"], record_year=record_year, year=year))
    by_type = {g["org_type"]: g for g in reg["by_type"]}
    by_scope = {g["scope"]: g for g in reg["by_scope"]}
    if "foundation" in types:
        sentences.append(say(words["overall"], record_year=record_year, **counts(reg["overall"])))
    if "foundation" in types and {"national", "local"} <= set(by_scope):
        sentences.append(say(words["by_scope"], **counts(by_scope["national"], "national_"),
                             **counts(by_scope["local"], "local_")))
    cells = {(g["org_type"], g["scope"]): g for g in reg["by_type_scope"]}
    cells.update({(t, "all"): g for t, g in by_type.items()})
    cells.update({("foundation", s): g for s, g in by_scope.items()})
    cells[("foundation", "all")] = reg["overall"]
    rows = [{"type": label[t], "total": t == "foundation",
             "cells": [say(words["cell"], **counts(cells[(t, s)])) if (t, s) in cells else text["gap"]
                       for s in ("national", "local", "all")]}
            for t in ("foundation_public", "foundation_nonpublic", "foundation") if t in types]
    provinces = []
    if "foundation" in types:
        ranked = [g for g in reg["by_province"] if g["international_focus"] > 0]   # metrics ranks them
        if len(ranked) > REGISTER_PROVINCES:
            last = ranked[REGISTER_PROVINCES - 1]["international_focus"]
            ranked = [g for g in ranked if g["international_focus"] >= last]
        provinces = [say(words["province"], province=words["provinces"].get(g["province"], g["province"]),
                         **counts(g)) for g in ranked]
    return {"title": say(words["title"], record_year=record_year), "cites": cites, "sentences": sentences,
            "rows": rows, "provinces": provinces, "citation": reg["citation"]}


def render_html(ctx: dict) -> str:
    return _env().get_template("brief.html.j2").render(**ctx)


@dataclass
class Brief:
    path: Path
    inputs_sha256: str
    pdf_sha256: str
    pages: int = 0


class LocalOnlyFetcher:
    """Serve only files under the allowed folders and this render's own charts; every other URL fails
    the render."""

    def __init__(self, allowed: list[Path], charts: dict[str, str] | None = None):
        from weasyprint.urls import URLFetcher

        self.allowed = [p.resolve() for p in allowed]
        self.charts = dict(charts or {})
        self.calls: list[str] = []
        self._inner = URLFetcher(allowed_protocols={"file"}, fail_on_errors=True)

    def __call__(self, url: str):
        from urllib.parse import unquote, urlparse

        from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse

        self.calls.append(url)
        if url.startswith(CHART_SCHEME):
            name = url[len(CHART_SCHEME):]
            if name not in self.charts:
                raise FatalURLFetchingError(f"refused to fetch {url}: this render drew no chart {name!r}")
            return URLFetcherResponse(url, self.charts[name].encode("utf-8"),
                                      {"Content-Type": "image/svg+xml"})
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not any(path.is_relative_to(a) for a in self.allowed):
            raise FatalURLFetchingError(f"refused to fetch {url}: briefs may only use files from templates/")
        return self._inner.fetch(url)

    _fail_on_errors = True


class _RenderProblems(logging.Handler):
    """Collects what WeasyPrint only logs but a brief must not contain: a glyph no font has (drawn as
    a .notdef box, 'tofu') and errors such as an image that failed to load."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.problems: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if record.levelno >= logging.ERROR or ".notdef" in message:
            self.problems.append(message)


def write_pdf(html: str, out: Path, *, charts: dict[str, str] | None = None,
              extra_allowed: list[Path] | None = None) -> int:
    """Write the tagged PDF (PDF/UA-1); returns its page count. Fails rather than write a PDF with a
    missing glyph or a missing image."""
    from weasyprint import HTML

    fetcher = LocalOnlyFetcher([config.TEMPLATES_DIR, *(extra_allowed or [])], charts)
    watch = _RenderProblems()
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(min(level or logging.WARNING, logging.WARNING))
    logger.addHandler(watch)
    try:
        doc = HTML(string=html, base_url=str(config.TEMPLATES_DIR) + "/", url_fetcher=fetcher).render(
            pdf_variant="pdf/ua-1")
        pdf = doc.write_pdf(pdf_variant="pdf/ua-1", uncompressed_pdf=False)
    finally:
        logger.removeHandler(watch)
        logger.setLevel(level)
    if watch.problems:
        raise RenderError("the brief would not render cleanly: " + "; ".join(dict.fromkeys(watch.problems)))
    guard_out(out)
    _replace_file(out, pdf)
    return len(doc.pages)


def _replace_file(out: Path, content: bytes) -> None:
    """Write `out` as a new file that replaces the old name at once: a reader never sees half a PDF, and
    the file the name pointed to before (through a symlink or a hard link) is never written into; a
    full disk leaves the previous brief whole."""
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:   # a failed write() names no file: name the brief
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(out)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def protected_folders() -> list[tuple[Path, str]]:
    """Folders a brief may never be written into, with how a message names them: the data folder in
    use (NGOBRIEF_DATA or data/), the repository's own data/, the templates, SQL and expectations."""
    folders = [(config.DATA_DIR, "data/" if config.DATA_DIR.resolve() == (config.ROOT / "data").resolve()
                else f"the data folder {config.DATA_DIR} (NGOBRIEF_DATA)"),
               (config.ROOT / "data", "data/"), (config.TEMPLATES_DIR, "templates/"), (config.SQL_DIR, "sql/"),
               (config.EXPECTATIONS_DIR, "expectations/")]
    seen, out = set(), []
    for folder, label in folders:
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            out.append((folder.resolve(), label))
    return out


def guard_out(out: Path) -> None:
    """Never write a brief over the data (a source snapshot, the manifest), the templates or the SQL:
    not by a path under them, not through a symlink or `..` leading there, not through a hard link
    to one of their files. Nor over any file that is not a PDF already (the warehouse, a CSV, ...):
    a brief replaces an earlier brief, nothing else."""
    resolved = Path(out).resolve()
    folders = protected_folders()
    for folder, label in folders:
        if resolved.is_relative_to(folder):
            raise RenderError(f"refusing to write {out}: it lies under {label}, which holds sources; "
                              "choose an --out outside it")
    try:
        st = os.stat(resolved)
    except OSError:
        return
    if st.st_nlink > 1:   # another name for the same file: is that name one of the protected files?
        for folder, label in folders:
            for f in folder.rglob("*"):
                try:
                    other = os.stat(f, follow_symlinks=False)
                except OSError:
                    continue
                if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                    raise RenderError(f"refusing to write {out}: it is a hard link to {f.relative_to(folder)} "
                                      f"under {label}, which holds sources; choose an --out outside it")
    if stat.S_ISDIR(st.st_mode):
        raise RenderError(f"refusing to write {out}: it is a folder; give --out a file name ending in .pdf")
    with open(resolved, "rb") as fh:
        head = fh.read(5)
    if head != b"%PDF-":
        raise RenderError(f"refusing to write {out}: the file exists and is not a PDF, so it is not an earlier "
                          "brief; remove it or choose another --out")


def inputs_sha256(ctx: dict, html: str, chart_files: dict[str, str]) -> str:
    """Hash of everything a brief is made from: the figures, the page, its charts and every template file."""
    from weasyprint import __version__ as weasyprint_version

    h = hashlib.sha256()
    h.update(json.dumps(ctx, sort_keys=True, default=str, ensure_ascii=False).encode())
    h.update(html.encode())
    for name in sorted(chart_files):
        h.update(name.encode() + chart_files[name].encode())
    for f in sorted(config.TEMPLATES_DIR.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(config.TEMPLATES_DIR)).encode() + f.read_bytes())
    h.update(weasyprint_version.encode())
    return h.hexdigest()


def render_brief(con, year: int, lang: str = "en", out: Path | None = None,
                 types: list[str] | None = None, compare_to: int | None = None) -> Brief:
    out = Path(out) if out else config.briefs_dir() / f"ngobrief-{year}-{lang}.pdf"
    guard_out(out)
    ctx = brief_context(con, year, lang, types, compare_to)
    chart_files = {f"{c['name']}.svg": c["svg"] for c in ctx["trends"]["charts"] + ctx["landscape"]["charts"]}
    html = render_html({**ctx, "chart_scheme": CHART_SCHEME})
    inputs = inputs_sha256(ctx, html, chart_files)
    pages = write_pdf(html, out, charts=chart_files)
    pdf_sha = hashlib.sha256(out.read_bytes()).hexdigest()
    from .warehouse import transaction

    with transaction(con):
        con.execute("INSERT INTO audit.briefs VALUES (?, ?, ?, ?, ?, ?)",
                    [dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), year, lang, str(out), inputs, pdf_sha])
    return Brief(out, inputs, pdf_sha, pages)
