"""Early processes (ngobrief.early): a run's build is validated in a process that imported Great
Expectations while the run copied and loaded. The findings are those of validating in the run's own
process, with the run's settings; a process not needed is stopped; turned off, none starts."""

from __future__ import annotations

import pytest

from ngobrief import early, pipeline, publishing, warehouse


def _refresh(wh, monkeypatch, on: bool):
    monkeypatch.setenv(early.VALIDATE[2], "1" if on else "0")
    snapshots = pipeline.pull_stage()
    build = publishing.begin_stage(snapshots, wh)
    slot = early._slots.get(early.VALIDATE[0])
    if on:
        assert slot is not None and slot[0] == build.path   # bound to this build
    else:
        assert slot is None
    pipeline.load_stage(snapshots, build.path)
    run = pipeline.validate_stage(build.path)
    assert early.VALIDATE[0] not in early._slots         # taken, once
    if on:
        assert slot[1].proc.returncode == 0               # it served the call and ended by itself
    con = warehouse.connect(build.path, read_only=True)
    try:
        stored = con.sql("SELECT suite, expectation, severity, success, description, observed_value, unexpected_rows "
                         "FROM audit.validation_results ORDER BY ALL").fetchall()
    finally:
        con.close()
    return run, stored


def _findings(run):
    return sorted((f.suite, f.severity, f.summary()) for f in run.errors + run.warnings)


def test_a_build_validated_early_finds_what_validating_here_finds(tmp_path, monkeypatch):
    here, stored_here = _refresh(tmp_path / "a" / "warehouse.duckdb", monkeypatch, on=False)
    there, stored_there = _refresh(tmp_path / "b" / "warehouse.duckdb", monkeypatch, on=True)
    assert _findings(there) == _findings(here) and len(here.warnings) > 0
    assert stored_there == stored_here and len(stored_here) > 50
    assert [s.suite for s in there.suites] == [s.suite for s in here.suites]


def test_the_early_process_validates_with_the_run_s_settings(tmp_path, monkeypatch, blocking_suite):
    """A suite directory the run was pointed at (config.EXPECTATIONS_DIR) is the one checked there."""
    run, _ = _refresh(tmp_path / "warehouse.duckdb", monkeypatch, on=True)
    assert [f.suite for f in run.errors] == ["zz_test_blocks_2013"]


def test_a_begin_with_nothing_to_build_stops_the_early_process(tmp_path, monkeypatch):
    wh = tmp_path / "warehouse.duckdb"
    publishing.refresh(wh)
    monkeypatch.setenv(early.VALIDATE[2], "1")
    started = []
    real = early.Early.__init__
    monkeypatch.setattr(early.Early, "__init__", lambda self, preload: started.append(self) or real(self, preload))
    assert publishing.begin_stage(pipeline.pull_stage(), wh) is None
    assert len(started) == 1 and started[0].proc.returncode is not None   # started, then stopped
    assert early.VALIDATE[0] not in early._slots


def test_a_call_the_process_cannot_answer_is_left_to_the_caller(tmp_path):
    gone = early.Early("json")
    gone.proc.kill()
    gone.proc.wait()
    assert gone.call("json:dumps", [1]) is None
    assert early.Early("json").call("json:dumps", [1]) == ("[1]",)
    with pytest.raises(ValueError, match="Expecting value"):
        early.Early("json").call("json:loads", "not json")


def test_turned_off_or_on_one_core_no_early_process_starts(monkeypatch):
    monkeypatch.setenv(early.VALIDATE[2], "0")
    early.start(*early.VALIDATE)
    assert not early.waiting(early.VALIDATE[0])
    monkeypatch.setenv(early.VALIDATE[2], "1")
    monkeypatch.setattr(early.os, "sched_getaffinity", lambda pid: {0})
    early.start(*early.VALIDATE)
    assert not early.waiting(early.VALIDATE[0])
