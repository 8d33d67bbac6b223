"""Faults: a load killed with SIGKILL at chosen and at random points, a read-only or full output
folder, a disk that fills in the middle of a load, and the network down during a refresh.

The warehouse is judged by a checksum of every table (tests/reliability/_procs.py): after any fault it
must equal one of the states a load passes through when nothing goes wrong — the state before, or the
state after each snapshot's transaction — never something in between. A standalone `pull` loads into
the staged build copy (editions/builds/staged.duckdb, made from the published file), never into the
published file: the loads are judged there, and the published file must not change at all."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import local_server
import pytest
import tomlkit

from ngobrief import config, editions, lock, pull

from ._procs import ROOT, checksums, cli_cmd, cli_env, file_sha256, one_line_error

# --------------------------------------------------------------------------------------------------
# A warehouse holding a known committed state, and every state a pull of the bundled data can leave.

# The previous version of the bundled data: observations without its last row, the register with its
# first 999 foundations. Pulling the bundled data replaces both (a DELETE and an INSERT in one
# transaction each) and leaves survey_priorities alone.
OLDER = {"observations": -1, "ricf_2013": 1000}


def _older_data(folder: Path) -> Path:
    doc = tomlkit.parse((config.DATA_DIR / "sources.toml").read_text(encoding="utf-8"))
    for sid, entry in doc["snapshots"].items():
        data = (config.DATA_DIR / entry["file"]).read_bytes()
        if sid in OLDER:
            data = b"".join(data.splitlines(keepends=True)[:OLDER[sid]])
        (folder / entry["file"]).parent.mkdir(parents=True, exist_ok=True)
        (folder / entry["file"]).write_bytes(data)
        entry["sha256"] = hashlib.sha256(data).hexdigest()
    (folder / "sources.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    return folder / "sources.toml"


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """W0 (the older data, committed) and the checksums of every state a pull from W0 can end in:
    W0 itself, then after each snapshot's transaction, in manifest order."""
    d = tmp_path_factory.mktemp("states")
    manifest = _older_data(d / "older")
    w0 = d / "w0.duckdb"
    pull.load_bundled(w0, manifest, d / "older")
    assert not Path(f"{w0}.wal").exists()
    bundled_manifest = pull.read_manifest()
    snaps = pull.bundled_snapshots(bundled_manifest)
    known = [checksums(w0)]
    for k in range(1, len(snaps) + 1):
        step = d / f"after-{k}.duckdb"
        shutil.copy(w0, step)
        pull._load_bundled(snaps[:k], bundled_manifest, step)
        known.append(checksums(step))
    final = known[-1]
    names = ["before"] + [f"after {s.snapshot_id}" for s in snaps]
    distinct = {}
    for name, state in zip(names, known):
        distinct.setdefault(tuple(sorted(state.items())), name)
    # the older data really differs: three distinct states (survey_priorities changes nothing)
    assert len(distinct) == 3 and known[0] != final
    return {"w0": w0, "known": distinct, "final": final, "before": known[0], "after_first": known[1]}


def _state_name(states, path: Path) -> str:
    got = tuple(sorted(checksums(path).items()))
    assert got in states["known"], "the warehouse holds a state no complete transaction leads to"
    return states["known"][got]


def _staged(path: Path) -> Path:
    """The build copy a pull of the warehouse `path` loads into."""
    return editions.builds_dir(path) / "staged.duckdb"


def _pulled_state(states, path: Path, *, staged_made: bool = True) -> str:
    """The state a pull into the warehouse `path` has left: that of its staged copy, or, when the pull
    ended before making one (allowed only when not `staged_made`), the published file's, where the
    next pull starts from."""
    if not staged_made and not _staged(path).exists():
        return _state_name(states, path)
    assert _staged(path).exists(), "the pull left no staged build copy"
    return _state_name(states, _staged(path))


def _w0_copy(states, path: Path) -> str:
    """The warehouse `path` holding W0; returns the file's sha256 (a pull must leave it byte-identical)."""
    shutil.copy(states["w0"], path)
    return file_sha256(path)


def _pull_in_process(run_cli, path: Path, monkeypatch) -> tuple[int, str]:
    """`ngobrief pull` in this process, waiting for the lock as a user's would: (exit code, output)."""
    monkeypatch.delenv(lock.WAIT_ENV, raising=False)
    code, out, err = run_cli("pull", "--warehouse", path)
    return code, out + err


# The process kills itself at a chosen point of `ngobrief pull`: the hooks wrap library functions
# and the command runs as the user would run it (cli.main).
_KILL_AT = r"""
import os, signal, sys
from ngobrief import cli, warehouse

point, nth, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
seen = [0]

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if point == "mid-transaction":          # rows deleted and inserted, provenance row not yet, no COMMIT
    real = warehouse._utc_now
    def hooked():
        seen[0] += 1
        if seen[0] == nth:
            die()
        return real()
    warehouse._utc_now = hooked
elif point == "after-commit":           # the nth snapshot committed (in the WAL), the file not closed
    real = warehouse.write_snapshot
    def hooked(*a, **k):
        rows = real(*a, **k)
        seen[0] += bool(rows)
        if rows and seen[0] == nth:
            die()
        return rows
    warehouse.write_snapshot = hooked
elif point == "replacing-sources":      # raw.sources emptied inside its transaction
    def hooked(con, sources):
        con.execute("BEGIN TRANSACTION")
        con.execute("DELETE FROM raw.sources")
        die()
    warehouse.load_sources = hooked
sys.argv = ["ngobrief", "pull", "--warehouse", path]
cli.main()
"""

HOOKED = [("replacing-sources", 1, "before"), ("mid-transaction", 1, "before"),
          ("after-commit", 1, "after observations"), ("mid-transaction", 2, "after observations"),
          ("after-commit", 2, "after ricf_2013")]


@pytest.mark.parametrize("point,nth,expected", HOOKED, ids=[f"{p}-{n}" for p, n, _ in HOOKED])
def test_sigkill_at_a_chosen_point_leaves_the_last_committed_state(states, tmp_path, point, nth, expected,
                                                                   monkeypatch, run_cli):
    path = tmp_path / "warehouse.duckdb"
    published = _w0_copy(states, path)
    res = subprocess.run([sys.executable, "-c", _KILL_AT, point, str(nth), str(path)], capture_output=True,
                         text=True, cwd=ROOT, env=cli_env(tmp_path / "outputs"), timeout=120)
    assert res.returncode == -signal.SIGKILL, res.stderr[-2000:]
    assert _pulled_state(states, path) == expected
    code, out = _pull_in_process(run_cli, path, monkeypatch)     # the next pull finishes the job
    assert code == 0, out
    assert checksums(_staged(path)) == states["final"]
    assert file_sha256(path) == published


def _load_window(states, tmp_path) -> float:
    """Seconds from the moment an uninterrupted pull takes the warehouse lock to its exit."""
    path = tmp_path / "reference.duckdb"
    shutil.copy(states["w0"], path)
    proc = subprocess.Popen(cli_cmd("pull", "--warehouse", path), cwd=ROOT, env=cli_env(tmp_path / "outputs"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    started = _wait_for_lock(path, proc)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err[-2000:]
    assert checksums(_staged(path)) == states["final"]
    return time.monotonic() - started


def _wait_for_lock(path: Path, proc: subprocess.Popen) -> float:
    """Wait until `proc` has taken the warehouse lock (its lock file appears): the load begins."""
    lockfile = lock.lock_path(path)
    while not lockfile.exists() and proc.poll() is None:
        time.sleep(0.002)
    return time.monotonic()


def test_sigkill_at_random_points_of_a_load_leaves_a_committed_state(states, tmp_path, monkeypatch, run_cli):
    window = _load_window(states, tmp_path)
    rnd = random.Random(20261129)                  # seeded: the same delays on every run
    landed = []
    for i, delay in enumerate(sorted(rnd.uniform(0, window) for _ in range(6))):
        path = tmp_path / f"kill-{i}" / "warehouse.duckdb"     # a folder each: a staged copy each
        path.parent.mkdir()
        published = _w0_copy(states, path)
        proc = subprocess.Popen(cli_cmd("pull", "--warehouse", path), cwd=ROOT, env=cli_env(tmp_path / "outputs"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        _wait_for_lock(path, proc)
        time.sleep(delay)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:              # it had finished: a completed state is allowed too
            pass
        proc.wait(timeout=60)
        # killed before its staged copy was made (or while copying): the next pull starts from the published file
        landed.append((round(delay, 3), proc.returncode, _pulled_state(states, path, staged_made=False)))
        code, out = _pull_in_process(run_cli, path, monkeypatch)
        assert code == 0, out
        assert checksums(_staged(path)) == states["final"]
        assert file_sha256(path) == published
    print(f"load window {window:.3f} s; (delay, exit code, state): {landed}")


def test_the_lock_of_a_killed_pull_does_not_block_the_next_one(states, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    published = _w0_copy(states, path)
    killed = subprocess.Popen([sys.executable, "-c", _KILL_AT, "after-commit", "1", str(path)], cwd=ROOT,
                              env=cli_env(tmp_path / "outputs"), stderr=subprocess.DEVNULL)
    assert killed.wait(timeout=120) == -signal.SIGKILL
    # the killed process's lock file is still there, naming it; the kernel released its flock
    assert f"(pid {killed.pid} " in lock.holder(path)
    res = subprocess.run(cli_cmd("pull", "--warehouse", path), capture_output=True, text=True, cwd=ROOT,
                         env=cli_env(tmp_path / "outputs", NGOBRIEF_LOCK_WAIT=0), timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    status = {ln.split()[0]: ln.split()[1] for ln in res.stdout.splitlines() if not ln.startswith((" ", "staged in"))}
    assert status == {"observations": "unchanged", "survey_priorities": "unchanged", "ricf_2013": "loaded",
                      "observations_verified": "unchanged"}
    assert checksums(_staged(path)) == states["final"]
    assert file_sha256(path) == published


# --------------------------------------------------------------------------------------------------
# Read-only and full output folders: mounts in a user and mount namespace of their own (unshare -rm),
# so that they work as root too (root writes through a chmod) and vanish with the command.

def _namespaces_work() -> str | None:
    if not shutil.which("unshare"):
        return "no unshare command"
    res = subprocess.run(["unshare", "-rm", "true"], capture_output=True, text=True)
    return None if res.returncode == 0 else f"user namespaces are blocked here: {res.stderr.strip()}"


needs_namespaces = pytest.mark.skipif(_namespaces_work() is not None, reason=str(_namespaces_work()))


def _in_namespace(setup: str, args, env: dict, teardown: str = "true") -> subprocess.CompletedProcess:
    """`ngobrief ARGS` after `setup` (shell) in a private mount namespace; `teardown` runs after it."""
    script = f'set -e; {setup}; set +e; "$@"; rc=$?; {teardown}; exit $rc'
    return subprocess.run(["unshare", "-rm", "bash", "-c", script, "bash", *cli_cmd(*args)], capture_output=True,
                          text=True, cwd=ROOT, env=env, timeout=300)


COMMANDS = {"run": ["run", "--year", "2013", "--lang", "en"], "brief": ["brief", "--year", "2013"], "pull": ["pull"]}


@pytest.fixture
def outputs(built_warehouse, tmp_path):
    """An outputs folder holding a built warehouse, as `make run` leaves it."""
    out = tmp_path / "outputs"
    (out / "briefs").mkdir(parents=True)
    shutil.copy(built_warehouse, out / "warehouse.duckdb")
    return out


@needs_namespaces
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_read_only_output_folder_is_one_clear_error_and_changes_nothing(outputs, command):
    before = file_sha256(outputs / "warehouse.duckdb")
    res = _in_namespace(f'mount --bind "{outputs}" "{outputs}"; mount -o remount,bind,ro "{outputs}"',
                        COMMANDS[command], cli_env(outputs))
    assert res.returncode == 2, res.stdout + res.stderr
    line = one_line_error(res.stderr)
    assert f"cannot write {outputs}" in line and "Read-only file system" in line
    assert file_sha256(outputs / "warehouse.duckdb") == before
    assert sorted(p.name for p in outputs.rglob("*")) == ["briefs", "warehouse.duckdb"]


@needs_namespaces
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_full_output_folder_is_one_clear_error_and_changes_nothing(outputs, tmp_path, command):
    mnt, saved = tmp_path / "full", tmp_path / "saved"
    mnt.mkdir()
    saved.mkdir()
    size_kib = (outputs / "warehouse.duckdb").stat().st_size // 1024 + 1024
    setup = (f'mount -t tmpfs -o size={size_kib}k tmpfs "{mnt}"; cp -r "{outputs}/." "{mnt}/"; '
             f'dd if=/dev/zero of="{mnt}/filler" bs=4k 2>/dev/null || true')
    res = _in_namespace(setup, COMMANDS[command], cli_env(mnt), teardown=f'cp "{mnt}"/warehouse.duckdb* "{saved}/"')
    assert res.returncode == 2, res.stdout + res.stderr
    line = one_line_error(res.stderr)
    assert f"cannot write {mnt}" in line and "No space left on device" in line
    assert sorted(p.name for p in saved.iterdir()) == ["warehouse.duckdb"]
    assert file_sha256(saved / "warehouse.duckdb") == file_sha256(outputs / "warehouse.duckdb")


@needs_namespaces
def test_a_brief_that_does_not_fit_leaves_the_previous_pdf_whole(outputs, tmp_path):
    """`brief --out` into a folder with room for less than a PDF: one line naming the file, exit 2,
    the brief written before still whole, no partial file, and no brief recorded in the warehouse."""
    mnt, saved = tmp_path / "small", tmp_path / "saved"
    mnt.mkdir()
    saved.mkdir()
    previous = b"%PDF-1.7 the brief written before\n"
    (tmp_path / "previous.pdf").write_bytes(previous)
    setup = f'mount -t tmpfs -o size=64k tmpfs "{mnt}"; cp "{tmp_path}/previous.pdf" "{mnt}/brief.pdf"'
    before = checksums(outputs / "warehouse.duckdb")
    res = _in_namespace(setup, ["brief", "--year", "2013", "--out", mnt / "brief.pdf"], cli_env(outputs),
                        teardown=f'cp -a "{mnt}/." "{saved}/"')
    assert res.returncode == 2, res.stdout + res.stderr
    line = one_line_error(res.stderr)
    assert f"cannot write {mnt}/" in line and "No space left on device" in line
    assert sorted(p.name for p in saved.iterdir()) == ["brief.pdf"]
    assert (saved / "brief.pdf").read_bytes() == previous
    assert checksums(outputs / "warehouse.duckdb") == before


@needs_namespaces
def test_a_disk_that_fills_during_a_load_keeps_a_committed_state(states, tmp_path, monkeypatch, run_cli):
    """Room for the check and the staged copy before the load but not for the whole load: the commit
    that does not fit fails, the error is one line naming the staged copy, which holds a committed
    state, and the published file is unchanged."""
    mnt, saved = tmp_path / "full", tmp_path / "saved"
    mnt.mkdir()
    saved.mkdir()
    size_kib = 2 * (states["w0"].stat().st_size // 1024) + 320      # the published file and its staged copy
    setup = f'mount -t tmpfs -o size={size_kib}k tmpfs "{mnt}"; cp "{states["w0"]}" "{mnt}/warehouse.duckdb"'
    res = _in_namespace(setup, ["pull"], cli_env(mnt), teardown=f'cp -a "{mnt}/." "{saved}/"')
    assert res.returncode == 2, res.stdout + res.stderr
    line = one_line_error(res.stderr)
    assert f"{_staged(mnt / 'warehouse.duckdb')}" in line and "No space left on device" in line
    path = saved / "warehouse.duckdb"
    assert file_sha256(path) == file_sha256(states["w0"])
    assert _pulled_state(states, path) in ("before", "after observations")
    code, out = _pull_in_process(run_cli, path, monkeypatch)      # with room again, the pull completes
    assert code == 0, out
    assert checksums(_staged(path)) == states["final"]


@needs_namespaces
def test_a_disk_that_fills_during_a_run_ends_in_one_error_line_without_traces(outputs, tmp_path):
    """Room for the check, not for the run: the flow fails, its logs carry the one-line reason but no
    traceback, the command ends with `error: ...` naming the file and exit code 2, and the warehouse
    keeps its data."""
    mnt, saved = tmp_path / "full", tmp_path / "saved"
    mnt.mkdir()
    saved.mkdir()
    size_kib = (outputs / "warehouse.duckdb").stat().st_size // 1024 + 120
    setup = f'mount -t tmpfs -o size={size_kib}k tmpfs "{mnt}"; cp "{outputs}/warehouse.duckdb" "{mnt}/"'
    res = _in_namespace(setup, COMMANDS["run"], cli_env(mnt), teardown=f'cp "{mnt}"/warehouse.duckdb* "{saved}/"')
    assert res.returncode == 2, res.stdout + res.stderr[-3000:]
    assert "Traceback" not in res.stderr and "╭─" not in res.stderr, res.stderr[-3000:]
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 1 and f"{mnt}/warehouse.duckdb" in errors[0] and "No space left on device" in errors[0]
    assert checksums(saved / "warehouse.duckdb") == checksums(outputs / "warehouse.duckdb")


# --------------------------------------------------------------------------------------------------
# The network down during a refresh: the snapshot held serves, and the output says so.

@pytest.fixture
def pulled_from_the_web(data_copy, tmp_path):
    """A copy of data/ with a source pulled from a URL (a server on 127.0.0.1), which then goes away."""
    d = data_copy
    with local_server.serving() as httpd:
        url = local_server.url(httpd)
        result = pull.pull_source("web-table", url=url, publisher="P", title="T",
                                  warehouse_path=tmp_path / "first.duckdb")
    assert result.status == "new" and result.rows_loaded > 0
    with socket.socket() as s:                   # nothing listens there any more
        assert s.connect_ex(("127.0.0.1", httpd.server_address[1])) != 0
    return {"data": d, "url": url, "entry": tomllib.loads((d / "sources.toml").read_text())["snapshots"]["web-table"]}


def _refresh(run_cli, warehouse_path):
    return run_cli("pull", "web-table", "--refresh", "--retries", "0", "--timeout", "2", "--warehouse", warehouse_path)


def test_network_down_during_a_refresh_serves_the_snapshot_held_and_says_so(pulled_from_the_web, tmp_path, run_cli):
    wh = tmp_path / "first.duckdb"
    before = (checksums(wh), (pulled_from_the_web["data"] / "sources.toml").read_bytes())
    code, out, err = _refresh(run_cli, wh)
    assert code == 0, err
    entry = pulled_from_the_web["entry"]
    assert out.split()[:2] == ["web-table", "offline"]
    assert f"could not fetch {pulled_from_the_web['url']}" in out
    assert f"serving the snapshot held (data/{entry['file']}, sha256 {entry['sha256'][:12]}" in out
    assert entry["fetched_at"] in out
    assert (checksums(wh), (pulled_from_the_web["data"] / "sources.toml").read_bytes()) == before


def test_network_down_a_new_warehouse_still_gets_the_snapshot_held(pulled_from_the_web, tmp_path, run_cli):
    wh = tmp_path / "new.duckdb"
    code, out, err = _refresh(run_cli, wh)
    assert code == 0, err
    assert out.split()[:2] == ["web-table", "offline"] and "4 rows loaded" in out and "serving the snapshot held" in out
    import duckdb

    assert not wh.exists()           # loaded into the staged build copy; the next run publishes it
    con = duckdb.connect(str(_staged(wh)), read_only=True)
    try:
        assert con.execute("SELECT sha256, origin FROM raw.snapshots WHERE snapshot_id = 'web-table'").fetchall() == [
            (pulled_from_the_web["entry"]["sha256"], pulled_from_the_web["url"])]
    finally:
        con.close()
