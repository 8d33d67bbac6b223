"""The flows run in this test process against Prefect's test harness (one temporary server for the
module: it costs seconds to start): parse results cached by content hash, the warehouse lock held for
a whole run, run names that say what ran, and the run's artifact."""

from __future__ import annotations

import re

import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
from prefect import flow

from flows.annual_refresh import annual_refresh
from flows.brief_on_demand import brief_on_demand
from flows.tasks import load_snapshots, pull
from ngobrief import pipeline, warehouse
from ngobrief.errors import ManifestError, PublishingBlocked, WarehouseBusyError

_HOLD = """
import sys
from ngobrief import lock
with lock.warehouse_lock(sys.argv[1], what=sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextmanager
def held_elsewhere(warehouse_path, what):
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(warehouse_path), what],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.fixture(scope="module", autouse=True)
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@flow(name="load-only")
def load_only(warehouse_path: Path) -> dict:
    return load_snapshots(pull(), warehouse_path)


@pytest.fixture
def result_storage(tmp_path):
    """Parse results go to an empty store of the test's own."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    path = tmp_path / "prefect-results"
    with temporary_settings({PREFECT_LOCAL_STORAGE_PATH: path}):
        yield path


@pytest.fixture
def outputs(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("NGOBRIEF_OUTPUTS", str(tmp_path / "outputs"))
    return tmp_path / "outputs"


@pytest.fixture
def warehouse_copy(built_warehouse, tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, path)
    return path


def _rows(path: Path, table: str) -> int:
    con = warehouse.connect(path, read_only=True)
    try:
        return con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


def _flow_run(state):
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        artifacts = client.read_artifacts()
    return run, [a for a in artifacts if a.flow_run_id == run.id]


def test_unchanged_source_is_parsed_once_whatever_warehouse_it_goes_to(tmp_path, result_storage):
    first = load_only(tmp_path / "a.duckdb")
    second = load_only(tmp_path / "b.duckdb")
    third = load_only(tmp_path / "b.duckdb")
    assert first["observations"].startswith("parsed (sha256 f427ea2dfa20)")
    assert second["observations"].startswith("parse reused from cache (sha256 f427ea2dfa20)")
    assert third["observations"].startswith("unchanged")
    assert first["observations"].split(", ")[1] == second["observations"].split(", ")[1]
    assert _rows(tmp_path / "a.duckdb", "staging.observations") == _rows(tmp_path / "b.duckdb", "staging.observations") > 0
    # one cached parse per bundled snapshot: two long-layout files (observations, observations_verified)
    assert sorted(p.name.split("-")[1] for p in result_storage.glob("parse-*")) == [
        "long_csv", "long_csv", "ricf_tsv", "survey_csv"]


def test_a_changed_parser_parses_again(tmp_path, result_storage, monkeypatch):
    load_only(tmp_path / "a.duckdb")
    monkeypatch.setattr(pipeline.ingest, "parser_version", lambda parser, source_id=None: "a fixed parser")
    assert load_only(tmp_path / "b.duckdb")["observations"].startswith("parsed")


def test_a_run_that_finds_the_warehouse_busy_waits_then_fails_naming_the_holder(tmp_path):
    path = tmp_path / "w.duckdb"
    with held_elsewhere(path, "flow run brief-2012-zh (a test)"):
        state = annual_refresh(year=2013, langs=["en"], warehouse=path, lock_timeout=0.5, return_state=True)
    assert state.is_failed()
    with pytest.raises(WarehouseBusyError, match=r"brief-2012-zh \(a test\).*after waiting 0.5 s"):
        state.result()
    assert not path.exists()


def test_latest_refresh_is_named_for_its_year_and_leaves_an_artifact(warehouse_copy, outputs):
    state = annual_refresh(year="latest", langs=["en"], warehouse=warehouse_copy, return_state=True)
    result = state.result()
    assert result["years"] == [2021] and result["briefs"] == [str(outputs / "briefs" / "ngobrief-2021-en.pdf")]
    assert Path(result["briefs"][0]).stat().st_size > 0
    run, artifacts = _flow_run(state)
    assert run.name == "annual-refresh-2021"
    assert [a.key for a in artifacts] == ["annual-refresh-2021"] and artifacts[0].type == "markdown"
    text = artifacts[0].data
    assert "## Key figures" in text and "| 2021 |" in text
    assert f"`{result['briefs'][0]}`" in text
    assert f"Validation report: `{result['validation_report']}`" in text and Path(result["validation_report"]).exists()
    assert re.search(r"0 error\(s\), [1-9]\d* warning\(s\)", text)  # the warnings are real findings


def test_brief_on_demand_reuses_a_validation_that_checked_the_same_rows(warehouse_copy, outputs):
    def validation_runs():
        return _rows(warehouse_copy, "(SELECT DISTINCT run_id FROM audit.validation_results)")

    before = validation_runs()
    state = brief_on_demand(year=2012, lang="zh", types=["foundation"], warehouse=warehouse_copy, return_state=True)
    result = state.result()
    assert result["brief"] == str(outputs / "briefs" / "ngobrief-2012-zh-foundation.pdf")
    assert Path(result["brief"]).stat().st_size > 0
    assert validation_runs() == before
    run, artifacts = _flow_run(state)
    assert run.name == "brief-2012-zh-foundation"
    assert [a.key for a in artifacts] == ["brief-2012-zh-foundation"]
    assert "| foundation |" in artifacts[0].data and "| all |" not in artifacts[0].data


def _store_error(path, suite, description, rows_json):
    """Add a failed error-level check to the stored validation run (which then still matches the rows)."""
    con = warehouse.connect(path)
    try:
        con.execute("""INSERT INTO audit.validation_results (run_id, run_at, suite, expectation, severity, success,
                              description, observed_value, unexpected_rows, data_fingerprint)
                       SELECT run_id, run_at, ?, 'expect_x', 'error', false, ?, '1', ?, data_fingerprint
                       FROM audit.validation_results LIMIT 1""", [suite, description, rows_json])
    finally:
        con.close()


def test_brief_on_demand_refuses_a_year_that_validation_blocks(warehouse_copy, outputs):
    _store_error(warehouse_copy, "marts_participation", "engaged never exceeds registered", '[{"year": 2012}]')
    with pytest.raises(PublishingBlocked, match="no brief for 2012.*engaged never exceeds registered"):
        brief_on_demand(year=2012, lang="en", warehouse=warehouse_copy)
    assert not (outputs / "briefs" / "ngobrief-2012-en.pdf").exists()


@pytest.mark.parametrize("failure, attempts, completed", [(OSError("connection reset"), 2, True),
                                                          (ManifestError("data/x.csv has sha256 0000"), 1, False)])
def test_pull_retries_a_transient_failure_but_not_a_bad_snapshot(monkeypatch, failure, attempts, completed):
    calls = []

    def flaky_pull():
        calls.append(1)
        if len(calls) == 1:
            raise failure
        return []

    monkeypatch.setattr(pipeline, "pull_stage", flaky_pull)
    quick_pull = pull.with_options(retry_delay_seconds=0, retry_jitter_factor=None)

    @flow(name="pull-only")
    def pull_only():
        return quick_pull()

    state = pull_only(return_state=True)
    assert len(calls) == attempts and state.is_completed() == completed


def test_brief_on_demand_refuses_every_year_when_a_check_without_a_year_fails(warehouse_copy, outputs):
    # a survey row has no year: the same rule as `ngobrief run` (validate.blocks) blocks every year
    _store_error(warehouse_copy, "staging_survey_priorities", "survey percentages lie between 0 and 100",
                 '[{"rank": 3, "sector_en": "education"}]')
    with pytest.raises(PublishingBlocked, match="no brief for 2012.*survey percentages"):
        brief_on_demand(year=2012, lang="en", warehouse=warehouse_copy)
    assert not (outputs / "briefs" / "ngobrief-2012-en.pdf").exists()
