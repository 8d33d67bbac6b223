"""The figures checked in stored public pages (snapshot observations_verified) and what they carry:
the 2021 participation ratio, the documented disagreements, distinct measures kept apart, the field
counts, the foreign NGOs in China, and the 2021 edition as the latest."""

from __future__ import annotations

import re

import pytest

from ngobrief import charts, inspect, metrics, pipeline, pull

CSGYZC = "https://csgyzc.com/szyw/szrd/148945.html"
CDB_2021 = "https://chinadevelopmentbrief.org/reports/new-policies-promote-high-quality-development-of-ngos"


def _one(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchall()


def test_2021_participation_ratio_is_541_of_902000_with_both_sources_named(con):
    rows = metrics.participation(con, 2021, ["all"]).to_dicts()
    assert len(rows) == 1
    r = rows[0]
    assert (r["engaged_international"], r["registered"]) == (541, 902_000)
    assert r["participation_pct"] == pytest.approx(100 * 541 / 902_000)
    assert r["engaged_source_id"] == "bluebook-2022-summary"
    assert r["registered_source_id"] == "cdb-mca-2021-bulletin"
    assert r["definition_id"] == "bluebook_international_field"
    assert r["source_ids"] == ["bluebook-2022-summary", "cdb-mca-2021-bulletin"]


def test_2021_is_the_latest_edition_and_no_error_blocks_it(built_warehouse):
    assert pipeline.compute_stage(built_warehouse, "latest") == [2021]
    assert pipeline.stored_blocks(2021, built_warehouse) == []


def test_lineage_traces_541_and_902000_to_their_pages(con):
    text = inspect.format_lineage(inspect.lineage(con, 2021, "all", "participation_ratio"))
    assert "engaged_international = 541 (printed '541')" in text
    assert "registered = 902000 (printed '902,000')" in text
    assert f"url {CSGYZC}" in text and f"url {CDB_2021}" in text
    # each count down to the snapshot file and row it was read from
    assert re.search(r"snapshot observations_verified: data/snapshots/observations_verified\.csv row \d+", text)
    assert "snapshot observations: data/snapshots/observations.csv row 84" in text


@pytest.mark.parametrize("year, org_type, measure, chosen, other", [
    (2016, "all", "registered", ("gov-cn-2017-mca-2016", "702,000"), ("charity-bluebook-2017", "69.9万个")),
    (2017, "all", "registered", ("bluebook-2019", "76.2万"), ("peoples-daily-2018-bluebook", "803,000")),
    (2019, "all", "registered", ("bluebook-2020", "86.63万"), ("lin-yan-2020", "85.4万个")),
    (2022, "foundation", "registered", ("bluebook-2023", "9319"), ("cdb-2023-mca-2022", "9,316")),
    (2018, "foreign_ngo", "foreign_ngo_rep_offices_new", ("chinafile-2021-01", "127"), ("shanjian-2019", "136家")),
])
def test_documented_disagreements_appear_in_source_disagreements(con, year, org_type, measure, chosen, other):
    rows = _one(con, """
        SELECT chosen_source_id, chosen_as_published, other_source_id, other_as_published, agree_within_precision
        FROM marts.source_disagreements
        WHERE year = ? AND org_type = ? AND measure = ? AND other_source_id = ?""",
                [year, org_type, measure, other[0]])
    assert rows == [(*chosen, *other, False)]


def test_platform_counts_are_never_compared_with_the_bulletins_counts(con):
    # 801083个 (platform, 2017) stays its own measure: not an alternative to 76.2万, not a disagreement
    assert _one(con, """SELECT value FROM marts.figures WHERE year = 2017 AND org_type = 'all'
                        AND measure = 'platform_registered'""") == [(801_083,)]
    assert _one(con, """SELECT count(*) FROM marts.source_disagreements
                        WHERE other_source_id IN ('charity-bluebook-2018', 'gysb-2018-platform', 'cpwnews-2021-platform')
                           OR chosen_source_id IN ('charity-bluebook-2018', 'gysb-2018-platform', 'cpwnews-2021-platform')""") \
        == [(0,)]
    chosen_2017 = _one(con, "SELECT as_published FROM marts.figures WHERE year = 2017 AND org_type = 'all' "
                            "AND measure = 'registered' AND period = 'year_end'")
    assert chosen_2017 == [("76.2万",)]


def test_a_figure_under_two_year_labels_is_flagged(con):
    # China Times prints 90.2万 and 8877 for end-2020; others print them for end-2021
    flagged = _one(con, """SELECT org_type, previous_source_id, source_id FROM marts.check_year_on_year
                           WHERE repeats_previous_year ORDER BY org_type""")
    assert ("all", "chinatimes-2022", "cdb-mca-2021-bulletin") in flagged
    assert ("foundation", "chinatimes-2022", "bluebook-2023") in flagged
    assert all(prev != src for _, prev, src in flagged)


def test_quarterly_counts_stay_apart_from_year_end_counts(con):
    periods = dict(_one(con, """SELECT source_id, list(DISTINCT period) FROM staging.observations
                                WHERE source_id IN ('christiantimes-2010', 'chinanews-2011-third-sector', 'xinhua-2016q1')
                                GROUP BY source_id"""))
    assert periods == {"christiantimes-2010": ["Q3"], "chinanews-2011-third-sector": ["Q1"], "xinhua-2016q1": ["Q1"]}


def test_2008_and_2011_totals_now_fill_the_year_end_series(con):
    got = dict(_one(con, """SELECT year, as_published FROM marts.figures WHERE org_type = 'all'
                            AND measure = 'registered' AND period = 'year_end' AND year IN (2008, 2011)"""))
    assert got == {2008: "41.4万", 2011: "46.2万个"}


def test_field_counts_show_the_international_field_as_the_smallest(con):
    fields = metrics.figures_by_field(con, 2021).to_dicts()
    assert len(fields) == 13
    assert (fields[0]["field"], fields[0]["as_published"], fields[0]["field_rank"]) == ("education", "288341个", 1)
    last = fields[-1]
    assert (last["field"], last["organizations"], last["field_rank"], last["is_international"]) == \
        ("international", 541, 13, True)
    assert {f["source_id"] for f in fields} == {"bluebook-2022-summary"}


def test_foreign_ngos_in_china_are_kept_out_of_every_chinese_total(con):
    inbound = metrics.foreign_ngos_in_china(con).to_dicts()
    cumulative = [(str(r["as_of"]), r["as_published"]) for r in inbound if r["series"] == "rep_offices_cumulative"]
    assert cumulative[0] == ("2017-04-23", "69") and ("2021-03-31", "568") in cumulative
    assert {r["series"] for r in inbound} == {"rep_offices_cumulative", "rep_offices_new", "organizations_registered",
                                               "temporary_activities_cumulative", "temporary_activities_new"}
    for view in ("marts.participation", "marts.registered_trends", "marts.check_subtotals"):
        assert _one(con, f"SELECT count(*) FROM {view} WHERE org_type = 'foreign_ngo'") == [(0,)]


def test_sources_lists_the_new_sources_with_their_urls():
    listed = {s["source_id"]: s for s in pull.list_sources()["sources"]}
    for sid, url in (("cdb-mca-2021-bulletin", CDB_2021), ("chinatimes-2022", "https://www.chinatimes.net.cn/article/123088.html"),
                     ("nbs-civil-affairs-key-stats-2008", "https://www.stats.gov.cn/zt_18555/ztsj/hstjnj/sh2008/202303/t20230303_1926506.html"),
                     ("chinafile-2021-04", "https://nodebe4.github.io/oped2/2021-04-01/Visually-Understanding-the-Data-on-Foreign-NGO-Rep")):
        assert listed[sid]["url"] == url


def test_bar_chart_draws_every_bar_from_zero_with_its_printed_value():
    svg = charts.bar_chart([charts.Bar("Education", 288341, "288,341"), charts.Bar("International", 541, "541", True)],
                           font_family="sans-serif", title="Fields")
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]
    assert len(widths) == 2 and widths[0] > 100 * widths[1] > 0
    assert ">288,341<" in svg and ">541<" in svg
    assert svg.count(charts.PALETTE[1]) == 1      # only the highlighted bar takes the accent colour


def test_sources_command_prints_each_new_source_with_its_url(tmp_path):
    import os
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "ngobrief.cli", "sources"], capture_output=True, text=True,
                         env={**os.environ, "NGOBRIEF_OUTPUTS": str(tmp_path)}, timeout=120)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    for sid, url in (("cdb-mca-2021-bulletin", CDB_2021), ("bluebook-2022-summary", CSGYZC)):
        i = next(i for i, line in enumerate(lines) if f" {sid} " in line)
        assert lines[i + 1].strip() == url
