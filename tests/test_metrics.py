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


def test_a_numerator_without_denominator_stays_a_gap(empty_warehouse):
    # The bundled data now prints both 2021 counts, so the gap is made here: the 541 alone.
    con = empty_warehouse
    con.execute("""INSERT INTO staging.observations VALUES (2021, 'year_end', DATE '2021-12-31',
        'engaged_international', 'all', 541, '541', 0.5, 'organizations', 'bluebook-2022-summary',
        '国际及涉外组织领域', 'observations', 84, 'as_published')""")
    row = _row(metrics.participation(con, 2021), "all")
    assert row["engaged_international"] == 541 and row["registered"] is None and row["participation_pct"] is None
    assert metrics.brief_years(con) == []


def test_brief_years_are_those_with_a_ratio(con):
    assert metrics.brief_years(con) == [2012, 2013, 2016, 2021]


def test_foundations_as_of_2013_keep_their_date(con):
    df = metrics.participation(con, 2013)
    row = _row(df, "foundation_public")
    assert str(row["as_of"]) == "2013-10-07" and row["period"] == "as_of"
    assert row["participation_pct"] == pytest.approx(100 * 34 / 1368)


def test_each_participation_row_names_the_definition_its_numerator_follows(con):
    rows = {(r["year"], r["org_type"]): r["definition_id"] for r in metrics.participation(con).to_dicts()}
    # the 2012 bulletin's field class 国际及其他涉外组织类 for associations and private non-enterprise units
    assert rows[(2012, "social_association")] == rows[(2012, "private_non_enterprise")] == "mca_field_international"
    assert rows[(2016, "private_non_enterprise")] == "mca_field_international"
    # foundations in 2012 are the registration category 涉外基金会, not the field class
    assert rows[(2012, "foundation")] == "mca_foreign_related_foundation"
    # the 2021 blue book's 国际及涉外组织领域 and the China Foundation Center's project count differ again
    assert rows[(2021, "all")] == "bluebook_international_field"
    assert rows[(2013, "foundation_public")] == "cfc_international_projects"


def test_a_figure_without_a_stated_definition_forms_a_definition_of_its_own(con):
    row = _row(metrics.participation(con, 2012), "all")
    assert row["definition_id"] == "unstated:huang-cango" and row["definition_term"] is None


def test_every_bundled_engaged_figure_matches_a_known_definition_but_the_study_total(con):
    ids = {r[0] for r in con.sql(
        "SELECT definition_id FROM marts.figures WHERE measure = 'engaged_international'").fetchall()}
    known = set(metrics.engagement_definitions(con)["definition_id"])
    assert ids - known == {"unstated:huang-cango"}


def test_participation_keeps_numerator_denominator_published_share_and_difference(con):
    row = _row(metrics.participation(con, 2012), "social_association")
    assert (row["engaged_international"], row["registered"]) == (499, 271_000)
    assert row["participation_ratio"] == pytest.approx(499 / 271_000)
    assert row["published_share_pct"] == pytest.approx(0.18)
    assert row["difference_pct_points"] == pytest.approx(100 * 499 / 271_000 - 0.18)
    assert row["source_ids"] == ["huang-cango", "mca-2012-bulletin"]
