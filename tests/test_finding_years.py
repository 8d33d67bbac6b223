"""One rule for which editions a failed check concerns and blocks (validate.blocks), the same in
`ngobrief run`, `ngobrief brief`, the brief-on-demand flow (tests/test_orchestration_flows.py) and
the brief's data-quality section: a failure whose rows name no year (a survey row) concerns every
year, so an error of that kind blocks every edition and a warning of that kind shows in every one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ngobrief import brief, pipeline, validate, warehouse

SURVEY_ROW = {"rank": 3, "sector_en": "education", "support_pct": 150.0}


@pytest.fixture
def warehouse_copy(built_warehouse, tmp_path) -> Path:
    path = tmp_path / "copy.duckdb"
    shutil.copy(built_warehouse, path)
    return path


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "ngobrief.cli", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def _break_the_survey(path):
    """A survey percentage above 100: the survey suite's error, on a row that has no year."""
    con = warehouse.connect(path)
    con.execute("UPDATE staging.survey_priorities SET support_pct = 150 WHERE rank = 3")
    con.close()


def _store_finding(path, severity, rows, description="survey percentages lie between 0 and 100"):
    """Add a failed check to the latest stored validation run."""
    con = warehouse.connect(path)
    try:
        con.execute("""INSERT INTO audit.validation_results (run_id, run_at, suite, expectation, severity, success,
                              description, observed_value, unexpected_rows, data_fingerprint)
                       SELECT run_id, run_at, 'staging_survey_priorities', 'expect_column_values_to_be_between',
                              ?, false, ?, '1', ?, data_fingerprint
                       FROM audit.validation_results ORDER BY run_at DESC LIMIT 1""",
                    [severity, description, json.dumps(rows)])
    finally:
        con.close()


def test_a_failure_on_rows_without_a_year_concerns_every_year():
    assert validate.years_concerned([SURVEY_ROW]) is None and validate.years_concerned([]) is None
    assert validate.years_concerned([{"year": 2013}, {"year": 2016}]) == {2013, 2016}
    assert validate.blocks("error", [SURVEY_ROW], 2012) and validate.blocks("error", [SURVEY_ROW], 2099)
    assert validate.blocks("error", [{"year": 2016}], 2016) and not validate.blocks("error", [{"year": 2016}], 2013)
    assert not validate.blocks("warning", [SURVEY_ROW], 2013)


def test_a_stored_survey_error_blocks_every_year(warehouse_copy):
    _store_finding(warehouse_copy, "error", [SURVEY_ROW])
    for year in (2012, 2013, 2016):
        assert pipeline.stored_blocks(year, warehouse_copy) == [
            "staging_survey_priorities: survey percentages lie between 0 and 100"]


def test_run_writes_no_brief_when_the_survey_fails(warehouse_copy, tmp_path):
    _break_the_survey(warehouse_copy)   # loading the same snapshot bytes again leaves the change in place
    res = _cli("run", "--year", "2013", "--lang", "en", "--warehouse", warehouse_copy,
               env={"NGOBRIEF_OUTPUTS": str(tmp_path / "out")})
    assert res.returncode == 1, res.stdout + res.stderr[-3000:]
    assert not list((tmp_path / "out").glob("briefs/*.pdf"))
    # an error the audit finds publishes no edition at all (write-audit-publish): the run names it there
    blocked = [l for l in res.stderr.splitlines() if l.startswith("nothing published")]
    assert blocked and "staging_survey_priorities" in blocked[0] and "social service" in blocked[0], res.stderr[-3000:]


def test_brief_command_writes_no_brief_when_the_survey_fails(warehouse_copy, tmp_path):
    _break_the_survey(warehouse_copy)
    pipeline.validate_stage(warehouse_copy)
    for year in (2012, 2016):
        res = _cli("brief", "--year", year, "--out", tmp_path / f"{year}.pdf", "--warehouse", warehouse_copy)
        assert res.returncode == 1, res.stdout + res.stderr
        assert res.stderr.startswith(f"error: no brief for {year}: validation errors: staging_survey_priorities")
        assert not (tmp_path / f"{year}.pdf").exists()


def test_brief_command_writes_a_brief_that_only_another_year_blocks(warehouse_copy, tmp_path):
    _store_finding(warehouse_copy, "error", [{"year": 2016}], "engaged never exceeds registered")
    assert _cli("brief", "--year", 2016, "--out", tmp_path / "b.pdf", "--warehouse", warehouse_copy).returncode == 1
    res = _cli("brief", "--year", 2013, "--out", tmp_path / "b.pdf", "--warehouse", warehouse_copy)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "b.pdf").is_file()


def test_the_quality_section_shows_a_survey_warning_in_every_edition(warehouse_copy):
    _store_finding(warehouse_copy, "warning", [SURVEY_ROW])
    con = warehouse.connect(warehouse_copy, read_only=True)
    try:
        for year in (2012, 2013, 2016):
            quality = brief.brief_context(con, year, "en")["quality"]
            [survey] = [f for f in quality["findings"] if f["description"].startswith("survey percentages")]
            assert [r["text"] for r in survey["rows"]] == ["support 150.00%"]
    finally:
        con.close()
