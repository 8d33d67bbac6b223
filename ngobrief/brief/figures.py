"""What a brief reads: every figure comes from a mart through metrics.py, which also picks the rows
(latest up to the edition year, the nearest register); here they are only put in the shape the
sections use."""

from __future__ import annotations

import datetime as dt

import polars as pl

from .. import metrics
from .format import RenderError


def data_loaded_at(con) -> dt.datetime:
    """When the figures were loaded: the brief's 'generated' date and the PDF's creation date.

    Derived from the warehouse, not the clock, so the same warehouse always gives the same PDF."""
    loaded = metrics.data_loaded_at(con)
    if loaded is None:
        raise RenderError("the warehouse holds no loaded snapshot: run `ngobrief pull` first")
    return loaded.replace(microsecond=0)


def half_units(con) -> dict[tuple, float]:
    """The printed precision of every chosen registered count (49.9万 -> 500), by year, period, as_of
    and org_type, so that counts are shown with the digits their source printed."""
    return {(r["year"], r["period"], r["as_of"], r["org_type"]): r["half_unit"]
            for r in metrics.registered(con).iter_rows(named=True)}


def with_half_units(con, rows: list[dict]) -> list[dict]:
    """Attach the printed precision of each row's registered count (49.9万 -> ± 500)."""
    half = half_units(con)
    return [{**r, "registered_half_unit": half.get((r["year"], r["period"], r["as_of"], r["org_type"]))}
            for r in rows]


def types_for(types: list[str] | None) -> list[str]:
    """The org types a brief covers, in the order the brief lists them (all of them by default)."""
    known = list(metrics.TYPE_ORDER)
    if types:
        unknown = [t for t in types if t not in known]
        if unknown:
            raise RenderError(f"unknown organization type(s) {', '.join(unknown)}; choose from {', '.join(known)}")
        return [t for t in known if t in types]
    return known


def registered_trends(con, year: int, types: list[str], since: int | None = None) -> list[dict]:
    """For each type: its latest year-end count up to `year` and the earlier count it is compared with
    (the previous observation of its series, marts.registered_trends; or the count of year `since`,
    marts.registered_cagr), with the change, the compound annual growth rate over the years between
    (gaps annualized, never filled) and its share of the whole it belongs to. The marts compute every
    rate and metrics picks the latest row; this only names the fields."""
    latest_by_type = {r["org_type"]: r for r in metrics.latest_registered_trends(
        con, year, types=types, period="year_end").iter_rows(named=True)}
    half = half_units(con)
    rows = []
    for org_type in [t for t in types if t in latest_by_type]:
        latest = latest_by_type[org_type]
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
    marts.register_foundations_by_group, from the register marts.register_year_for chooses: the
    nearest record year among the registers that record international focus, never a later one that
    lacks it. None when no register is loaded. The brief labels a register of another year with its
    own year (see docs/brief.md)."""
    record_year = metrics.register_year(con, year)   # the rule lives in marts.register_year_for
    if record_year is None:
        return None
    groups = metrics.register_foundations_by_group(con, record_year)

    def grouped(by: str) -> list[dict]:
        return groups.filter(pl.col("grouped_by") == by).to_dicts()

    overall = grouped("all")[0]
    return {"record_year": record_year, "overall": overall, "by_type": grouped("org_type"),
            "by_scope": grouped("scope"), "by_type_scope": grouped("org_type, scope"),
            "by_province": grouped("province"), "source_id": overall["source_id"],
            "citation": overall["citation"]}
