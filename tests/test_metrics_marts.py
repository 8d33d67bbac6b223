"""What every metric mart promises: a description, and the source ids of every row it shows;
and, on made-up figures, that different definitions are never merged or joined."""

import datetime as dt

import polars as pl
import pytest

from ngobrief import metrics

METRIC_VIEWS = ["marts.participation", "marts.registered_trends", "marts.registered_cagr",
                "marts.participation_trends", "marts.foundation_international"]


@pytest.mark.parametrize("view", METRIC_VIEWS)
def test_every_metric_row_carries_the_sources_it_was_computed_from(con, view):
    rows = con.sql(f"SELECT source_ids FROM {view}").fetchall()
    assert rows, f"{view} is empty"
    known = {r[0] for r in con.sql("SELECT source_id FROM staging.sources").fetchall()}
    for (ids,) in rows:
        assert ids and set(ids) <= known


def test_every_mart_and_macro_says_what_it_measures(con):
    views = con.sql("SELECT view_name, comment FROM duckdb_views() WHERE schema_name = 'marts'").fetchall()
    macros = con.sql("SELECT DISTINCT function_name, comment FROM duckdb_functions() "
                     "WHERE schema_name = 'marts'").fetchall()
    names = {v for v, _ in views} | {m for m, _ in macros}
    assert {"participation", "registered_trends", "registered_cagr", "participation_trends",
            "foundation_international", "engagement_definitions", "cagr_pct", "elapsed_years"} <= names
    assert all(comment and len(comment) > 40 for _, comment in views + macros)


def test_metric_columns_state_their_unit(con):
    comments = dict(con.sql("SELECT table_name || '.' || column_name, comment FROM duckdb_columns() "
                            "WHERE schema_name = 'marts' AND comment IS NOT NULL").fetchall())
    assert "percent" in comments["participation.participation_pct"]
    assert "percentage points" in comments["participation.difference_pct_points"]
    assert "percent per year" in comments["registered_trends.cagr_pct"]
    assert "organizations" in comments["registered_trends.change_abs"]


def _figure(con, row, year, measure, org_type, value, source_id, note=None, half_unit=0.5):
    con.execute("INSERT INTO staging.observations VALUES (?, 'year_end', ?, ?, ?, ?, ?, ?, 'organizations', ?, ?, 'test', ?, 'as_published')",
                [year, dt.date(year, 12, 31), measure, org_type, value, str(value), half_unit, source_id, note, row])


@pytest.fixture
def made_up(empty_warehouse):
    con = empty_warehouse
    con.executemany("INSERT INTO raw.sources VALUES (?, 'p', 't', '', '2031', 'primary', '')", [["a"], ["b"]])
    _figure(con, 2, 2030, "registered", "all", 1000, "a")
    _figure(con, 3, 2030, "engaged_international", "all", 10, "a", "国际及其他涉外组织类")
    _figure(con, 4, 2030, "engaged_international", "all", 30, "b", "国际及涉外组织领域")
    _figure(con, 5, 2031, "registered", "all", 1100, "a")
    _figure(con, 6, 2031, "engaged_international", "all", 20, "b", "国际及涉外组织领域")
    _figure(con, 7, 2031, "engaged_international", "all", 12, "a", "a definition nobody listed")
    return con


def test_figures_under_different_definitions_are_not_alternatives_for_one_another(made_up):
    rows = made_up.sql("SELECT definition_id, value FROM marts.figures WHERE year = 2030 "
                       "AND measure = 'engaged_international' ORDER BY value").fetchall()
    assert rows == [("mca_field_international", 10), ("bluebook_international_field", 30)]


def test_participation_trend_never_joins_two_definitions(made_up):
    df = metrics.participation_trends(made_up)
    # only the blue book's field has two points (30 then 20 of 1,000 then 1,100); the field class
    # (2030) and the unlisted definition (2031) are never joined into one series
    assert set(df["definition_id"]) == {"bluebook_international_field"}
    later = df.filter(df["year"] == 2031).row(0, named=True)
    assert later["participation_change_pct_points"] == pytest.approx(100 * 20 / 1100 - 100 * 30 / 1000)
    unmatched = metrics.participation(made_up, 2031).filter(pl.col("engaged_international") == 12)
    assert unmatched["definition_id"].to_list() == ["unmatched:a:a definition nobody listed"]


def test_an_old_warehouse_without_the_new_views_gets_a_clear_error(made_up):
    made_up.execute("DROP VIEW marts.registered_trends")
    with pytest.raises(metrics.MetricsError, match="ngobrief pull"):
        metrics.registered_trends(made_up)
