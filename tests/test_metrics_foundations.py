"""Foundations' international activity (China Foundation Center), against values worked out by
hand from the counts the CANGO study and the CFC report published."""

import polars as pl
import pytest

from ngobrief import metrics


def _row(df, org_type, period="as_of"):
    return df.filter((df["org_type"] == org_type) & (df["period"] == period)).row(0, named=True)


def test_share_running_international_projects_by_public_and_nonpublic(con):
    df = metrics.foundation_international(con, 2013)
    public, nonpublic, every = (_row(df, t) for t in ("foundation_public", "foundation_nonpublic", "foundation"))
    assert (public["engaged_international"], public["registered"]) == (34, 1_368)
    assert public["participation_pct"] == pytest.approx(100 * 34 / 1_368)
    assert nonpublic["participation_pct"] == pytest.approx(100 * 17 / 2_013)
    assert every["participation_pct"] == pytest.approx(100 * 51 / 3_399)
    assert str(every["as_of"]) == "2013-10-07"
    assert {r["definition_id"] for r in (public, nonpublic, every)} == {"cfc_international_projects"}


def test_published_foundation_shares_follow_from_the_counts(con):
    df = metrics.foundation_international(con, 2013)
    public = _row(df, "foundation_public")
    assert public["published_share_pct"] == pytest.approx(2.49)
    assert public["difference_pct_points"] == pytest.approx(100 * 34 / 1_368 - 2.49)
    # 2.4854 % rounds to 2.49 within the printed precision (2.485 to 2.495): no disagreement
    assert [_row(df, t)["published_disagrees"] for t in ("foundation", "foundation_public", "foundation_nonpublic")] \
        == [False, False, False]


def test_overseas_project_figures_are_kept_as_published_without_a_ratio(con):
    row = _row(metrics.foundation_international(con, 2013), "foundation", "year_end")
    assert (row["foundations_with_overseas_projects"], row["overseas_projects"],
            row["overseas_project_countries"]) == (45, 92, 40)
    assert row["overseas_projects_per_foundation"] == pytest.approx(92 / 45)
    # a different count from the share's numerator: no share is formed against a registered total
    assert row["registered"] is None and row["participation_pct"] is None
    assert row["source_ids"] == ["cfc-2015-report"]


def test_foundation_shares_agree_with_the_participation_mart(con):
    shares = metrics.foundation_international(con).filter(pl.col("definition_id").is_not_null())
    part = metrics.participation(con).filter(pl.col("definition_id") == "cfc_international_projects")
    key = ["year", "period", "as_of", "org_type"]
    cols = key + ["engaged_international", "registered", "participation_pct", "published_share_pct",
                  "published_disagrees", "source_ids"]
    assert shares.select(cols).sort(key).to_dicts() == part.select(cols).sort(key).to_dicts()
