"""Scenario b — the annual refresh on the bundled data, cold (a new warehouse and outputs folder each run).

    python bench/refresh.py [--runs 5] [--json PATH]

Variants, interleaved run by run so that background load falls on all of them alike:
  no Prefect          bench/plain_refresh.py: the pipeline's stage functions one after another (the
                      briefs rendered across the cores, as the flow renders them)
  no Prefect, serial render   the same with NGOBRIEF_RENDER_WORKERS=1: the briefs one after another
  ephemeral, new home `ngobrief run` with a new PREFECT_HOME (Prefect creates its database first)
  ephemeral           `ngobrief run` with a PREFECT_HOME used before (one uncounted warm-up run)
  server              `ngobrief run` against `prefect server start` on a free 127.0.0.1 port with its
                      own PREFECT_HOME, started for this scenario and stopped afterwards

Time per stage comes from Prefect's own task-run records (the flow's tasks, by name); for the
no-Prefect baseline from timing each stage function. Orchestration overhead = the command's wall
time ÷ the sum of its stages."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

VARIANTS = ("no Prefect", "no Prefect, serial render", "ephemeral, new home", "ephemeral", "server")
EPOCH = dt.datetime(1970, 1, 1)


def _interval(value) -> float:
    """Prefect's SQLite stores a duration as a timestamp after the epoch."""
    if value is None:
        return 0.0
    if isinstance(value, (int, float)):
        return float(value)
    return (dt.datetime.fromisoformat(str(value)) - EPOCH).total_seconds()


def task_times(prefect_home: Path) -> tuple[dict[str, float], float]:
    """The latest flow run's task durations summed by task name, and the flow run's own duration."""
    db = prefect_home / "prefect.db"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        fr = con.execute("SELECT id, total_run_time FROM flow_run ORDER BY created DESC LIMIT 1").fetchone()
        if fr is None:
            return {}, 0.0
        rows = con.execute("SELECT name, total_run_time, start_time FROM task_run WHERE flow_run_id = ? "
                           "ORDER BY start_time", (fr[0],)).fetchall()
    finally:
        con.close()
    out: dict[str, float] = {}
    for name, total, _ in rows:
        stage = re.sub(r"-[0-9a-f]{3}$", "", name)
        out[stage] = out.get(stage, 0.0) + _interval(total)
    return out, _interval(fr[1])


class PrefectServer:
    """`prefect server start` in its own process group, so that stopping it stops its children too."""

    def __init__(self, home: Path, log: Path):
        self.home, self.log, self.port = home, log, harness.free_port()
        self.url = f"http://127.0.0.1:{self.port}/api"
        self.proc: subprocess.Popen | None = None

    def __enter__(self):
        self.home.mkdir(parents=True, exist_ok=True)
        env = harness.clean_env(self.home.parent, PREFECT_HOME=str(self.home))
        prefect = Path(harness.PY).with_name("prefect")
        cmd = [str(prefect) if prefect.exists() else "prefect", "server", "start", "--host", "127.0.0.1",
               "--port", str(self.port)]
        self.logfile = open(self.log, "wb")
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.logfile, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        while time.perf_counter() - t0 < 180:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prefect server exited {self.proc.returncode}; see {self.log}")
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        self.startup_s = time.perf_counter() - t0
                        return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError("prefect server did not answer within 180 s")

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.logfile.close()


def briefs_written(stdout: str) -> list[str]:
    found = []
    for line in stdout.splitlines():
        m = re.search(r"brief: .*?(\d{4})-(en|zh)", line)
        if m:
            found.append(f"{m.group(1)}-{m.group(2)}")
    return found


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    samples: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="ngobrief-bench-b-") as t:
        tmp = Path(t)
        cli = [harness.PY, "-m", "ngobrief.cli", "run"]
        used_home = tmp / "ephemeral-home"

        def ngobrief_run(variant: str, i: int, server: PrefectServer | None) -> dict:
            run_dir = tmp / f"run-{variant.replace(' ', '').replace(',', '-')}-{i}"
            # never another developer's `make server`: the ephemeral variants start their own
            env = harness.clean_env(run_dir, NGOBRIEF_PREFECT_PROBE="0")
            if variant == "ephemeral":
                home = used_home
            elif variant == "server":
                home = server.home
                env["PREFECT_API_URL"] = server.url
            else:
                home = run_dir / "prefect"
            home.mkdir(parents=True, exist_ok=True)
            if variant != "server":
                env["PREFECT_HOME"] = str(home)
            res = harness.run_timed([*cli, "--warehouse", str(run_dir / "warehouse.duckdb")], env, check=False)
            if res.returncode not in (0, 1):
                raise RuntimeError(f"ngobrief run ({variant}) exited {res.returncode}:\n{res.stderr[-3000:]}")
            stages, flow_s = task_times(home)
            started = re.search(r"started a temporary one in ([0-9.]+) s", res.stdout)
            return {"wall_s": res.wall_s, "peak_rss_mb": res.peak_rss_mb, "stages": stages, "flow_run_s": flow_s,
                    "briefs": briefs_written(res.stdout), "returncode": res.returncode,
                    "temporary_server_s": float(started.group(1)) if started else None}

        def plain_run(i: int, briefs: list[str], serial: bool = False) -> dict:
            run_dir = tmp / f"run-plain{'-serial' if serial else ''}-{i}"
            env = harness.clean_env(run_dir, **({"NGOBRIEF_RENDER_WORKERS": "1"} if serial else {}))
            out = run_dir / "stages.json"
            res = harness.run_timed([harness.PY, str(harness.BENCH / "plain_refresh.py"),
                                     str(run_dir / "warehouse.duckdb"), str(out), *briefs], env)
            data = json.loads(out.read_text())
            return {"wall_s": res.wall_s, "peak_rss_mb": res.peak_rss_mb, "stages": data["stages"],
                    "briefs": briefs}

        with PrefectServer(tmp / "server-home", tmp / "server.log") as server:
            warm_ups = {"ephemeral": ngobrief_run("ephemeral", -1, server),
                        "server": ngobrief_run("server", -1, server)}
            briefs = warm_ups["ephemeral"]["briefs"]
            for i in range(a.runs):
                order = list(VARIANTS[i % len(VARIANTS):] + VARIANTS[:i % len(VARIANTS)])
                for v in order:
                    samples[v].append(plain_run(i, briefs, serial=v.endswith("serial render"))
                                      if v.startswith("no Prefect") else ngobrief_run(v, i, server))
            startup = server.startup_s

    result = {"scenario": "b", "runs": a.runs, "server_startup_s": startup, "briefs": briefs,
              "variants": {}}
    for v in VARIANTS:
        s = samples[v]
        names: list[str] = []
        for x in s:
            names += [n for n in x["stages"] if n not in names]
        stage_med = {n: harness.median([x["stages"].get(n, 0.0) for x in s]) for n in names}
        sums = [sum(x["stages"].values()) for x in s if x["stages"]]
        result["variants"][v] = {
            "total_s": harness.median([x["wall_s"] for x in s]),
            "stages_s": stage_med,
            "sum_of_stages_s": harness.median(sums),
            # a run whose task records could not be read (none in its PREFECT_HOME) counts in total_s only
            "overhead": harness.median([x["wall_s"] / sum(x["stages"].values()) for x in s if x["stages"]]),
            "runs_without_stage_times": sum(not x["stages"] for x in s),
            "peak_rss_mb": harness.median([x["peak_rss_mb"] for x in s]),
            # Prefect's own record of the flow run: the rest of the wall time is start-up and shut-down
            "flow_run_s": harness.median([x["flow_run_s"] for x in s]) if "flow_run_s" in s[0] else None,
            # as `ngobrief run` reports it: launch to the first answer, beside the import of Prefect
            "temporary_server_s": harness.median([x.get("temporary_server_s") for x in s]),
            "samples": s,
        }
    base = result["variants"]["no Prefect"]["total_s"]
    for v in VARIANTS:
        result["variants"][v]["vs_no_prefect"] = result["variants"][v]["total_s"] / base
    print(report(result))
    if a.json:
        harness.write_json(a.json, result)
    return result


def _stage_group(name: str) -> str:
    """Put a flow's task names under the issue's five stages where they plainly belong."""
    for stage in ("pull", "load", "validate", "compute", "render"):
        if name.startswith(stage):
            return stage
    return name


def report(r: dict) -> str:
    groups: list[str] = []
    per_variant = {}
    for v, x in r["variants"].items():
        g: dict[str, float] = {}
        for name, secs in x["stages_s"].items():
            g[_stage_group(name)] = g.get(_stage_group(name), 0.0) + secs
        per_variant[v] = g
        groups += [n for n in g if n not in groups]
    rows = []
    for v, x in r["variants"].items():
        flow = x.get("flow_run_s")
        rows.append([v, x["total_s"], *[per_variant[v].get(n, float("nan")) for n in groups],
                     x["sum_of_stages_s"], f"{flow:.2f}" if flow is not None else "–",
                     f"{x['temporary_server_s']:.2f}" if x["temporary_server_s"] == x["temporary_server_s"] else "–",
                     f"{x['overhead']:.2f}×", f"{x['vs_no_prefect']:.2f}×", f"{x['peak_rss_mb']:.0f}"])
    eph = r["variants"]["ephemeral"]["total_s"]
    plain, srv = r["variants"]["no Prefect"]["total_s"], r["variants"]["server"]["total_s"]
    par = per_variant["no Prefect"].get("render", float("nan"))
    ser = per_variant["no Prefect, serial render"].get("render", float("nan"))
    eph_new = r["variants"]["ephemeral, new home"]["total_s"]
    return "\n".join([
        f"### b) annual refresh, cold: new warehouse each run, {len(r['briefs'])} briefs "
        f"(median of {r['runs']} runs; stage seconds from Prefect's task runs)",
        harness.table(["variant", "total s", *[f"{n} s" for n in groups], "sum of stages s", "flow run s", "temporary server start s",
                       "total ÷ stages", "total ÷ no-Prefect", "peak RSS MB"], rows),
        "",
        f"ephemeral Prefect: {eph:.1f} s — {harness.verdict(eph, 15)} the 15 s target "
        f"(first run on a new PREFECT_HOME: {eph_new:.1f} s); prefect server start took "
        f"{r['server_startup_s']:.1f} s before the runs.",
        f"render across the cores: {par:.2f} s against {ser:.2f} s one brief after another ({par / ser:.2f}×); "
        f"plain stages {plain:.1f} s — {harness.verdict(plain, 10)} the 10 s target; `ngobrief run` against a "
        f"running server {srv / plain:.2f}× plain — {harness.verdict(srv / plain, 1.15)} the 1.15× target."])


if __name__ == "__main__":
    main()
