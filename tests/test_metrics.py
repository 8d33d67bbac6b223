"""Participation ratios against values worked out by hand from the bundled figures."""

import pytest

from ngobrief import metrics


def _row(df, org_type):
    return df.filter(df["org_type"] == org_type).row(0, named=True)


def test_2012_participation_by_type(con):
    df = metrics.participation(con, 2012)
    assert _row(df, "all")["engaged_international"] == 556
    assert _row(df, "all")["registered"] == 499_000
    assert _row(df, "all")["participation_pct"] == pytest.approx(100 * 556 / 499_000)
    assert _row(df, "social_association")["participation_pct"] == pytest.approx(100 * 499 / 271_000)
    assert _row(df, "foundation")["participation_pct"] == pytest.approx(100 * 8 / 3029)


def test_published_share_that_cannot_follow_from_the_counts_is_flagged(con):
    df = metrics.participation(con, 2012)
    # 49 / 225,000 = 0.0218 %, but the study printed 0.22 %
    assert _row(df, "private_non_enterprise")["published_disagrees"] is True
    assert _row(df, "social_association")["published_disagrees"] is False
    assert _row(df, "all")["published_disagrees"] is False


def test_source_priority_prefers_the_bulletin_to_the_study(con):
    df = metrics.participation(con, 2012)
    assert _row(df, "all")["registered_source_id"] == "mca-2012-bulletin"
    assert _row(df, "all")["engaged_source_id"] == "huang-cango"


def test_a_numerator_without_denominator_stays_a_gap(con):
    df = metrics.participation(con, 2021)
    row = _row(df, "all")
    assert row["engaged_international"] == 541 and row["registered"] is None and row["participation_pct"] is None


def test_brief_years_are_those_with_a_ratio(con):
    assert metrics.brief_years(con) == [2012, 2013, 2016]


def test_foundations_as_of_2013_keep_their_date(con):
    df = metrics.participation(con, 2013)
    row = _row(df, "foundation_public")
    assert str(row["as_of"]) == "2013-10-07" and row["period"] == "as_of"
    assert row["participation_pct"] == pytest.approx(100 * 34 / 1368)
