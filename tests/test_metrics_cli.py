"""`ngobrief metrics` prints every metric mart as a table, CSV or JSON."""

import csv
import io
import json

import pytest
from typer.testing import CliRunner

from ngobrief import cli


def _metrics(built_warehouse, *args):
    return CliRunner().invoke(cli.app, ["metrics", "--warehouse", str(built_warehouse), *args])


def test_participation_is_the_default_metric_and_keeps_its_definition(built_warehouse):
    res = _metrics(built_warehouse, "--year", "2012", "--format", "json")
    assert res.exit_code == 0, res.output
    rows = {r["org_type"]: r for r in json.loads(res.stdout)}
    assert rows["social_association"]["participation_pct"] == pytest.approx(100 * 499 / 271_000)
    assert rows["social_association"]["definition_id"] == "mca_field_international"
    assert rows["all"]["source_ids"] == ["huang-cango", "mca-2012-bulletin"]


def test_cagr_between_two_years_from_the_command_line(built_warehouse):
    res = _metrics(built_warehouse, "--metric", "cagr", "--from-year", "2006", "--year", "2022", "--format", "csv")
    assert res.exit_code == 0, res.output
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    total = next(r for r in rows if r["org_type"] == "all" and r["period"] == "year_end")
    assert float(total["cagr_pct"]) == pytest.approx(100 * ((891_300 / 354_393) ** (1 / 16) - 1))
    assert total["source_ids"] == "bluebook-2023;nbs-yearbook-2008"


def test_trends_table_shows_changes_and_sources(built_warehouse):
    res = _metrics(built_warehouse, "--metric", "trends", "--year", "2013")
    assert res.exit_code == 0, res.output
    assert "cagr_pct" in res.stdout and "48000" in res.stdout and "gysb-mca-2013" in res.stdout


def test_foundations_json_has_the_overseas_figures(built_warehouse):
    res = _metrics(built_warehouse, "--metric", "foundations", "--format", "json")
    rows = json.loads(res.stdout)
    assert [r["overseas_projects"] for r in rows if r["overseas_projects"] is not None] == [92]


def test_participation_trends_only_for_series_with_two_points(built_warehouse):
    res = _metrics(built_warehouse, "--metric", "participation-trends", "--format", "json")
    assert [r["year"] for r in json.loads(res.stdout)] == [2012, 2016]


def test_an_unknown_metric_is_a_usage_error(built_warehouse):
    res = _metrics(built_warehouse, "--metric", "growth")
    assert res.exit_code == 2 and "participation, trends" in res.output


def test_a_start_year_only_goes_with_cagr(built_warehouse):
    assert _metrics(built_warehouse, "--metric", "trends", "--from-year", "2006").exit_code == 2


def test_a_year_without_rows_says_so(built_warehouse):
    res = _metrics(built_warehouse, "--metric", "participation-trends", "--year", "2013")
    assert res.exit_code == 0 and "no participation-trends rows for 2013" in res.output


def test_the_installed_command_exits_2_on_a_usage_error(built_warehouse):
    import subprocess
    import sys

    for args in (["--metric", "growth"], ["--yr", "2012"]):
        res = subprocess.run([sys.executable, "-m", "ngobrief.cli", "metrics", "--warehouse", str(built_warehouse),
                              *args], capture_output=True, text=True)
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
