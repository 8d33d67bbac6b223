"""Against the real thing: `prefect server start` on a free loopback port with a temporary PREFECT_HOME,
the `ngobrief` process work pool, `prefect --no-prompt deploy --all` from the project folder, and a
worker in its own process group. A brief ordered on demand comes back as a PDF and an artifact, and
everything started here is stopped again, whatever happens."""

from __future__ import annotations

import os
import signal
import socket
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from pypdf import PdfReader

from ngobrief import metrics, warehouse

ROOT = Path(__file__).resolve().parent.parent
PREFECT = str(Path(sys.executable).with_name("prefect"))
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def _stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """Stop a process started in its own group, and everything it started.

    A Prefect worker turns the first SIGTERM into a graceful stop that, when idle, may never finish,
    and kills itself on the second: so TERM, wait, TERM again, and KILL what is left."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        if not _group_alive(proc.pid):
            break
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_alive(proc.pid):
            proc.poll()  # reap the leader so that the group can empty
            time.sleep(0.1)
    proc.wait(timeout=5)


class Prefect:
    """A Prefect server started for this module, and the processes that talk to it."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.port = _free_port()
        self.api = f"http://127.0.0.1:{self.port}/api"
        self.outputs = tmp / "outputs"
        home = tmp / "prefect-home"
        home.mkdir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_") and k != "NGOBRIEF_WAREHOUSE"}
        self.env.update(PREFECT_HOME=str(home), PREFECT_API_URL=self.api, DO_NOT_TRACK="1",
                        PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_WORKER_QUERY_SECONDS="1",
                        NGOBRIEF_OUTPUTS=str(self.outputs))
        self.procs: dict[str, subprocess.Popen] = {}
        self.http = httpx.Client(base_url=self.api, timeout=30)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        """A long-running `prefect` command in its own process group (so that a signal reaches it
        and its children), with its output in a log file."""
        log = open(self.tmp / f"{name}.log", "w")
        proc = subprocess.Popen([PREFECT, *args], env=self.env, cwd=self.tmp, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.tmp / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        res = subprocess.run([PREFECT, *args], env=self.env, cwd=ROOT, capture_output=True, text=True, timeout=180)
        assert res.returncode == 0, f"prefect {' '.join(args)} failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        return res

    def wait_healthy(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.procs["server"].poll() is None, "the Prefect server exited:\n" + self.log("server")
            try:
                if self.http.get("/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        raise AssertionError(f"no Prefect server at {self.api} after {timeout} s:\n" + self.log("server"))

    def deployment(self, name: str) -> dict:
        res = self.http.get(f"/deployments/name/{name}")
        res.raise_for_status()
        return res.json()

    def wait_for_run(self, run_id: str, timeout: float = 300) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.http.get(f"/flow_runs/{run_id}").json()
            if run["state_type"] in TERMINAL:
                return run
            assert self.procs["worker"].poll() is None, "the worker exited:\n" + self.log("worker")
            time.sleep(0.5)
        raise AssertionError(f"flow run {run_id} not finished after {timeout} s:\n" + self.log("worker"))

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            _stop(self.procs[name])
        self.http.close()


@pytest.fixture(scope="module")
def prefect(tmp_path_factory):
    p = Prefect(tmp_path_factory.mktemp("prefect-server"))
    try:
        p.start("server", "server", "start", "--host", "127.0.0.1", "--port", str(p.port))
        p.wait_healthy()
        p.cli("work-pool", "create", "ngobrief", "--type", "process")
        p.cli("--no-prompt", "deploy", "--all")
        yield p
    finally:
        p.stop_all()
    left = [name for name, proc in p.procs.items() if _group_alive(proc.pid)]
    assert not left, f"still running after the tests: {left}"


def _listening(port: int) -> set[str]:
    """The local addresses listening on `port`, from the kernel's socket tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in open(table).read().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def test_server_listens_on_loopback_only(prefect):
    # 0100007F is 127.0.0.1 as the kernel writes it; 0.0.0.0 would be 00000000.
    assert _listening(prefect.port) == {"0100007F"}


def test_deploy_registers_both_deployments_on_the_process_pool(prefect):
    pool = prefect.http.get("/work_pools/ngobrief").json()
    assert pool["type"] == "process"
    annual = prefect.deployment("annual-refresh/annual-refresh")
    assert annual["work_pool_name"] == "ngobrief" and annual["parameters"] == {"year": "latest", "langs": ["en", "zh"]}
    [schedule] = annual["schedules"]
    assert schedule["schedule"]["cron"] == "0 9 1 8 *" and schedule["schedule"]["timezone"] == "Asia/Shanghai"
    assert schedule["active"] and schedule["slug"] == "yearly-after-bulletins"
    on_demand = prefect.deployment("brief-on-demand/brief-on-demand")
    assert on_demand["schedules"] == [] and on_demand["work_pool_name"] == "ngobrief"
    assert on_demand["pull_steps"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": str(ROOT)}}]


def test_a_paused_schedule_stays_paused_when_deployed_again(prefect):
    annual = prefect.deployment("annual-refresh/annual-refresh")
    schedule_id = annual["schedules"][0]["id"]
    prefect.http.patch(f"/deployments/{annual['id']}/schedules/{schedule_id}", json={"active": False}).raise_for_status()
    try:
        prefect.cli("--no-prompt", "deploy", "--name", "annual-refresh")
        [schedule] = prefect.deployment("annual-refresh/annual-refresh")["schedules"]
        assert schedule["active"] is False and schedule["slug"] == "yearly-after-bulletins"
    finally:
        prefect.http.patch(f"/deployments/{annual['id']}/schedules/{schedule_id}", json={"active": True})


def test_worker_runs_a_brief_ordered_on_demand(prefect, built_warehouse):
    # a brief on demand reads the published edition only (write-audit-publish): publish one first
    prefect.outputs.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built_warehouse, prefect.outputs / "warehouse.duckdb")
    deployment = prefect.deployment("brief-on-demand/brief-on-demand")
    res = prefect.http.post(f"/deployments/{deployment['id']}/create_flow_run", json={
        "parameters": {"year": 2012, "lang": "zh", "types": ["foundation"]},
        # The worker passes its environment on; naming the outputs here as well keeps a stray
        # setting from ever writing into the project folder.
        "job_variables": {"env": {"NGOBRIEF_OUTPUTS": str(prefect.outputs)}},
    })
    res.raise_for_status()
    prefect.start("worker", "worker", "start", "--pool", "ngobrief")
    run = prefect.wait_for_run(res.json()["id"])
    assert run["state_type"] == "COMPLETED", f"{run['state']}\n" + prefect.log("worker")
    assert run["name"] == "brief-2012-zh-foundation"

    pdf = prefect.outputs / "briefs" / "ngobrief-2012-zh-foundation.pdf"
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    con = warehouse.connect(prefect.outputs / "warehouse.duckdb", read_only=True)
    try:
        row = metrics.participation(con, 2012, ["foundation"]).to_dicts()[0]
    finally:
        con.close()
    assert f"{row['registered']:,.0f}" in text and f"{row['participation_pct']:.2f}%" in text

    artifacts = prefect.http.post("/artifacts/filter", json={
        "artifacts": {"flow_run_id": {"any_": [run["id"]]}}}).json()
    assert [(a["key"], a["type"]) for a in artifacts] == [("brief-2012-zh-foundation", "markdown")]
    markdown = artifacts[0]["data"]
    assert f"`{pdf}`" in markdown and "| foundation |" in markdown
    report = next(line for line in markdown.splitlines() if line.startswith("Validation report: `"))
    # the report of the validation stored in the edition the brief read (a brief validates nothing)
    assert Path(report.split("`")[1]).is_file() and Path(report.split("`")[1]).parent.name == "validation"
    assert not (ROOT / "outputs" / "briefs" / pdf.name).exists()


# --- which server `ngobrief run` uses ---------------------------------------------------------------

def test_run_uses_the_running_server_and_says_so(prefect, tmp_path):
    env = {**prefect.env, "NGOBRIEF_OUTPUTS": str(tmp_path / "out")}
    res = subprocess.run([sys.executable, "-m", "ngobrief.cli", "run", "--year", "2013", "--lang", "en",
                          "--warehouse", str(tmp_path / "w.duckdb")], env=env, cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    assert res.stdout.splitlines()[0] == f"prefect: using the running server at {prefect.api} (PREFECT_API_URL)"
    assert "started a temporary" not in res.stdout + res.stderr
    runs = prefect.http.post("/flow_runs/filter", json={"flow_runs": {"name": {"any_": ["annual-refresh-2013"]}}}).json()
    assert [r["state_type"] for r in runs] == ["COMPLETED"]


def test_the_make_server_address_is_used_when_prefect_api_url_is_unset(prefect, monkeypatch):
    from flows import server

    monkeypatch.setattr(server, "MAKE_SERVER_URL", prefect.api)
    monkeypatch.setenv("PREFECT_API_URL", "restored after the test")
    monkeypatch.delenv("PREFECT_API_URL")
    chosen = server.choose()
    assert chosen.process is None and chosen.api_url == prefect.api == os.environ["PREFECT_API_URL"]
    assert chosen.note == f"prefect: using the running server at {prefect.api}"


def test_a_prefect_api_url_where_nothing_answers_is_one_clear_error(monkeypatch):
    from flows import server
    from ngobrief.errors import NgobriefError

    url = f"http://127.0.0.1:{_free_port()}/api"
    assert not server.answers(url)
    monkeypatch.setenv("PREFECT_API_URL", url)
    with pytest.raises(NgobriefError, match=f"PREFECT_API_URL is {url}, but no Prefect server answers there"):
        server.choose()


def test_with_no_server_a_temporary_one_is_started_timed_and_stopped(monkeypatch):
    from flows import server

    monkeypatch.setenv("NGOBRIEF_PREFECT_PROBE", "0")          # another developer's `make server` is not ours
    monkeypatch.setenv("PREFECT_API_URL", "restored after the test")
    monkeypatch.delenv("PREFECT_API_URL")
    chosen = server.choose()
    try:
        assert chosen.process is not None and os.environ["PREFECT_API_URL"] == chosen.api_url
        server.wait_until_up(chosen)
        assert server.answers(chosen.api_url) and chosen.startup_s is not None
        assert chosen.note.startswith(f"prefect: no server running; started a temporary one in {chosen.startup_s:.1f} s")
        assert _listening(int(chosen.api_url.split(":")[2].split("/")[0])) == {"0100007F"}
        pid = chosen.process.pid
    finally:
        chosen.stop()
    assert not _group_alive(pid) and not server.answers(chosen.api_url)
