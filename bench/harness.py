"""Shared benchmark plumbing: timed child processes with their peak memory, medians, the machine.

Every measured thing runs as its own process (so imports and caches are what a user gets), and the
parent reads the child's wall time and peak resident memory from wait4()."""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PY = sys.executable


@dataclass
class Timed:
    wall_s: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str
    extra: dict = field(default_factory=dict)
    # CPU seconds (user + system) of the child and the children it waited for: far less sensitive
    # than wall time to other work on a shared machine, which takes cores, not instructions
    cpu_s: float = 0.0


def clean_env(tmp: Path, **more: str) -> dict[str, str]:
    """An environment that writes only under `tmp`, with Prefect's telemetry off and no server set."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PREFECT_", "NGOBRIEF_")) and k != "VIRTUAL_ENV_PROMPT"}
    (tmp / "prefect").mkdir(parents=True, exist_ok=True)
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_HOME=str(tmp / "prefect"),
               NGOBRIEF_OUTPUTS=str(tmp / "outputs"))
    env.update(more)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def run_timed(cmd: list[str], env: dict[str, str], *, cwd: Path = ROOT, check: bool = True,
              timeout: float = 1800) -> Timed:
    """Run one child; wall time from fork to exit, peak RSS of the largest process it waited for."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
        deadline = t0 + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.005)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        res = Timed(wall, usage.ru_maxrss / 1024, proc.returncode,
                    out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace"),
                    cpu_s=usage.ru_utime + usage.ru_stime)
    if check and res.returncode not in (0,):
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {res.returncode}:\n{res.stderr[-3000:]}")
    return res


def median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def machine() -> dict:
    """What the numbers were measured on."""
    model, mem_kb = "?", 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    versions = {}
    for pkg in ("duckdb", "polars", "prefect", "great_expectations", "weasyprint", "pandas", "pyarrow"):
        try:
            versions[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            versions[pkg] = None
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "cpu_model": model,
        "python": platform.python_version(),
        "versions": versions,
        "loadavg_start": loadavg(),
    }


def write_json(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, default=lambda o: asdict(o)), encoding="utf-8")


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (prints readably in a terminal too)."""
    def cell(v):
        if isinstance(v, float):
            return f"{v:.2f}"
        return str(v)
    text = [[cell(v) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in text)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    return "\n".join([line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *map(line, text)])


def verdict(value: float, limit: float) -> str:
    if value != value:  # NaN
        return "not measured"
    return "meets" if value <= limit else "misses"
