"""Compute stage: read the marts (defined in sql/marts/) for the CLI and the briefs."""

from __future__ import annotations

import polars as pl

from .warehouse import query

TYPE_ORDER = ("all", "social_association", "private_non_enterprise", "foundation",
              "foundation_public", "foundation_nonpublic", "foundation_foreign_related",
              "foundation_overseas_rep_office")


def _type_rank() -> str:
    return "CASE org_type " + " ".join(f"WHEN '{t}' THEN {i}" for i, t in enumerate(TYPE_ORDER)) + " ELSE 99 END"


def participation(con, year: int | None = None, types: list[str] | None = None) -> pl.DataFrame:
    """Participation rows (marts.participation), in a stable order: date, then type."""
    df = query(con, f"""
        SELECT * FROM marts.participation
        WHERE ($year IS NULL OR year = $year)
        ORDER BY year, as_of, period, {_type_rank()}
    """, {"year": year})
    if types:
        df = df.filter(pl.col("org_type").is_in(types))
    return df


def brief_years(con) -> list[int]:
    """Years for which a participation ratio can be computed from published counts."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT year FROM marts.participation WHERE participation_pct IS NOT NULL ORDER BY year"
    ).fetchall()]


def registered(con, year: int | None = None) -> pl.DataFrame:
    """Registered organizations by type (chosen figures), every period kept apart."""
    return query(con, f"""
        SELECT year, period, as_of, org_type, value AS registered, as_published, half_unit,
               source_id, n_sources, all_source_ids
        FROM marts.figures
        WHERE measure = 'registered' AND ($year IS NULL OR year = $year)
        ORDER BY year, as_of, period, {_type_rank()}
    """, {"year": year})


def sources_used(con, source_ids) -> pl.DataFrame:
    return query(con, """
        SELECT source_id, publisher, title, url, published, kind, priority_rank
        FROM staging.sources WHERE list_contains($ids, source_id)
        ORDER BY priority_rank
    """, {"ids": sorted(set(source_ids))})
