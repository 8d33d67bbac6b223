"""Failure notifications against the real thing: a Prefect server on a free loopback port with a
temporary PREFECT_HOME, `make deploy` run twice with NGOBRIEF_NOTIFY_URL pointing at a local HTTP
receiver, and a worker in its own process group. A failed run gives exactly one POST naming the
deployment, the run, its one-line error and the published edition; a late run gives one too; the
scheduled `annual-refresh` deployment itself runs to completion and leaves its artifact."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from test_orchestration_server import ROOT, Prefect, _free_port, _group_alive

FAILED_ERROR = "NgobriefError: no participation figures for 1999: years with figures are 2012, 2013, 2016, 2021"


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the http.server API
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.posts.append({"at": time.monotonic(), "content_type": self.headers.get("Content-Type"),
                                  "body": body.decode("utf-8")})
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def receiver():
    httpd = ThreadingHTTPServer(("127.0.0.1", _free_port()), _Receiver)
    httpd.posts = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _make_deploy(p: Prefect, notify_url: str | None) -> subprocess.CompletedProcess:
    env = dict(p.env)
    env.pop("NGOBRIEF_NOTIFY_URL", None)
    if notify_url:
        env["NGOBRIEF_NOTIFY_URL"] = notify_url
    res = subprocess.run(["make", "--no-print-directory", "deploy"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert res.returncode == 0, f"make deploy failed:\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
    return res


@pytest.fixture(scope="module")
def served(tmp_path_factory, receiver):
    p = Prefect(tmp_path_factory.mktemp("prefect-notify"))
    url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
    try:
        p.start("server", "server", "start", "--host", "127.0.0.1", "--port", str(p.port))
        p.wait_healthy()
        p.deploys = [_make_deploy(p, url), _make_deploy(p, url)]
        p.start("worker", "worker", "start", "--pool", "ngobrief")
        yield p
    finally:
        p.stop_all()
    left = [name for name, proc in p.procs.items() if _group_alive(proc.pid)]
    assert not left, f"still running after the tests: {left}"


def _run(p: Prefect, deployment: str, parameters: dict, **extra) -> str:
    d = p.deployment(deployment)
    for _ in range(5):  # SQLite behind the server answers 503 while a busy worker holds it; ask again
        res = p.http.post(f"/deployments/{d['id']}/create_flow_run", json={
            "parameters": parameters, "job_variables": {"env": {"NGOBRIEF_OUTPUTS": str(p.outputs)}}, **extra})
        if res.status_code != 503:
            break
        time.sleep(2)
    res.raise_for_status()
    return res.json()["id"]


def _posts_for(receiver, run_id: str, *, within: float, settle: float = 8) -> list[dict]:
    """The POSTs about one run: wait up to `within` s for the first, then `settle` s more for any duplicate."""
    deadline, found = time.monotonic() + within, []
    while time.monotonic() < deadline and not found:
        found = [json.loads(x["body"]) for x in receiver.posts if run_id in x["body"]]
        time.sleep(0.5)
    time.sleep(settle)
    return [json.loads(x["body"]) for x in receiver.posts if run_id in x["body"]]


def test_deploying_twice_keeps_one_automation_and_one_webhook_block(served):
    assert all("automation 'ngobrief-run-failed-or-late'" in r.stdout for r in served.deploys)
    assert "created" in served.deploys[0].stdout and "updated" in served.deploys[1].stdout
    automations = [a for a in served.http.post("/automations/filter", json={}).json()
                   if a["name"] == "ngobrief-run-failed-or-late"]
    assert len(automations) == 1 and automations[0]["enabled"]
    assert set(automations[0]["trigger"]["expect"]) == {
        "prefect.flow-run.Failed", "prefect.flow-run.Crashed", "prefect.flow-run.TimedOut", "prefect.flow-run.Late"}
    blocks = served.http.post("/block_documents/filter", json={
        "block_types": {"slug": {"any_": ["webhook"]}}}).json()
    assert [b["name"] for b in blocks] == ["ngobrief-notify"]


def test_flows_have_time_limits(served):
    from flows.annual_refresh import annual_refresh
    from flows.brief_on_demand import brief_on_demand

    assert annual_refresh.timeout_seconds and brief_on_demand.timeout_seconds


def test_the_annual_refresh_deployment_runs_and_leaves_its_artifact(served, receiver):
    run_id = _run(served, "annual-refresh/annual-refresh", {})
    run = served.wait_for_run(run_id)
    assert run["state_type"] == "COMPLETED", f"{run['state']}\n" + served.log("worker")
    assert run["name"] == "annual-refresh-2021"
    artifacts = served.http.post("/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
    assert [a["key"] for a in artifacts] == ["annual-refresh-2021"]
    assert "ngobrief-2021-en.pdf" in artifacts[0]["data"] and "ngobrief-2021-zh.pdf" in artifacts[0]["data"]
    assert (served.outputs / "briefs" / "ngobrief-2021-zh.pdf").exists()
    assert not [x for x in receiver.posts if run_id in x["body"]], "a completed run must not notify"


def test_a_failed_run_posts_once_with_its_one_line_error_and_the_published_edition(served, receiver):
    run_id = _run(served, "brief-on-demand/brief-on-demand", {"year": 1999})
    run = served.wait_for_run(run_id)
    assert run["state_type"] == "FAILED" and run["state"]["message"] == FAILED_ERROR

    posts = _posts_for(receiver, run_id, within=60)
    assert len(posts) == 1, posts
    [post] = posts
    loaded = served.http.get("/variables/name/ngobrief_published").json()["value"]
    assert post == {"deployment": "brief-on-demand/brief-on-demand",
                    "flow_run": {"name": "brief-1999-en", "id": run_id},
                    "state": "Failed", "error": FAILED_ERROR, "published": loaded,
                    "url": f"http://127.0.0.1:{served.port}/runs/flow-run/{run_id}"}
    assert post["published"].startswith(f"warehouse {served.outputs / 'warehouse.duckdb'} (data last loaded ")
    assert [x["content_type"] for x in receiver.posts if run_id in x["body"]] == ["application/json"]

    # The run says it in one line, with an artifact: no traceback for an expected failure.
    artifacts = served.http.post("/artifacts/filter", json={"artifacts": {"flow_run_id": {"any_": [run_id]}}}).json()
    assert [a["key"] for a in artifacts] == ["brief-1999-en-failed"]
    assert FAILED_ERROR in artifacts[0]["data"] and "What stays published" in artifacts[0]["data"]
    logs = served.http.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run_id]}}}).json()
    assert logs and not any("Traceback" in entry["message"] for entry in logs)


def test_status_asks_the_server_and_falls_back_to_the_cron_for_a_run_beyond_its_horizon(served):
    res = subprocess.run([str(Path(sys.executable).with_name("ngobrief")), "status", "--format", "json"], cwd=ROOT,
                         env=served.env, capture_output=True, text=True, timeout=120)
    s = json.loads(res.stdout)
    assert s["server"] == served.api
    assert s["last_run"]["name"] == "brief-1999-en" and not s["last_run"]["ok"]
    assert s["last_run"]["message"] == FAILED_ERROR and res.returncode & 4
    # Prefect schedules ~100 days ahead: on a server without the next 1 August run yet, the cron says when
    scheduled = served.http.post("/flow_runs/filter", json={
        "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}).json()
    expected = "server" if scheduled else "prefect.yaml cron '0 9 1 8 *' (Asia/Shanghai)"
    assert s["next_run"]["from"] == expected


def test_a_late_scheduled_run_posts_once(served, receiver):
    # The pool is paused so that no worker starts the run: the server marks it Late ~15 s after its time.
    served.http.patch("/work_pools/ngobrief", json={"is_paused": True}).raise_for_status()
    run_id = None
    try:
        when = (dt.datetime.now(dt.timezone.utc) - dt.timedelta(seconds=5)).isoformat()
        run_id = _run(served, "annual-refresh/annual-refresh", {},
                      state={"type": "SCHEDULED", "state_details": {"scheduled_time": when}})
        posts = _posts_for(receiver, run_id, within=90, settle=5)
        assert len(posts) == 1, posts
        assert posts[0]["state"] == "Late" and posts[0]["deployment"] == "annual-refresh/annual-refresh"
        assert posts[0]["flow_run"]["id"] == run_id
    finally:
        if run_id:
            served.http.post(f"/flow_runs/{run_id}/set_state", json={
                "state": {"type": "CANCELLED", "name": "Cancelled"}, "force": True})
        served.http.patch("/work_pools/ngobrief", json={"is_paused": False})


def test_without_a_url_make_deploy_says_no_notification_is_set_up(served):
    res = _make_deploy(served, None)
    assert "no notification is set up: NGOBRIEF_NOTIFY_URL is not set" in res.stdout
    assert not [a for a in served.http.post("/automations/filter", json={}).json()
                if a["name"] == "ngobrief-run-failed-or-late"]
