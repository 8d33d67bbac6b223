"""The production profile, end to end: PostgreSQL started by `make postgres` (as its own user, in a
folder that user can reach), `make prod-server` on it (loopback, free port), `make deploy`,
two workers each with a limit, and six `brief-on-demand` plus two `annual-refresh` runs submitted at
once. Every run completes, both workers take runs, and the writer limit's one slot is taken by each
refresh in turn — read back from the server's own records. Everything started here is stopped and
removed. Without PostgreSQL the test fails in one line: `make test` installs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import pytest

from flows.limits import WRITER_LIMIT
from test_orchestration_server import ROOT, TERMINAL, Prefect, _free_port, _group_alive, _listening

WORKERS = {"worker-a": 3, "worker-b": 3}  # name → limit: 8 runs, at most 3 at a time on each
BRIEFS = [(2012, "en", None), (2012, "zh", None), (2013, "en", None), (2013, "zh", None),
          (2012, "en", ["foundation"]), (2013, "zh", ["social_association", "foundation"])]
REFRESHES = [{"year": 2013, "langs": ["en"]}, {"year": 2012, "langs": ["zh"]}]


def _make(target: str, env: dict, *variables: str, **kw) -> subprocess.CompletedProcess:
    """A make target of the project, as a user runs it (with this test's Python environment)."""
    return subprocess.run(["make", "--no-print-directory", target, f"VENV={sys.prefix}", *variables], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, **kw)


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


class Production(Prefect):
    """The module's Prefect server, on PostgreSQL, and the events it recorded."""

    def events(self, *names: str, expect: int, timeout: float = 60) -> list[dict]:
        """Events of these names, once the server has stored at least `expect` of them (the
        server persists events in batches, a few seconds after they were sent)."""
        deadline = time.monotonic() + timeout
        while True:
            res = self.http.post("/events/filter", json={"filter": {"event": {"name": list(names)}}, "limit": 50})
            res.raise_for_status()
            found = res.json()["events"]
            if len(found) >= expect or time.monotonic() > deadline:
                return found
            time.sleep(1)

    def wait_for_runs(self, run_ids: list[str], timeout: float = 900) -> tuple[dict, int]:
        """Every run's final record, and the most writer slots seen taken at once meanwhile."""
        deadline, busiest = time.monotonic() + timeout, 0
        while time.monotonic() < deadline:
            slots = self.http.get(f"/v2/concurrency_limits/{WRITER_LIMIT}").json()["active_slots"]
            busiest = max(busiest, slots)
            runs = self.http.post("/flow_runs/filter", json={"flow_runs": {"id": {"any_": run_ids}}}).json()
            if len(runs) == len(run_ids) and all(r["state_type"] in TERMINAL for r in runs):
                return {r["id"]: r for r in runs}, busiest
            for name in WORKERS:
                assert self.procs[name].poll() is None, f"{name} exited:\n" + self.log(name)
            time.sleep(0.5)
        raise AssertionError(f"runs not finished after {timeout} s:\n" + "\n".join(self.log(n) for n in WORKERS))


@pytest.fixture(scope="module")
def production(tmp_path_factory):
    # pytest's temp base is closed to other users; the database's own user must reach its folder.
    pg_home = Path(tempfile.mkdtemp(prefix="ngobrief-pg-"))
    pg_home.chmod(0o755)
    pg_dir = pg_home / "postgres"
    p = Production(tmp_path_factory.mktemp("prefect-production"))
    try:
        started = _make("postgres", p.env, f"PG_DIR={pg_dir}", f"PG_PORT={_free_port()}")
        if started.returncode != 0:
            pytest.fail("PostgreSQL could not be started (`make test` installs Debian's postgresql): "
                        + started.stderr.strip().replace("\n", " "), pytrace=False)
        url = (pg_dir / "url").read_text().strip()
        # `make prod-server` with the URL in the environment, in its own process group.
        p.env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = url
        with open(p.tmp / "server.log", "w") as log:
            p.procs["server"] = subprocess.Popen(
                ["make", "--no-print-directory", "prod-server", f"VENV={sys.prefix}", f"PREFECT_PORT={p.port}"],
                cwd=ROOT, env=p.env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)
        p.wait_healthy(timeout=180)
        p.pg_url, p.pg_dir = url, pg_dir
        yield p
    finally:
        p.stop_all()
        stopped = _make("postgres-stop", p.env, f"PG_DIR={pg_dir}")
        shutil.rmtree(pg_home, ignore_errors=True)
    left = [name for name, proc in p.procs.items() if _group_alive(proc.pid)]
    assert not left, f"still running after the test: {left}"
    assert stopped.returncode == 0, stopped.stderr
    assert not pg_home.exists()


def _pg_rows(url: str, sql: str) -> list:
    """Query the Prefect server's database directly (asyncpg, the driver the server uses)."""
    import asyncio

    import asyncpg

    async def query():
        con = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
        try:
            return await con.fetch(sql)
        finally:
            await con.close()
    return asyncio.run(query())


def test_workers_share_the_runs_and_writers_take_the_global_limit_in_turn(production, built_warehouse):
    p = production
    # A published warehouse to read: briefs on demand only read the published edition (write-audit-publish)
    (p.outputs).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(built_warehouse, p.outputs / "warehouse.duckdb")
    for _ in range(2):  # twice: the limit (and the pool) are created once, whatever happens
        deployed = _make("deploy", p.env)
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
    assert _listening(p.port) == {"0100007F"}  # `make prod-server` binds loopback unless PREFECT_HOST says otherwise
    limits = p.http.post("/v2/concurrency_limits/filter", json={}).json()
    [writer] = [lim for lim in limits if lim["name"] == WRITER_LIMIT]
    assert writer["limit"] == 1 and writer["active"] and writer["active_slots"] == 0

    for name, limit in WORKERS.items():
        p.start(name, "worker", "start", "--pool", "ngobrief", "--name", name, "--limit", str(limit))
    # Both workers polling before anything is submitted: neither can take more than its limit.
    deadline = time.monotonic() + 120
    while {w["name"] for w in p.http.post("/work_pools/ngobrief/workers/filter", json={}).json()} < set(WORKERS):
        assert time.monotonic() < deadline, "workers did not come online:\n" + p.log("worker-a") + p.log("worker-b")
        time.sleep(0.5)

    job = {"env": {"NGOBRIEF_OUTPUTS": str(p.outputs)}}
    brief_dep = p.deployment("brief-on-demand/brief-on-demand")["id"]
    refresh_dep = p.deployment("annual-refresh/annual-refresh")["id"]
    submitted = time.monotonic()
    briefs = [p.http.post(f"/deployments/{brief_dep}/create_flow_run", json={
        "parameters": {"year": y, "lang": lang, **({"types": types} if types else {})}, "job_variables": job})
        for y, lang, types in BRIEFS]
    refreshes = [p.http.post(f"/deployments/{refresh_dep}/create_flow_run", json={
        "parameters": params, "job_variables": job}) for params in REFRESHES]
    for res in briefs + refreshes:
        res.raise_for_status()
    brief_ids = [r.json()["id"] for r in briefs]
    refresh_ids = [r.json()["id"] for r in refreshes]
    runs, busiest = p.wait_for_runs(brief_ids + refresh_ids)
    elapsed = time.monotonic() - submitted

    # All complete, and the briefs are there.
    failed = {r["name"]: r["state"]["message"] for r in runs.values() if r["state_type"] != "COMPLETED"}
    assert not failed, f"{failed}\n" + p.log("worker-a") + p.log("worker-b")
    for y, lang, types in BRIEFS:
        name = f"ngobrief-{y}-{lang}" + "".join(f"-{t}" for t in sorted(types or [])) + ".pdf"
        assert (p.outputs / "briefs" / name).stat().st_size > 0

    # Both workers took runs: the server recorded which worker submitted each one.
    taken: dict[str, set] = {}
    for event in p.events("prefect.worker.submitted-flow-run", expect=len(runs)):
        run = next(r["prefect.resource.id"].split(".")[-1] for r in event["related"]
                   if r["prefect.resource.role"] == "flow-run")
        taken.setdefault(event["resource"]["prefect.resource.name"], set()).add(run)
    assert set(taken) == set(WORKERS), taken
    assert set().union(*taken.values()) == set(runs)

    # The writer limit, from the server's records: each slot taken and given back by a refresh, never
    # two at once; the briefs only read the published edition and take no slot.
    held: dict[str, dict[str, datetime]] = {}
    for event in p.events("prefect.concurrency-limit.acquired", "prefect.concurrency-limit.released",
                          expect=2 * len(refresh_ids)):
        assert event["resource"]["prefect.resource.name"] == WRITER_LIMIT and event["resource"]["limit"] == "1"
        run = next(r["prefect.resource.id"].split(".")[-1] for r in event["related"]
                   if r["prefect.resource.role"] == "flow-run")
        held.setdefault(run, {})[event["event"].rsplit(".", 1)[-1]] = _time(event["occurred"])
    assert set(held) == set(refresh_ids), f"writer slots held by {set(held)}; refreshes {set(refresh_ids)}"
    spans = sorted((h["acquired"], h["released"], run) for run, h in held.items())
    for (_, released, first), (acquired, _, second) in zip(spans, spans[1:]):
        assert released <= acquired, f"runs {runs[first]['name']} and {runs[second]['name']} held the writer slot together"
    assert busiest == 1
    assert p.http.get(f"/v2/concurrency_limits/{WRITER_LIMIT}").json()["active_slots"] == 0

    # The server's records are in PostgreSQL, not a SQLite file.
    [[count]] = _pg_rows(p.pg_url, "SELECT count(*) FROM flow_run WHERE id = ANY(ARRAY[{}]::uuid[])".format(
        ",".join(f"'{i}'" for i in runs)))
    assert count == len(runs)
    assert not list((Path(p.env["PREFECT_HOME"])).glob("*.db"))
    print(f"\n8 runs on 2 workers: {elapsed:.1f} s from submission to the last run finished; "
          f"runs per worker {{{', '.join(f'{k}: {len(v)}' for k, v in sorted(taken.items()))}}}")
