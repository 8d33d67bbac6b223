"""Orchestration without a server: the warehouse lock, what the flows cache and skip, run summaries,
and the deployment settings in prefect.yaml and prefect.toml."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import tomllib
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from ngobrief import editions, lock, pipeline, warehouse
from ngobrief.errors import NgobriefError, WarehouseBusyError

ROOT = Path(__file__).resolve().parent.parent

_HOLD = """
import sys
from ngobrief import lock
with lock.warehouse_lock(sys.argv[1], what=sys.argv[2]):
    print("held", flush=True)
    sys.stdin.read()
"""


@contextmanager
def held_elsewhere(warehouse_path, what="flow run annual-refresh-2013 (a test)"):
    """Another process holds the warehouse lock until the block ends."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(warehouse_path), what],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield proc
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)


@pytest.fixture
def warehouse_copy(built_warehouse, tmp_path) -> Path:
    """A warehouse of the test's own, built and validated (a copy of the session's)."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, path)
    return path


# --- the warehouse lock ---------------------------------------------------------------------------

def test_second_writer_fails_at_once_naming_the_holder(tmp_path):
    path = tmp_path / "w.duckdb"
    with held_elsewhere(path) as holder:
        with pytest.raises(WarehouseBusyError) as err:
            with lock.warehouse_lock(path, wait=0):
                pass
    message = str(err.value)
    assert "flow run annual-refresh-2013 (a test)" in message and f"pid {holder.pid}" in message
    assert err.value.exit_code == 3


def test_second_writer_waits_for_the_holder_to_finish(tmp_path):
    path = tmp_path / "w.duckdb"
    told = []
    with held_elsewhere(path) as holder:
        threading.Timer(0.5, holder.stdin.close).start()
        with lock.warehouse_lock(path, what="second", wait=30, on_wait=told.append):
            assert lock.holder(path).startswith("second")
    assert len(told) == 1 and "annual-refresh-2013" in told[0]


class _FakeClock:
    """Stands in for the lock's clock: time passes only when the lock sleeps, so the test sees how
    long it waited without timing anything."""

    def __init__(self):
        self.now, self.sleeps = 1000.0, []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def test_waiting_gives_up_after_the_timeout(tmp_path, monkeypatch):
    path = tmp_path / "w.duckdb"
    clock, told = _FakeClock(), []
    monkeypatch.setattr(lock, "time", clock)
    with held_elsewhere(path):
        with pytest.raises(WarehouseBusyError, match="after waiting 0.5 s"):
            with lock.warehouse_lock(path, wait=0.5, poll=0.2, on_wait=told.append):
                pass
    # it kept trying, a poll at a time, until the wait was used up, and said once whom it waited for
    assert clock.sleeps == [0.2, 0.2, 0.2] and len(told) == 1 and "annual-refresh-2013" in told[0]


def test_lock_is_released_when_its_holder_dies(tmp_path):
    path = tmp_path / "w.duckdb"
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(path), "a run that crashes"],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    proc.kill()
    proc.wait(timeout=30)
    with lock.warehouse_lock(path, wait=0):
        assert f"pid {os.getpid()} " in lock.holder(path)


def test_lock_is_reentrant_within_a_process_and_released_by_the_outermost(tmp_path):
    path = tmp_path / "w.duckdb"
    probe = [sys.executable, "-c", "import sys\nfrom ngobrief import lock\n"
             "with lock.warehouse_lock(sys.argv[1], wait=0): pass", str(path)]
    with lock.warehouse_lock(path, what="outer", wait=0):
        with lock.warehouse_lock(path, what="inner", wait=0):
            assert lock.holder(path).startswith("outer")
        assert subprocess.run(probe, capture_output=True).returncode != 0
    assert subprocess.run(probe, capture_output=True).returncode == 0


def test_briefs_only_read_so_they_render_while_a_run_holds_the_warehouse(warehouse_copy, tmp_path):
    # briefs read the published edition and never take the write lock (docs/orchestration.md)
    before = warehouse.table_fingerprints(con := warehouse.connect(warehouse_copy, read_only=True))
    con.close()
    with held_elsewhere(warehouse_copy):
        pipeline.render_stage(2013, "en", warehouse_copy, out=tmp_path / "b.pdf")
        res = subprocess.run([sys.executable, "-m", "ngobrief.cli", "brief", "--year", "2013", "--warehouse",
                              str(warehouse_copy), "--out", str(tmp_path / "c.pdf")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "b.pdf").read_bytes()[:5] == (tmp_path / "c.pdf").read_bytes()[:5] == b"%PDF-"
    con = warehouse.connect(warehouse_copy, read_only=True)
    try:
        assert warehouse.table_fingerprints(con) == before          # nothing written into the warehouse
    finally:
        con.close()
    assert [b["path"] for b in editions.briefs_written(warehouse_copy)] == [str(tmp_path / "b.pdf"),
                                                                         str(tmp_path / "c.pdf")]


# --- what a run can skip --------------------------------------------------------------------------

def test_parse_cache_key_follows_the_snapshot_bytes_and_the_parser_code(monkeypatch):
    snap = next(s for s in pipeline.pull_stage() if s.snapshot_id == "observations")
    key = pipeline.parse_cache_key(snap)
    assert key == pipeline.parse_cache_key(dataclasses.replace(snap, snapshot_id="a copy", path=Path("elsewhere")))
    assert snap.sha256 in key
    assert pipeline.parse_cache_key(dataclasses.replace(snap, sha256="0" * 64)) != key
    monkeypatch.setattr(pipeline.ingest, "parser_version", lambda parser, source_id=None: "f" * 64)
    assert pipeline.parse_cache_key(snap) != key


def test_a_fix_to_one_layout_parses_only_that_layout_again(monkeypatch, tmp_path):
    ingest = pipeline.ingest
    before = {name: ingest.parser_version(name) for name in ingest.registry()}
    ricf = ingest.layout("ricf_tsv")
    fixed = tmp_path / "ricf_tsv.py"
    fixed.write_text(Path(ricf.module.__file__).read_text(encoding="utf-8") + "\n# a fix\n", encoding="utf-8")
    monkeypatch.setattr(ricf.module, "__file__", str(fixed))
    after = {name: ingest.parser_version(name) for name in ingest.registry()}
    assert [name for name in before if before[name] != after[name]] == ["ricf_tsv"]


def test_only_snapshots_new_to_the_warehouse_are_parsed(tmp_path):
    path = tmp_path / "w.duckdb"
    snaps = pipeline.pull_stage()
    pipeline.prepare_stage(path)
    parseable = [s.snapshot_id for s in snaps if s.parser in pipeline.ingest.registry()]
    assert [s.snapshot_id for s in pipeline.pending_snapshots(snaps, path)] == parseable
    loaded = pipeline.load_stage(snaps, path)
    assert all(loaded[sid] > 0 for sid in parseable)
    assert pipeline.pending_snapshots(snaps, path) == []
    assert set(pipeline.load_stage(snaps, path).values()) == {0}


def test_validation_is_current_until_the_rows_it_checked_change(warehouse_copy):
    assert pipeline.validation_is_current(warehouse_copy)
    con = warehouse.connect(warehouse_copy)
    try:
        con.execute("DELETE FROM staging.observations WHERE source_row = (SELECT max(source_row) FROM staging.observations)")
    finally:
        con.close()
    assert not pipeline.validation_is_current(warehouse_copy)


def test_a_new_warehouse_has_no_current_validation(tmp_path):
    path = tmp_path / "w.duckdb"
    pipeline.load_stage(pipeline.pull_stage(), path)
    assert not pipeline.validation_is_current(path)
    assert pipeline.validation_summary(path)["run_id"] is None


def test_stored_error_blocks_only_the_years_it_names(warehouse_copy):
    assert pipeline.stored_blocks(2013, warehouse_copy) == []
    con = warehouse.connect(warehouse_copy)
    try:
        con.execute("""INSERT INTO audit.validation_results (run_id, run_at, suite, expectation, severity, success,
                              description, observed_value, unexpected_rows, data_fingerprint)
                       SELECT run_id, run_at, 'marts_participation', 'expect_x', 'error', false,
                              'registered counts add up', '1', '[{"year": 2013, "org_type": "all"}]', data_fingerprint
                       FROM audit.validation_results LIMIT 1""")
    finally:
        con.close()
    assert pipeline.stored_blocks(2013, warehouse_copy) == ["marts_participation: registered counts add up"]
    assert pipeline.stored_blocks(2012, warehouse_copy) == []
    assert pipeline.validation_summary(warehouse_copy)["errors"] == 1


def test_years_to_brief_latest_every_or_one(built_warehouse):
    assert pipeline.compute_stage(built_warehouse, "every") == [2012, 2013, 2016, 2021]
    assert pipeline.compute_stage(built_warehouse, None) == [2012, 2013, 2016, 2021]
    assert pipeline.compute_stage(built_warehouse, "latest") == [2021]
    assert pipeline.compute_stage(built_warehouse, 2013) == [2013]
    with pytest.raises(NgobriefError, match="no participation figures for 1999.*2012, 2013, 2016, 2021"):
        pipeline.compute_stage(built_warehouse, 1999)


def test_brief_on_some_org_types_gets_its_own_file_name():
    assert pipeline.brief_path(2012, "zh").name == "ngobrief-2012-zh.pdf"
    assert pipeline.brief_path(2012, "zh", ["social_association", "foundation"]).name == \
        "ngobrief-2012-zh-foundation-social_association.pdf"


# --- run summaries --------------------------------------------------------------------------------

def test_run_summary_shows_figures_validation_and_files(built_warehouse):
    validation = pipeline.validation_summary(built_warehouse)
    text = pipeline.summary_markdown(
        "annual-refresh-2012", figures=pipeline.key_figures([2012], built_warehouse), validation=validation,
        briefs=["outputs/briefs/ngobrief-2012-en.pdf"], blocked={2013: ["suite_x: counts add up"]},
        loaded={"observations": "unchanged"})
    all_row = next(line for line in text.splitlines() if line.startswith("| 2012 | year_end |") and "| all |" in line)
    assert "| 556 | 499,000 | 0.11% |" in all_row
    assert f"Run `{validation['run_id']}`: 0 error(s), {validation['warnings']} warning(s)." in text
    assert validation["warnings"] >= 1  # the bundled data's real findings (tests/test_validate.py)
    assert validation["findings"][0] in text and validation["findings"][0].startswith("warning · ")
    assert "`outputs/briefs/ngobrief-2012-en.pdf`" in text
    assert "**No brief for 2013**: suite_x: counts add up" in text
    assert "- observations: unchanged" in text


def test_validation_stage_writes_a_report_the_summary_points_to(tmp_path, monkeypatch):
    monkeypatch.setenv("NGOBRIEF_OUTPUTS", str(tmp_path / "out"))
    path = tmp_path / "w.duckdb"
    pipeline.load_stage(pipeline.pull_stage(), path)
    run = pipeline.validate_stage(path)
    summary = pipeline.validation_summary(path)
    assert summary["run_id"] == run.run_id
    report = Path(summary["report"]).read_text(encoding="utf-8")
    assert Path(summary["report"]).parent == tmp_path / "out" / "validation"
    assert run.run_id in report and summary["run_id"] == run.run_id
    assert summary["warnings"] == len(run.warnings) and summary["errors"] == len(run.errors)


# --- deployments and settings ---------------------------------------------------------------------

def _deployments() -> dict:
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    return {d["name"]: d for d in spec["deployments"]}


def test_annual_refresh_is_scheduled_once_a_year_and_keeps_a_paused_schedule_paused():
    schedules = _deployments()["annual-refresh"]["schedules"]
    assert len(schedules) == 1
    s = schedules[0]
    assert s["cron"] == "0 9 1 8 *" and s["timezone"] == "Asia/Shanghai"
    # A slug lets a redeploy update the schedule in place; an `active` here would override a pause.
    assert s.get("slug") and "active" not in s


def test_brief_on_demand_has_no_schedule():
    assert not _deployments()["brief-on-demand"].get("schedules")


def test_deployments_name_flows_that_accept_their_parameters():
    from prefect.flows import load_flow_from_entrypoint

    required = {"brief-on-demand": {"year": 2013}}
    for name, d in _deployments().items():
        flow = load_flow_from_entrypoint(str(ROOT / d["entrypoint"]))
        assert flow.name == name
        assert flow.validate_parameters({**d.get("parameters", {}), **required.get(name, {})})
        assert d["work_pool"]["name"] == "ngobrief"


def test_deployments_run_from_the_project_folder_without_fetching_code():
    spec = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    assert [list(step) for step in spec["pull"]] == [["prefect.deployments.steps.set_working_directory"]]
    assert spec.get("push") is None
    assert "git" not in json.dumps(spec["build"]) + json.dumps(spec["pull"])


def test_telemetry_is_off_in_the_project_settings():
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_SERVER_ANALYTICS_ENABLED", "DO_NOT_TRACK")}
    code = ("from prefect.settings import get_current_settings\n"
            "print(get_current_settings().server.analytics_enabled)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    assert tomllib.loads((ROOT / "prefect.toml").read_text())["server"]["analytics_enabled"] is False
    makefile = (ROOT / "Makefile").read_text()
    assert "export DO_NOT_TRACK := 1" in makefile and "export PREFECT_SERVER_ANALYTICS_ENABLED := false" in makefile


def test_flows_turn_client_telemetry_off_unless_chosen():
    env = {k: v for k, v in os.environ.items() if k != "DO_NOT_TRACK"}
    code = "import os, flows\nprint(os.environ['DO_NOT_TRACK'])"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "1"


def test_pull_retries_transient_failures_with_backoff_but_not_bad_snapshots():
    from prefect.states import Failed

    from flows.tasks import pull, retry_unless_user_error
    from ngobrief.errors import ManifestError

    assert pull.retries == 3 and pull.retry_delay_seconds == [2, 4, 8] and pull.retry_jitter_factor == 0.5
    assert retry_unless_user_error(pull, None, Failed(data=OSError("connection reset")))
    assert not retry_unless_user_error(pull, None, Failed(data=ManifestError("sha256 differs")))


def test_run_names_say_what_ran():
    from flows.annual_refresh import run_name as annual
    from flows.brief_on_demand import run_name as brief
    from flows.tasks import artifact_key

    assert annual(2013) == "annual-refresh-2013" and annual("every") == "annual-refresh-all-years"
    assert brief(2012, "zh") == "brief-2012-zh"
    assert brief(2012, "en", ["social_association", "foundation"]) == "brief-2012-en-foundation-social_association"
    assert artifact_key("brief-2012-en-foundation-social_association") == "brief-2012-en-foundation-social-association"
