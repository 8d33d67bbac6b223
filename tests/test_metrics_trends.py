"""Trends in registered organizations and in participation, against values worked out by hand
from the published counts in data/snapshots/observations.csv."""

import pytest

from ngobrief import metrics


def _trend(con, year, org_type, period="year_end"):
    df = metrics.registered_trends(con, year, [org_type], period)
    assert df.height == 1, df
    return df.row(0, named=True)


def test_change_between_consecutive_year_end_totals(con):
    row = _trend(con, 2013, "all")  # 54.7万 at end-2013 after 49.9万 at end-2012
    assert row["prev_year"] == 2012
    assert row["change_abs"] == 547_000 - 499_000
    assert row["change_pct"] == pytest.approx(100 * 48_000 / 499_000)
    assert row["cagr_pct"] == pytest.approx(100 * 48_000 / 499_000)  # one year: CAGR = change
    assert row["change_abs_margin"] == 500 + 500  # both printed to the nearest 0.1万


def test_a_gap_between_observed_years_is_annualized_never_interpolated(con):
    row = _trend(con, 2010, "all")  # 41.4万 at end-2008, 44.6万 at end-2010, nothing for 2009
    assert (row["prev_year"], row["years_between"]) == (2008, 2)
    assert row["change_pct"] == pytest.approx(100 * (446_000 - 414_000) / 414_000)
    assert row["cagr_pct"] == pytest.approx(100 * ((446_000 / 414_000) ** (1 / 2) - 1))
    years = metrics.registered_trends(con, types=["all"], period="year_end")["year"].to_list()
    assert 2008 in years and 2009 not in years


def test_cagr_between_any_two_observed_years(con):
    growth = metrics.cagr_between(con, 2006, 2022)  # 354,393 (NBS) to 89.13万 (blue book 2023)
    assert growth.years_between == 16
    assert growth.cagr_pct == pytest.approx(100 * ((891_300 / 354_393) ** (1 / 16) - 1))
    assert growth.change_pct == pytest.approx(100 * (891_300 - 354_393) / 354_393)
    assert growth.source_ids == ["bluebook-2023", "nbs-yearbook-2008"]
    pair = metrics.registered_cagr(con, 2006, 2022, ["all"], "year_end").row(0, named=True)
    # observed in between: 2007, 2008, 2010, 2011, 2012, 2013, 2016, 2017, 2018, 2019, 2020, 2021
    assert pair["observations_between"] == 12


def test_cagr_between_a_year_without_a_figure_is_a_gap(con):
    assert metrics.cagr_between(con, 2009, 2022) is None


def test_quarterly_and_year_end_series_never_meet(con):
    q4 = _trend(con, 2018, "all", "Q4")  # 81.6万 (Q4 2018) follows 65.8万 (Q4 2015), not a year-end figure
    assert (q4["prev_year"], q4["prev_registered"]) == (2015, 658_000)
    assert q4["cagr_pct"] == pytest.approx(100 * ((816_000 / 658_000) ** (1 / 3) - 1))
    year_end = _trend(con, 2018, "all")  # the revised 81.74万 follows end-2017's 76.2万
    assert (year_end["prev_year"], year_end["prev_registered"]) == (2017, 762_000)
    assert year_end["change_abs"] == 817_400 - 762_000


def test_a_q3_series_spans_its_own_gap(con):
    row = _trend(con, 2020, "foundation", "Q3")  # 2,961 at 30 Sep 2012, 8,258 at 30 Sep 2020
    assert (row["prev_year"], row["years_between"]) == (2012, 8)
    assert row["cagr_pct"] == pytest.approx(100 * ((8_258 / 2_961) ** (1 / 8) - 1))


def test_an_as_of_count_starts_a_series_of_its_own(con):
    row = _trend(con, 2013, "foundation", "as_of")  # China Foundation Center, 7 Oct 2013
    assert row["prev_year"] is None and row["change_abs"] is None and row["cagr_pct"] is None


def test_share_of_total_only_when_the_whole_is_printed_for_the_same_date(con):
    assert _trend(con, 2012, "social_association")["share_of_total_pct"] == pytest.approx(100 * 271_000 / 499_000)
    assert _trend(con, 2020, "private_non_enterprise", "Q3")["share_of_total_pct"] == pytest.approx(
        100 * 503_391 / 888_517)
    # a foundation sub-type is a share of all foundations
    public = _trend(con, 2013, "foundation_public", "as_of")
    assert public["total_org_type"] == "foundation"
    assert public["share_of_total_pct"] == pytest.approx(100 * 1_368 / 3_399)
    # 2023 has a foundation count but no total: no share, rather than one against another year's total
    assert _trend(con, 2023, "foundation")["share_of_total_pct"] is None


def test_a_change_between_figures_from_different_sources_says_so(con):
    row = _trend(con, 2010, "social_association")  # NBS key statistics (2008) then an MCA report (2010)
    assert row["sources_differ"] is True
    assert row["source_ids"] == ["mca-2010-report", "nbs-civil-affairs-key-stats-2008"]
    assert _trend(con, 2022, "private_non_enterprise")["sources_differ"] is False


def test_participation_trend_joins_only_points_with_one_definition(con):
    df = metrics.participation_trends(con)
    # only the private non-enterprise series under the bulletin's field class has two points;
    # 2012 foundations (涉外基金会) and 2013 foundations (China Foundation Center) are not one series
    assert set(zip(df["definition_id"], df["org_type"])) == {("mca_field_international", "private_non_enterprise")}
    later = df.filter(df["year"] == 2016).row(0, named=True)
    assert (later["prev_year"], later["years_between"]) == (2012, 4)
    assert later["engaged_change_abs"] == 9 - 49
    assert later["engaged_change_pct"] == pytest.approx(100 * (9 - 49) / 49)
    assert later["engaged_cagr_pct"] == pytest.approx(100 * ((9 / 49) ** (1 / 4) - 1))
    assert later["participation_change_pct_points"] == pytest.approx(100 * 9 / 361_000 - 100 * 49 / 225_000)
    assert later["participation_cagr_pct"] == pytest.approx(
        100 * (((9 / 361_000) / (49 / 225_000)) ** (1 / 4) - 1))
    assert later["source_ids"] == ["mca-2012-bulletin", "mca-2016-bulletin"]


def test_elapsed_years_counts_months_between_aligned_dates_and_days_otherwise(con):
    years = con.sql("""SELECT marts.elapsed_years(DATE '2012-12-31', DATE '2016-12-31'),
                              marts.elapsed_years(DATE '2012-09-30', DATE '2020-09-30'),
                              marts.elapsed_years(DATE '2013-10-07', DATE '2013-12-31')""").fetchall()[0]
    assert years == (4, 8, pytest.approx(85 / 365.25))


def test_cagr_is_undefined_without_time_or_a_positive_start(con):
    assert con.sql("SELECT marts.cagr_pct(100, 121, 2), marts.cagr_pct(100, 121, 0), marts.cagr_pct(0, 5, 1)"
                   ).fetchall()[0] == (pytest.approx(10), None, None)
