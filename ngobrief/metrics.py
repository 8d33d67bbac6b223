"""Compute stage: read the metric marts (defined in sql/marts/) for the CLI and the briefs.

Every metric is SQL in the warehouse; this module only filters and orders it. Each frame carries
`source_ids`, the documents its row was computed from, so a brief can footnote every figure."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import polars as pl

from .errors import NgobriefError
from .warehouse import query

TYPE_ORDER = ("all", "social_association", "private_non_enterprise", "foundation",
              "foundation_public", "foundation_nonpublic", "foundation_foreign_related",
              "foundation_overseas_rep_office")
PERIOD_ORDER = ("year_end", "Q4", "Q3", "Q2", "Q1", "as_of")


class MetricsError(NgobriefError):
    """A metric cannot be read from this warehouse (e.g. it was built before the mart existed)."""


def _type_rank() -> str:
    return "CASE org_type " + " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(TYPE_ORDER)) + " ELSE 99 END"


def _period_rank() -> str:
    return "CASE period " + " ".join(f"WHEN '{p}' THEN {i}" for i, p in enumerate(PERIOD_ORDER)) + " ELSE 99 END"


def _read(con, sql: str, params=None) -> pl.DataFrame:
    try:
        return query(con, sql, params)
    except duckdb.CatalogException as exc:
        raise MetricsError(f"the warehouse lacks a metric view ({str(exc).splitlines()[0]}); it was built "
                           "by an older version: run `ngobrief pull` to create the current views") from None


def _by_types(df: pl.DataFrame, types: list[str] | None) -> pl.DataFrame:
    return df.filter(pl.col("org_type").is_in(types)) if types else df


def participation(con, year: int | None = None, types: list[str] | None = None) -> pl.DataFrame:
    """Participation rows (marts.participation), in a stable order: date, then type."""
    df = _read(con, f"""
        SELECT * FROM marts.participation
        WHERE ($year IS NULL OR year = $year)
        ORDER BY year, as_of, period, {_type_rank()}, definition_id
    """, {"year": year})
    return _by_types(df, types)


def brief_years(con) -> list[int]:
    """Years for which a participation ratio can be computed from published counts."""
    return _read(con, "SELECT DISTINCT year FROM marts.participation WHERE participation_pct IS NOT NULL ORDER BY year"
                 )["year"].to_list()


def registered(con, year: int | None = None, up_to_year: int | None = None) -> pl.DataFrame:
    """Registered organizations by type (chosen figures), every period kept apart; of one year, or of
    every year up to `up_to_year` (an edition shows nothing from after its year)."""
    return _read(con, f"""
        SELECT year, period, as_of, org_type, value AS registered, as_published, half_unit,
               source_id, n_sources, all_source_ids
        FROM marts.figures
        WHERE measure = 'registered' AND ($year IS NULL OR year = $year)
          AND ($up_to IS NULL OR year <= $up_to)
        ORDER BY year, as_of, period, {_type_rank()}
    """, {"year": year, "up_to": up_to_year})


def years_without_registered(con, first_year: int, last_year: int, types: list[str],
                             period: str = "year_end") -> list[int]:
    """The years from `first_year` to `last_year` in which no source printed a registered count of
    any of `types` for `period`: the gaps a trend spans (annualized over, never filled)."""
    return _read(con, """
        SELECT y.range AS year FROM range($first, $last + 1) AS y
        WHERE y.range NOT IN (SELECT year FROM marts.figures
                              WHERE measure = 'registered' AND period = $period AND list_contains($types, org_type))
        ORDER BY 1
    """, {"first": first_year, "last": last_year, "types": types, "period": period})["year"].to_list()


def first_registered_year(con, up_to_year: int, org_type: str, period: str = "year_end") -> int | None:
    """The first year up to `up_to_year` with a registered count of `org_type` for `period`."""
    return _read(con, """
        SELECT min(year) AS year FROM marts.figures
        WHERE measure = 'registered' AND year <= $up_to AND org_type = $org_type AND period = $period
    """, {"up_to": up_to_year, "org_type": org_type, "period": period})["year"][0]


def registered_trends(con, year: int | None = None, types: list[str] | None = None,
                      period: str | None = None) -> pl.DataFrame:
    """Registered organizations with change and CAGR since the previous observation of the same
    org_type and period, and share of the whole (marts.registered_trends); by series, then date."""
    df = _read(con, f"""
        SELECT * FROM marts.registered_trends
        WHERE ($year IS NULL OR year = $year) AND ($period IS NULL OR period = $period)
        ORDER BY {_period_rank()}, {_type_rank()}, as_of
    """, {"year": year, "period": period})
    return _by_types(df, types)


def latest_registered_trends(con, up_to_year: int, types: list[str] | None = None,
                             period: str | None = None) -> pl.DataFrame:
    """Each series' latest observation up to `up_to_year` (marts.registered_trends): what an edition
    shows as a type's current count, beside the previous observation it is compared with."""
    df = _read(con, f"""
        SELECT * FROM marts.registered_trends
        WHERE year <= $year AND ($period IS NULL OR period = $period)
        QUALIFY row_number() OVER (PARTITION BY period, org_type ORDER BY as_of DESC) = 1
        ORDER BY {_period_rank()}, {_type_rank()}
    """, {"year": up_to_year, "period": period})
    return _by_types(df, types)


def registered_cagr(con, start_year: int | None = None, end_year: int | None = None,
                    types: list[str] | None = None, period: str | None = None) -> pl.DataFrame:
    """Change and CAGR of registered organizations between every two observations of a series
    (marts.registered_cagr), optionally only those starting or ending in the given years."""
    df = _read(con, f"""
        SELECT * FROM marts.registered_cagr
        WHERE ($start IS NULL OR start_year = $start) AND ($end IS NULL OR end_year = $end)
          AND ($period IS NULL OR period = $period)
        ORDER BY {_period_rank()}, {_type_rank()}, start_as_of, end_as_of
    """, {"start": start_year, "end": end_year, "period": period})
    return _by_types(df, types)


@dataclass(frozen=True)
class Growth:
    """Growth of registered organizations between two observed years of one series."""

    org_type: str
    period: str
    start_year: int
    end_year: int
    start_registered: float
    end_registered: float
    years_between: float
    change_pct: float
    cagr_pct: float | None
    source_ids: list[str]
    start_as_of: dt.date
    end_as_of: dt.date
    start_source_id: str
    end_source_id: str
    change_abs: float
    sources_differ: bool


def cagr_between(con, start_year: int, end_year: int, org_type: str = "all",
                 period: str = "year_end") -> Growth | None:
    """CAGR of registered organizations between two observed years; None when either year has no
    figure in that series (a gap is reported as a gap, never filled)."""
    df = registered_cagr(con, start_year, end_year, [org_type], period)
    if df.height == 0:
        return None
    row = df.row(0, named=True)
    return Growth(**{f: row[f] for f in Growth.__dataclass_fields__})


def participation_trends(con, year: int | None = None, types: list[str] | None = None) -> pl.DataFrame:
    """Participation series with two or more observations, each point against the previous one of
    the same definition_id, org_type and period (marts.participation_trends)."""
    df = _read(con, f"""
        SELECT * FROM marts.participation_trends
        WHERE ($year IS NULL OR year = $year)
        ORDER BY definition_id, {_type_rank()}, {_period_rank()}, as_of
    """, {"year": year})
    return _by_types(df, types)


def foundation_international(con, year: int | None = None) -> pl.DataFrame:
    """Foundations' international activity as the China Foundation Center counted it
    (marts.foundation_international): share running international projects by type, and the
    overseas-project figures as published."""
    return _read(con, f"""
        SELECT * FROM marts.foundation_international
        WHERE ($year IS NULL OR year = $year)
        ORDER BY year, as_of, period, {_type_rank()}
    """, {"year": year})


def engagement_definitions(con) -> pl.DataFrame:
    """The definitions of engaged_international the sources use (marts.engagement_definitions)."""
    return _read(con, "SELECT * FROM marts.engagement_definitions ORDER BY match_order")


def figures(con, measures: list[str], year: int | None = None) -> pl.DataFrame:
    """Chosen figures (marts.figures) of some measures, every period kept apart."""
    return _read(con, f"""
        SELECT year, period, as_of, measure, org_type, value, as_published, half_unit, unit, source_id, note,
               all_source_ids
        FROM marts.figures
        WHERE list_contains($measures, measure) AND ($year IS NULL OR year = $year)
        ORDER BY year, as_of, measure, {_type_rank()}
    """, {"measures": measures, "year": year})


def source_disagreements(con, up_to_year: int | None = None, measures: list[str] | None = None,
                         types: list[str] | None = None, agreeing: bool = False) -> pl.DataFrame:
    """Figures that several sources print (marts.source_disagreements): the chosen printing beside
    each other one. Only the pairs that disagree beyond printed precision, unless `agreeing`."""
    df = _read(con, """
        SELECT * FROM marts.source_disagreements
        WHERE ($year IS NULL OR year <= $year) AND ($measures IS NULL OR list_contains($measures, measure))
          AND ($agreeing OR NOT agree_within_precision)
        ORDER BY year, as_of, period, measure, org_type, other_priority_rank NULLS LAST, other_source_id
    """, {"year": up_to_year, "measures": measures, "agreeing": agreeing})
    return _by_types(df, types)


def survey_priorities(con) -> pl.DataFrame:
    """The CANGO survey's sector priorities (staging.survey_priorities), by rank."""
    return _read(con, """
        SELECT rank, sector_en, sector_zh, support_band, support_pct, source_id, note
        FROM staging.survey_priorities ORDER BY rank, source_id
    """)


def register_years(con) -> list[int]:
    """Record years of the foundation registers (RICF) in the warehouse."""
    return _read(con, "SELECT DISTINCT record_year FROM marts.register_foundations_by_group ORDER BY 1"
                 )["record_year"].to_list()


def nearest_participation_year(con, year: int, types: list[str]) -> int | None:
    """The year nearest `year` (the earlier one on a tie) with a participation ratio for any of
    `types`; `year` itself when it has one, None when no year has."""
    rows = _read(con, """
        SELECT year FROM marts.participation
        WHERE participation_pct IS NOT NULL AND list_contains($types, org_type)
        ORDER BY abs(year - $year), year LIMIT 1
    """, {"year": year, "types": types})["year"]
    return rows[0] if len(rows) else None


def register_foundations_by_group(con, record_year: int | None = None,
                                  grouped_by: str | None = None) -> pl.DataFrame:
    """Foundations on the register by type, scope and province, with how many declare a focus on
    international affairs (marts.register_foundations_by_group). Within a grouping, the groups with
    the most internationally focused foundations come first."""
    return _read(con, f"""
        SELECT * FROM marts.register_foundations_by_group
        WHERE ($year IS NULL OR record_year = $year) AND ($grouped_by IS NULL OR grouped_by = $grouped_by)
        ORDER BY record_year, grouped_by, international_focus DESC, foundations DESC, {_type_rank()},
                 scope, province
    """, {"year": record_year, "grouped_by": grouped_by})


def register(con, record_year: int | None = None) -> pl.DataFrame:
    """The register as a metric (marts.register_measures): per record year, foundations, public and
    non-public, national and local, by province and international focus, each with its coverage
    (recorded of foundations); NULL where the register does not record the measure."""
    return _read(con, """
        SELECT * FROM marts.register_measures WHERE ($year IS NULL OR record_year = $year)
    """, {"year": record_year})


def register_year(con, edition_year: int, measure: str = "international_focus") -> int | None:
    """The register a brief of `edition_year` uses (marts.register_year_for): the nearest record year
    among the registers that record `measure`, never a later one that lacks it; None with no register."""
    rows = con.sql("SELECT record_year FROM marts.register_year_for($year, $measure)",
                   params={"year": edition_year, "measure": measure}).fetchall()
    return rows[0][0] if rows else None


def register_international_foundations(con, record_year: int | None = None) -> pl.DataFrame:
    """Each foundation on the register whose focus includes international affairs
    (marts.register_international_foundations)."""
    return _read(con, """
        SELECT * FROM marts.register_international_foundations
        WHERE ($year IS NULL OR record_year = $year)
        ORDER BY record_year, ricf_oid
    """, {"year": record_year})


def data_loaded_at(con) -> dt.datetime | None:
    """When the newest loaded snapshot was fetched (a bundled one: first loaded); None before any load."""
    # a pulled file carries its fetch time; a bundled one (fetched_at NULL) the time it was first loaded
    row = con.sql("SELECT max(coalesce(fetched_at, loaded_at)) FROM raw.snapshots").fetchall()
    return row[0][0] if row else None


def has_figures(con) -> bool:
    """Whether the warehouse has its metric views (a warehouse that was never loaded has none)."""
    return bool(con.sql("SELECT 1 FROM duckdb_views() WHERE schema_name = 'marts' AND view_name = 'participation'"
                        ).fetchall())


def known_sources(con) -> list[str]:
    """Every source document the warehouse knows (staging.sources)."""
    return _read(con, "SELECT source_id FROM staging.sources ORDER BY source_id")["source_id"].to_list()


def sources_used(con, source_ids) -> pl.DataFrame:
    return _read(con, """
        SELECT source_id, publisher, title, url, published, kind, priority_rank
        FROM staging.sources WHERE list_contains($ids, source_id)
        ORDER BY priority_rank
    """, {"ids": sorted(set(source_ids))})


# Columns that count organizations, projects or countries: whole numbers when shown as a table.
COUNT_COLUMNS = ("registered", "prev_registered", "total_registered", "engaged_international",
                 "prev_engaged_international", "change_abs", "engaged_change_abs", "start_registered",
                 "end_registered", "foundations_with_overseas_projects", "overseas_projects",
                 "overseas_project_countries")


def for_display(df: pl.DataFrame) -> pl.DataFrame:
    """Counts as whole numbers for a terminal table (every count here is printed as one; the frames
    themselves keep DOUBLE, as the warehouse does)."""
    return df.with_columns([pl.col(c).round(0).cast(pl.Int64) for c in COUNT_COLUMNS if c in df.columns])


def flat_lists(df: pl.DataFrame, separator: str = ";") -> pl.DataFrame:
    """List columns (source_ids) joined into one text cell, for CSV, which has no lists."""
    return df.with_columns([pl.col(c).cast(pl.List(pl.String)).list.join(separator)
                            for c, t in df.schema.items() if isinstance(t, pl.List)])


def figures_by_field(con, year: int | None = None) -> pl.DataFrame:
    """Social organizations by field of activity (marts.figures_by_field), largest field first."""
    return _read(con, """
        SELECT * FROM marts.figures_by_field
        WHERE ($year IS NULL OR year = $year)
        ORDER BY year, as_of, field_rank, field
    """, {"year": year})


def foreign_ngos_in_china(con, up_to_year: int | None = None) -> pl.DataFrame:
    """Foreign NGOs in China under the Overseas NGO Law (marts.foreign_ngos_in_china), by date."""
    return _read(con, """
        SELECT * FROM marts.foreign_ngos_in_china
        WHERE ($year IS NULL OR year <= $year)
        ORDER BY series, as_of
    """, {"year": up_to_year})


def repeats_previous_year(con, year: int, org_type: str, measure: str = "registered") -> bool:
    """True when the year-end count for `year` equals the previous year's, printed by another source
    (marts.check_year_on_year): probably one figure under two year labels, not a standstill."""
    return _read(con, """
        SELECT 1 AS found FROM marts.check_year_on_year
        WHERE year = $year AND org_type = $org_type AND measure = $measure AND period = 'year_end'
          AND repeats_previous_year
    """, {"year": year, "org_type": org_type, "measure": measure}).height > 0


def engaged_parts(con, year: int, period: str, as_of, org_type: str) -> pl.DataFrame:
    """The parts an engaged_international total is the sum of (marts.check_subtotals: a complete
    breakdown that adds up), each with the definition it was counted under; empty when it is not one."""
    return _read(con, f"""
        SELECT f.org_type, f.definition_id, f.value
        FROM marts.check_subtotals AS s
        JOIN marts.figures AS f
          ON f.measure = s.measure AND f.year = s.year AND f.period = s.period AND f.as_of = s.as_of
         AND list_contains(s.parts_printed, f.org_type)
        WHERE s.basis = 'chosen_figures' AND s.measure = 'engaged_international' AND s.adds_up
          AND s.breakdown = 'complete' AND s.year = $year AND s.period = $period AND s.as_of = $as_of
          AND s.org_type = $org_type
        ORDER BY {_type_rank().replace("CASE org_type", "CASE f.org_type")}
    """, {"year": year, "period": period, "as_of": as_of, "org_type": org_type})
