"""Great Expectations suites: the real data's real finding, and errors that block a year."""

import json

from ngobrief import parse, pipeline, pull, validate, warehouse


def test_bundled_data_has_no_errors_and_flags_the_misprinted_share(con):
    rows = con.sql("""SELECT suite, expectation, severity, success, unexpected_rows
                      FROM audit.validation_results""").fetchall()
    assert rows and not [r for r in rows if r[2] == "error" and not r[3]]
    warnings = [r for r in rows if not r[3]]
    assert len(warnings) == 1
    bad = json.loads(warnings[0][4])
    assert bad[0]["org_type"] == "private_non_enterprise" and int(bad[0]["year"]) == 2012


def test_an_error_blocks_only_the_affected_year(tmp_path):
    path = tmp_path / "w.duckdb"
    pipeline.load_stage(pull.bundled_snapshots(), path)
    con = warehouse.connect(path)
    con.execute("UPDATE staging.observations SET value = -1 WHERE year = 2016 AND measure = 'engaged_international'")
    run = validate.run_suites(con)
    con.close()
    assert run.errors and run.blocks(2016) and not run.blocks(2012)
