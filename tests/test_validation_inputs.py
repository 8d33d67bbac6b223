"""Validation costs only when its inputs changed: the latest run is reused while the checked rows,
the suite files, the check SQL, the validation code and (for date-dependent suites) the date are
the same, and run again — saying what changed — when any of them is not."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ngobrief import config, pipeline, validate, validation_inputs, warehouse
from ngobrief.cli import app

# the date validate_stage and `ngobrief validate` take when given none: the commands below run today
TODAY = dt.datetime.now(dt.timezone.utc).date()


@pytest.fixture
def validated(built_warehouse, tmp_path) -> Path:
    """A warehouse of the test's own, validated today (as far as the test is concerned)."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, path)
    pipeline.validate_stage(path, today=TODAY, reuse=False)
    return path


def _parts(path, today=TODAY):
    con = warehouse.connect(path, read_only=True)
    try:
        return validation_inputs.parts(con, today=today)
    finally:
        con.close()


def _latest_run_ids(path):
    con = warehouse.connect(path, read_only=True)
    try:
        return [r[0] for r in con.sql("SELECT DISTINCT run_id FROM audit.validation_runs ORDER BY 1").fetchall()]
    finally:
        con.close()


def test_unchanged_inputs_reuse_the_stored_run_and_say_so(validated, monkeypatch):
    before = pipeline.validate_stage(validated, today=TODAY, reuse=False)   # a run whose findings we know

    def no_gx(*args, **kwargs):
        raise AssertionError("Great Expectations ran although nothing changed")

    monkeypatch.setattr(validate, "run_suites", no_gx)
    again = pipeline.validate_stage(validated, today=TODAY)
    assert again.reused and again.run_id == before.run_id
    assert "nothing it depends on changed since run " + before.run_id in again.inputs_note
    assert "Great Expectations was not run" in again.inputs_note
    assert [f.summary() for f in again.findings] == [f.summary() for f in before.findings]
    assert [(s.suite, s.status, s.rows, s.fingerprint, s.key) for s in again.suites] == \
        [(s.suite, s.status, s.rows, s.fingerprint, s.key) for s in before.suites]
    assert again.report_path == before.report_path and validate.summary_lines(again) == validate.summary_lines(before)
    assert pipeline.validation_is_current(validated, today=TODAY)


def _changed_then_validated(path, sql: str):
    """Change the warehouse with `sql`; then validation is not current, and validating runs the suites."""
    con = warehouse.connect(path)
    con.execute(sql)
    con.close()
    assert not pipeline.validation_is_current(path, today=TODAY)
    run = pipeline.validate_stage(path, today=TODAY)
    assert not run.reused
    return run


def test_a_changed_table_row_runs_validation_again_and_names_the_table(validated):
    run = _changed_then_validated(validated, "UPDATE staging.observations SET value = value + 1 "
                                  "WHERE source_row = (SELECT min(source_row) FROM staging.observations)")
    assert "table:staging.observations" in run.inputs_note
    assert run.run_id in _latest_run_ids(validated)
    assert pipeline.validate_stage(validated, today=TODAY).run_id == run.run_id  # and then it is reused


def test_a_changed_suite_file_runs_validation_again(validated, tmp_path, monkeypatch):
    suites = tmp_path / "expectations"
    shutil.copytree(config.EXPECTATIONS_DIR, suites)
    monkeypatch.setattr(config, "EXPECTATIONS_DIR", suites)
    assert pipeline.validation_is_current(validated, today=TODAY)          # the same files, copied
    spec = suites / "marts_participation.json"
    spec.write_text(spec.read_text(encoding="utf-8").replace('"about"', '"note": "edited", "about"', 1),
                    encoding="utf-8")
    assert not pipeline.validation_is_current(validated, today=TODAY)
    run = pipeline.validate_stage(validated, today=TODAY)
    assert not run.reused and "suite:marts_participation.json" in run.inputs_note


def test_changed_check_sql_runs_validation_again(validated, tmp_path, monkeypatch):
    sql = tmp_path / "sql"
    shutil.copytree(config.SQL_DIR, sql)
    monkeypatch.setattr(config, "SQL_DIR", sql)
    assert pipeline.validation_is_current(validated, today=TODAY)
    check = sql / "marts" / "checks" / "check_subtotals.sql"
    check.write_text("-- the same view, its text edited\n" + check.read_text(encoding="utf-8"), encoding="utf-8")
    assert not pipeline.validation_is_current(validated, today=TODAY)
    run = pipeline.validate_stage(validated, today=TODAY)
    assert not run.reused and run.inputs_note.endswith("changed since the last run: check_sql:check_subtotals.sql")


def test_another_date_runs_date_dependent_suites_again(validated):
    # staging_observations compares years with {"$PARAMETER": "this_year"}
    assert '"$PARAMETER"' in (config.EXPECTATIONS_DIR / "staging_observations.json").read_text(encoding="utf-8")
    assert _parts(validated)["date"] == TODAY.isoformat()
    assert pipeline.validation_is_current(validated, today=TODAY)
    assert not pipeline.validation_is_current(validated, today=TODAY + dt.timedelta(days=1))
    run = pipeline.validate_stage(validated, today=TODAY + dt.timedelta(days=1))
    assert not run.reused and run.inputs_note.endswith("changed since the last run: date")


def test_without_date_dependent_suites_the_date_is_no_input(validated, tmp_path, monkeypatch):
    suites = tmp_path / "expectations"
    suites.mkdir()
    shutil.copy(config.EXPECTATIONS_DIR / "marts_participation.json", suites)
    monkeypatch.setattr(config, "EXPECTATIONS_DIR", suites)
    assert "date" not in _parts(validated)
    assert _parts(validated, TODAY) == _parts(validated, TODAY + dt.timedelta(days=400))


def test_validate_command_says_it_reused_the_run_and_runs_again_when_asked(validated):
    res = CliRunner().invoke(app, ["validate", "--warehouse", str(validated)])
    assert res.exit_code == 0, res.output
    assert "its results are reused and Great Expectations was not run" in res.output
    assert res.output.splitlines()[0].split() == ["suite", "table", "rows", "checks", "passed", "errors", "warnings"]
    runs = _latest_run_ids(validated)
    res = CliRunner().invoke(app, ["validate", "--again", "--warehouse", str(validated)])
    assert res.exit_code == 0, res.output
    assert "running the suites again as asked" in res.output
    # ngobrief validate audits an edition read-only (write-audit-publish): nothing is stored in it
    assert len(_latest_run_ids(validated)) == len(runs)


def test_a_warehouse_validated_before_inputs_were_recorded_validates_once_more(validated):
    run = _changed_then_validated(validated, "DROP TABLE audit.validation_inputs")
    assert "no earlier run with recorded inputs" in run.inputs_note
