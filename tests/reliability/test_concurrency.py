"""Concurrency end to end: two `ngobrief run` at once, and readers while a run writes.

tests/test_orchestration.py proves the lock itself (fail at once, wait, release on death, re-entry)
with a stand-in holder, and tests/test_warehouse_cli.py a reader against a bare DuckDB writer. Here
the holder is a real `ngobrief run` (the Prefect flow), paused inside its validation stage, with its
build copy open for writing, until the test lets it go; everything else is the command line as typed."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import duckdb
import pytest

from ngobrief import editions

from ._procs import ROOT, checksums, cli_cmd, cli_env, file_sha256, one_line_error

# `ngobrief ARGS` that stops inside the validation stage (lock held, build copy open for writing),
# says so in the file READY, and goes on when the file GATE appears.
_PAUSED_RUN = r"""
import os, sys, time
from pathlib import Path
from ngobrief import cli, pipeline

gate, ready = Path(sys.argv[1]), Path(sys.argv[2])
# the stage itself, not validate.store: a validation whose inputs are unchanged is reused, not stored
real = pipeline.validate_stage
def validate_stage(*a, **kw):
    ready.write_text(str(os.getpid()))
    while not gate.exists():
        time.sleep(0.05)
    return real(*a, **kw)
pipeline.validate_stage = validate_stage
sys.argv = ["ngobrief", *sys.argv[3:]]
cli.main()
"""

RUN = ["run", "--year", "2013", "--lang", "en"]


def _wait_for(predicate, proc: subprocess.Popen, what: str, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert proc.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"no {what} within {timeout} s"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def two_runs(built_warehouse, tmp_path_factory):
    """Run A pauses while writing; meanwhile run B (--wait 0), run C (--wait 300) and the readers try.
    Then A goes on, C runs after it, and everyone's output is kept for the tests below."""
    tmp = tmp_path_factory.mktemp("two-runs")
    outputs = tmp / "outputs"
    outputs.mkdir()
    wh = outputs / "warehouse.duckdb"
    shutil.copy(built_warehouse, wh)
    env = cli_env(outputs)
    gate, ready = tmp / "gate", tmp / "ready"
    a = subprocess.Popen([sys.executable, "-c", _PAUSED_RUN, str(gate), str(ready), *RUN], cwd=ROOT, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    c_log, c = tmp / "c.log", None
    try:
        _wait_for(ready.exists, a, "pause in run A")
        tries = {"b": [*RUN, "--wait", "0"], "sql": ["warehouse", "sql", "SELECT count(*) FROM raw.observations"],
                 "metrics": ["metrics", "--year", "2013"], "pull": ["pull"]}
        procs = {k: subprocess.Popen(cli_cmd(*args), cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True) for k, args in tries.items()}
        seen = {"a_pid": a.pid}
        for k, p in procs.items():
            out, err = p.communicate(timeout=120)
            seen[k] = subprocess.CompletedProcess(p.args, p.returncode, out, err)
        with open(c_log, "w") as log:
            c = subprocess.Popen(cli_cmd(*RUN, "--wait", "300"), cwd=ROOT, env=env, stdout=log,
                                 stderr=subprocess.STDOUT, text=True)
            _wait_for(lambda: "waiting up to 300 s for the warehouse" in c_log.read_text(), c, "wait message from C")
            assert a.poll() is None and c.poll() is None
            gate.touch()
            a_out, a_err = a.communicate(timeout=300)
            c.wait(timeout=300)
    finally:
        gate.touch()
        for proc in (a, c):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
    seen.update(a=(a.returncode, a_out, a_err), c=(c.returncode, c_log.read_text()), wh=wh, outputs=outputs)
    return seen


def test_a_second_run_that_will_not_wait_exits_3_naming_the_run_that_holds_the_warehouse(two_runs):
    b = two_runs["b"]
    assert b.returncode == 3, b.stdout + b.stderr[-3000:]
    line = one_line_error(b.stderr)        # said before Prefect starts: no flow run, no trace
    assert line.startswith(f"error: the warehouse {two_runs['wh']} is being written by "
                           f"`ngobrief {' '.join(RUN)}` (pid {two_runs['a_pid']} ")


def test_a_second_run_that_waits_runs_after_the_first_and_succeeds(two_runs):
    (a_code, a_out, a_err), (c_code, c_out) = two_runs["a"], two_runs["c"]
    assert a_code == 0, a_err[-3000:]
    assert c_code == 0, c_out[-3000:]
    assert f"for the warehouse: `ngobrief {' '.join(RUN)}` (pid {two_runs['a_pid']} " in c_out
    assert "brief: " in a_out and "brief: " in c_out


@pytest.mark.parametrize("reader", ["sql", "metrics"])
def test_a_reader_during_a_write_reads_the_published_edition(two_runs, reader):
    # the run writes a build copy (docs/warehouse.md, "Editions"): the published file stays readable
    res = two_runs[reader]
    assert res.returncode == 0, res.stdout + res.stderr
    assert "2013" in res.stdout if reader == "metrics" else res.stdout.strip()


def test_a_pull_during_a_run_exits_3_naming_the_run(two_runs):
    res = two_runs["pull"]
    assert res.returncode == 3, res.stdout + res.stderr
    line = one_line_error(res.stderr)
    assert f"is being written by `ngobrief {' '.join(RUN)}` (pid {two_runs['a_pid']} " in line


def test_after_both_runs_the_warehouse_and_the_brief_are_consistent(two_runs, built_warehouse):
    """The data equals the bundled load; A's edition is audited by one whole validation run (the built
    warehouse's, reused: the same inputs); C found nothing changed (no new edition, no validation), and both wrote
    the same brief, which is the PDF on disk."""
    after, built = checksums(two_runs["wh"]), checksums(built_warehouse)
    assert {k: v for k, v in after.items() if not k.startswith("audit.")} == \
           {k: v for k, v in built.items() if not k.startswith("audit.")}
    con = duckdb.connect(str(two_runs["wh"]), read_only=True)
    try:
        runs = con.execute("SELECT run_id, count(*), string_agg(suite || data_fingerprint, ',' ORDER BY suite) "
                           "FROM audit.validation_runs GROUP BY run_id ORDER BY min(run_at)").fetchall()
    finally:
        con.close()
    built_runs = duckdb.connect(str(built_warehouse), read_only=True)
    try:
        suites = built_runs.execute("SELECT count(DISTINCT suite) FROM audit.validation_runs").fetchall()[0][0]
    finally:
        built_runs.close()
    # the built warehouse's own, whole; A's inputs are the same, so A's audit reused it (validation
    # reuse by fingerprint) and the edition A published records that run
    assert len(runs) == 1 and runs[0][1] == suites
    published = editions.entry(editions.read_manifest(two_runs["wh"]), editions.published_id(two_runs["wh"]))
    assert published["validation"]["run_id"] == runs[0][0]
    assert "inputs unchanged, no new edition" in two_runs["c"][1]
    pdf = two_runs["outputs"] / "briefs" / "ngobrief-2013-en.pdf"
    briefs = [(b["year"], b["lang"], b["path"], b["pdf_sha256"]) for b in editions.briefs_written(two_runs["wh"])]
    assert [b[:3] for b in briefs] == [(2013, "en", str(pdf))] * 2
    assert briefs[0][3] == briefs[1][3] == file_sha256(pdf)
