"""Validation on the bundled data: the real findings, with their sizes, and what gets stored.

These tests read the one validation run the session's `built_warehouse` fixture made (GX runs cost
seconds); tests that need other data copy that warehouse and change the copy."""

import json

import pytest

from ngobrief import config, validate, warehouse


def _latest_run(con):
    return con.sql("SELECT run_id FROM audit.validation_runs ORDER BY run_at DESC LIMIT 1").fetchall()[0][0]


def _failed_rows(con, suite):
    rows = con.sql("""
        SELECT unexpected_rows FROM audit.validation_results
        WHERE run_id = ? AND suite = ? AND NOT success""", params=[_latest_run(con), suite]).fetchall()
    return [r for (text,) in rows for r in json.loads(text)]


def _subtotal(con, year, period, measure, org_type, basis="single_source", source=None):
    rows = con.sql("""
        SELECT total, parts_sum, difference, tolerance, breakdown, adds_up, finding
        FROM marts.check_subtotals
        WHERE year = ? AND period = ? AND measure = ? AND org_type = ? AND basis = ?
          AND (? IS NULL OR source_ids = ?)""",
                   params=[year, period, measure, org_type, basis, source, source]).pl().to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_bundled_data_has_no_errors(con):
    errors = con.sql("""SELECT suite, description FROM audit.validation_results
                        WHERE severity = 'error' AND NOT success""").fetchall()
    assert errors == []


def test_misprinted_2012_private_non_enterprise_share_is_flagged_with_its_size(con):
    rows = _failed_rows(con, "marts_check_published_shares")
    assert [(r["year"], r["org_type"]) for r in rows] == [(2012, "private_non_enterprise")]
    r = rows[0]
    assert r["published_share_pct"] == pytest.approx(0.22)
    assert r["recomputed_pct"] == pytest.approx(100 * 49 / 225000)
    assert r["difference_pct_points"] == pytest.approx(0.22 - 100 * 49 / 225000)
    assert "0.0218%" in r["finding"] and "0.22%" in r["finding"]


def test_other_published_shares_agree_within_printed_precision(con):
    agree = con.sql("""SELECT year, org_type FROM marts.check_published_shares WHERE agrees
                       ORDER BY year, org_type""").fetchall()
    assert agree == [(2012, "all"), (2012, "foundation"), (2012, "social_association"),
                     (2013, "foundation"), (2013, "foundation_nonpublic"), (2013, "foundation_public")]


def test_2012_foundation_subtypes_add_up_to_3029_with_the_remainder_categories(con):
    r = _subtotal(con, 2012, "year_end", "registered", "foundation", source="mca-2012-bulletin")
    assert (r["total"], r["parts_sum"], r["tolerance"], r["breakdown"], r["adds_up"]) == (3029, 3029, 0, "complete", True)


def test_wan_rounded_totals_add_up_within_half_a_unit_per_printed_figure(con):
    r2012 = _subtotal(con, 2012, "year_end", "registered", "all", source="mca-2012-bulletin")
    # 49.9万, 27.1万, 22.5万 (± 500 each) and 3,029 exact
    assert (r2012["difference"], r2012["tolerance"], r2012["adds_up"]) == (-29, 1500, True)
    r2022 = _subtotal(con, 2022, "year_end", "registered", "all", source="bluebook-2023")
    # 89.13万, 37.01万, 51.19万 (± 50 each) and 9,319 exact
    assert (r2022["difference"], r2022["tolerance"], r2022["adds_up"]) == (-19, 150, True)


def test_2020_q3_total_is_4000_more_than_its_types(con):
    r = _subtotal(con, 2020, "Q3", "registered", "all")
    assert (r["total"], r["parts_sum"], r["difference"], r["tolerance"], r["adds_up"]) == (888517, 884517, 4000, 0, False)
    assert "exceeds its parts by 4,000" in r["finding"]


def test_2016_types_exceed_the_printed_total_by_559(con):
    r = _subtotal(con, 2016, "year_end", "registered", "all", source="gov-cn-2017-mca-2016")
    assert (r["total"], r["parts_sum"], r["difference"], r["adds_up"]) == (702000, 702559, -559, False)


def test_2013_foundation_count_leaves_18_outside_the_printed_subtypes(con):
    r = _subtotal(con, 2013, "as_of", "registered", "foundation", source="huang-cango")
    assert (r["total"], r["parts_sum"], r["difference"], r["breakdown"], r["adds_up"]) == (
        3399, 3381, 18, "remainder_not_printed", False)


def test_a_breakdown_missing_a_required_type_is_not_summed(con):
    r = _subtotal(con, 2010, "year_end", "registered", "all")
    assert r["breakdown"] == "incomplete" and r["adds_up"] is None and r["difference"] is None


def test_subtotal_warnings_name_every_real_mismatch(con):
    rows = _failed_rows(con, "marts_check_subtotals")
    assert sorted((r["year"], r["period"], r["org_type"], r["basis"], r["difference"]) for r in rows) == [
        (2011, "year_end", "foundation", "chosen_figures", 77),
        (2013, "as_of", "foundation", "single_source", 18),
        (2016, "year_end", "all", "chosen_figures", -559),
        (2016, "year_end", "all", "single_source", -559),
        (2020, "Q3", "all", "single_source", 4000),
        (2021, "year_end", "all", "chosen_figures", 123),      # 902,000 against three blue-book parts
        (2022, "year_end", "all", "single_source", -316),      # CDB's rounded 371,000 + 512,000 + 9,316
    ]


def test_year_on_year_flags_the_fall_in_internationally_engaged_private_non_enterprise_units(con):
    failed = _failed_rows(con, "marts_check_year_on_year")
    # among Chinese organizations, apart from the figures printed under two year labels (their own test)
    rows = [r for r in failed if r["org_type"] != "foreign_ngo" and not r["repeats_previous_year"]]
    assert [(r["year"], r["measure"], r["org_type"], r["previous_year"]) for r in rows] == [
        (2016, "engaged_international", "private_non_enterprise", 2012)]
    assert (rows[0]["previous_value"], rows[0]["value"]) == (49, 9)
    # the foreign NGO offices registered each year fell by more than a fifth a year from 2017 to 2020
    assert sorted(r["year"] for r in failed if r["org_type"] == "foreign_ngo") == [2018, 2019, 2020]


def test_quarterly_and_year_end_series_are_compared_only_with_themselves(con):
    mixed = con.sql("""SELECT count(*) FROM marts.check_year_on_year y
                       JOIN marts.figures f ON f.year = y.previous_year AND f.measure = y.measure
                        AND f.org_type = y.org_type AND f.value = y.previous_value
                       WHERE f.period <> y.period""").fetchall()[0][0]
    q4 = con.sql("""SELECT previous_year FROM marts.check_year_on_year
                    WHERE period = 'Q4' AND year = 2018 AND org_type = 'all'""").fetchall()
    assert mixed == 0 and q4 == [(2015,)]


def test_every_run_stores_each_suite_with_its_fingerprint_and_report(con):
    run_id = _latest_run(con)
    runs = con.sql("""SELECT suite, table_name, status, rows_validated, data_fingerprint, report_path
                      FROM audit.validation_runs WHERE run_id = ?""", params=[run_id]).pl().to_dicts()
    assert sorted(r["suite"] for r in runs) == sorted(p.stem for p in validate.suite_files())
    for r in runs:
        exists = validate.table_exists(con, r["table_name"])
        assert r["status"] == ("validated" if exists else "skipped")
        if exists:
            assert r["data_fingerprint"] == validate.fingerprint(con, r["table_name"])
    report = config.validation_dir() / f"validation-{run_id}.html"
    assert {r["report_path"] for r in runs} == {str(report)} and report.is_file()
    results = con.sql("""SELECT count(*), count(kwargs), count(DISTINCT data_fingerprint)
                         FROM audit.validation_results WHERE run_id = ?""", params=[run_id]).fetchall()[0]
    assert results[0] >= 30 and results[1] == results[0]


def test_latest_findings_for_one_year_keep_only_that_years_rows(con):
    y2012 = validate.latest_findings(con, 2012)
    # stale sources (marts_source_freshness) name no year: that warning goes with every year
    assert [(f["suite"], f["severity"]) for f in y2012] == [("marts_check_published_shares", "warning"),
                                                            ("marts_source_freshness", "warning")]
    y2016 = {f["suite"]: json.loads(f["unexpected_rows"]) for f in validate.latest_findings(con, 2016)}
    assert {r["year"] for s, rows in y2016.items() for r in rows if s != "marts_source_freshness"} == {2016}
    assert set(y2016) >= {"marts_check_subtotals", "marts_check_year_on_year"}
    everything = validate.latest_findings(con)
    assert set(everything[0]) >= {"suite", "expectation", "severity", "description", "observed_value", "unexpected_rows"}
    share = next(f for f in y2012 if f["suite"] == "marts_check_published_shares")
    assert share["explanations"] == [json.loads(share["unexpected_rows"])[0]["finding"]]


def test_old_audit_table_gains_the_new_columns(tmp_path):
    c = warehouse.connect(tmp_path / "old.duckdb")
    c.execute("CREATE SCHEMA audit")
    c.execute("""CREATE TABLE audit.validation_results (run_id TEXT NOT NULL, run_at TIMESTAMP NOT NULL,
                 suite TEXT NOT NULL, expectation TEXT NOT NULL, severity TEXT NOT NULL, success BOOLEAN NOT NULL,
                 description TEXT, observed_value TEXT, unexpected_rows TEXT, data_fingerprint TEXT NOT NULL)""")
    c.execute("INSERT INTO audit.validation_results VALUES ('r', now(), 's', 'e', 'error', true, '', '', '[]', 'f')")
    warehouse.create(c)
    cols = [r[0] for r in c.sql("DESCRIBE audit.validation_results").fetchall()]
    kept = c.sql("SELECT count(*) FROM audit.validation_results").fetchall()[0][0]
    c.close()
    assert cols[-2:] == ["kwargs", "unexpected_count"] and kept == 1

