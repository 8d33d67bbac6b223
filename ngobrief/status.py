"""`ngobrief status`: is the annual schedule healthy? The published edition, the last run, the next
scheduled run, overdue sources and the lock, with an exit code an outside monitor can act on.

Reads only (never takes the lock, never writes the warehouse); the Prefect server is asked over HTTP
when it answers, so this works the day the server is down, and the library never imports Prefect."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

from . import config, freshness, lock

# Exit codes (`ngobrief status`): 0 healthy; each problem sets its bit, so a monitor can tell them apart.
LAST_RUN_FAILED, SOURCE_OVERDUE, EDITION_STALE = 4, 8, 16
# A scheduled run that has not published within this long after its time makes the edition stale.
SCHEDULE_GRACE = dt.timedelta(days=2)
ANNUAL_DEPLOYMENT = "annual-refresh"


def runs_file() -> Path:
    """Where flow runs record how they ended (outputs/runs/last-run.json)."""
    return config.outputs_dir() / "runs" / "last-run.json"


def published_edition(warehouse_path: Path | None = None) -> dict:
    """What stays published: the edition readers have now.

    EDITIONS HOOK: until editions (write-audit-publish) exist, the published edition is the warehouse
    file itself and the time its data was last loaded, with the briefs under outputs/briefs. When
    editions land, return the published edition's id here; notifications, artifacts and `status`
    all read it from this one function."""
    path = config.warehouse_path(warehouse_path)
    out = {"edition": None, "warehouse": str(path), "last_load": None,
           "briefs": sorted(p.name for p in config.briefs_dir().glob("*.pdf")) if config.briefs_dir().is_dir() else []}
    if not path.exists():
        return out
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        out["last_load"] = "unknown (the warehouse is being written)"
        return out
    try:
        row = con.sql("SELECT max(loaded_at) FROM raw.snapshots").fetchall()
        out["last_load"] = row[0][0].isoformat(timespec="seconds") if row and row[0][0] else None
    except duckdb.Error:
        pass
    finally:
        con.close()
    return out


def describe_published(p: dict) -> str:
    """The published edition as one line (for notifications and artifacts)."""
    if p.get("edition"):
        return f"edition {p['edition']}"
    if p.get("last_load"):
        return f"warehouse {p['warehouse']} (data last loaded {p['last_load']})"
    return f"nothing yet (no warehouse at {p['warehouse']})"


def record_run(*, name: str, flow: str, ok: bool, state: str, message: str = "",
               run_id: str | None = None, when: dt.datetime | None = None) -> None:
    """Remember how a flow run ended, for `status` when no server answers (written by the flows)."""
    path = runs_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "flow": flow, "ok": ok, "state": state, "message": message, "run_id": run_id,
              "ended": (when or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds")}
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def last_run_recorded() -> dict | None:
    try:
        return json.loads(runs_file().read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def schedule(prefect_yaml: Path | None = None, deployment: str = ANNUAL_DEPLOYMENT) -> dict:
    """The deployment's first schedule in prefect.yaml: its cron and time zone."""
    import yaml

    spec = yaml.safe_load((prefect_yaml or config.ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    for d in spec.get("deployments", []):
        if d.get("name") == deployment and d.get("schedules"):
            s = d["schedules"][0]
            return {"cron": s["cron"], "timezone": s.get("timezone", "UTC")}
    raise ValueError(f"prefect.yaml has no schedule for {deployment}")


def next_from_cron(now: dt.datetime, cron: str, timezone: str) -> dt.datetime:
    """The first time after `now` that the cron fires, in its time zone (what Prefect will schedule)."""
    from cronsim import CronSim

    return next(CronSim(cron, now.astimezone(ZoneInfo(timezone))))


def previous_from_cron(now: dt.datetime, cron: str, timezone: str) -> dt.datetime:
    from cronsim import CronSim

    return next(CronSim(cron, now.astimezone(ZoneInfo(timezone)), reverse=True))


def _server(api_url: str | None):
    """An HTTP client for the Prefect API when one is configured and answers, else None."""
    if not api_url:
        return None
    import httpx

    client = httpx.Client(base_url=api_url.rstrip("/"), timeout=5)
    try:
        if client.get("/health").status_code == 200:
            return client
    except httpx.HTTPError:
        pass
    client.close()
    return None


def _from_server(client, flow: str = ANNUAL_DEPLOYMENT) -> dict:
    """The next scheduled run of the annual deployment and the latest finished run of ours."""
    out: dict = {"next_run": None, "last_run": None}
    res = client.get(f"/deployments/name/{flow}/{flow}")
    if res.status_code != 200:
        return out
    deployment_id = res.json()["id"]
    nxt = client.post("/flow_runs/filter", json={
        "flow_runs": {"deployment_id": {"any_": [deployment_id]}, "state": {"type": {"any_": ["SCHEDULED"]}}},
        "sort": "EXPECTED_START_TIME_ASC", "limit": 1}).json()
    if nxt:
        out["next_run"] = nxt[0]["expected_start_time"]
    last = client.post("/flow_runs/filter", json={
        "flow_runs": {"tags": {"all_": ["ngobrief"]},
                      "state": {"type": {"any_": ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"]}}},
        "sort": "END_TIME_DESC", "limit": 1}).json()
    if last:
        r = last[0]
        out["last_run"] = {"name": r["name"], "ok": r["state_type"] == "COMPLETED", "state": r["state_name"],
                           "message": (r.get("state") or {}).get("message") or "", "run_id": r["id"],
                           "ended": r.get("end_time")}
    return out


def lock_holder(warehouse_path: Path | None = None) -> str | None:
    """Who holds the warehouse lock now, or None. Probes with a shared flock on the existing file
    only: a missing lock file means nobody holds it, and none is created."""
    path = lock.lock_path(warehouse_path)
    if not path.exists():
        return None
    with open(path, "r", encoding="utf-8") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return lock.holder(warehouse_path) or "another process"
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    return None


def status(*, now: dt.datetime | None = None, today: dt.date | None = None, warehouse_path: Path | None = None,
           api_url: str | None = None, prefect_yaml: Path | None = None) -> dict:
    """Everything `ngobrief status` shows, and its exit code under "exit_code"."""
    now = now or dt.datetime.now(dt.timezone.utc)
    today = today or now.date()
    sched = schedule(prefect_yaml)
    published = published_edition(warehouse_path)
    client = _server(api_url)
    server = {}
    if client is not None:
        try:
            server = _from_server(client)
        finally:
            client.close()
    last = server.get("last_run") or last_run_recorded()
    nxt = server.get("next_run")
    next_run = {"at": nxt, "from": "server"} if nxt else {
        "at": next_from_cron(now, sched["cron"], sched["timezone"]).isoformat(),
        "from": f"prefect.yaml cron {sched['cron']!r} ({sched['timezone']})"}
    overdue = [s for s in freshness.series_freshness(today) if s["overdue"]]

    # The edition is stale when the latest scheduled time (plus grace) has passed since its data was loaded.
    prev = previous_from_cron(now, sched["cron"], sched["timezone"])
    stale = False
    if published["last_load"] and published["last_load"][0].isdigit():
        loaded = dt.datetime.fromisoformat(published["last_load"])
        loaded = loaded if loaded.tzinfo else loaded.replace(tzinfo=dt.timezone.utc)
        stale = loaded < prev and now > prev + SCHEDULE_GRACE
    code = ((LAST_RUN_FAILED if last and not last.get("ok") else 0) | (SOURCE_OVERDUE if overdue else 0)
            | (EDITION_STALE if stale else 0))
    return {"published": published, "published_stale": stale, "last_run": last,
            "server": api_url if client is not None else None, "next_run": next_run,
            "overdue_sources": overdue, "lock_holder": lock_holder(warehouse_path),
            "healthy": code == 0, "exit_code": code}


def table_lines(s: dict) -> list[str]:
    last = s["last_run"]
    lines = [f"published    {describe_published(s['published'])}"
             + ("  [STALE: the last scheduled run did not publish]" if s["published_stale"] else ""),
             "last run     " + ("none recorded" if not last else
                                 f"{'ok' if last['ok'] else 'FAILED'} · {last['name']} · {last.get('ended') or ''}"
                                 + (f" · {last['message']}" if last.get("message") and not last["ok"] else "")),
             f"next run     {s['next_run']['at']}  (from {s['next_run']['from']})",
             "lock         " + (f"held by {s['lock_holder']}" if s["lock_holder"] else "free")]
    if s["overdue_sources"]:
        lines.append(f"overdue      {len(s['overdue_sources'])} source series:")
        lines += [f"  {o['series']}: latest release {o['latest_release']}, expected by {o['next_expected']} "
                  f"({o['days_overdue']} days overdue)" for o in s["overdue_sources"]]
    else:
        lines.append("overdue      none")
    lines.append(f"health       {'ok' if s['healthy'] else 'NOT OK'} (exit code {s['exit_code']})")
    return lines
