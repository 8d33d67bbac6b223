"""How long a run waits for a temporary Prefect server: Prefect's own ephemeral start against the one
`ngobrief run` makes (flows/server.py), alternating, each in a new process on the same used PREFECT_HOME.

    python bench/prefect_start.py [--runs 3]

Each child times, from its first line, everything up to a client that can talk to a server that
answers: importing the flows (and so Prefect) and the server start. The server is stopped after."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

CHILD = {
    "Prefect's ephemeral mode": """
import time; t0 = time.perf_counter()
import flows.annual_refresh
from prefect.server.api.server import SubprocessASGIServer
s = SubprocessASGIServer(); s.start()
print(time.perf_counter() - t0); s.stop()
""",
    "ngobrief run's temporary server": """
import time; t0 = time.perf_counter()
from flows import server
s = server.start_temporary()
import flows.annual_refresh
server.wait_until_up(s)
print(time.perf_counter() - t0); s.stop()
""",
}


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    samples: dict[str, list[float]] = {k: [] for k in CHILD}
    loads = [harness.loadavg()]
    with tempfile.TemporaryDirectory(prefix="ngobrief-bench-prefect-") as t:
        # a busy machine needs more than Prefect's default 20 s on a new PREFECT_HOME
        env = harness.clean_env(Path(t), NGOBRIEF_PREFECT_PROBE="0", PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="180")
        harness.run_timed([harness.PY, "-c", CHILD["Prefect's ephemeral mode"]], env)   # creates the database
        for i in range(a.runs):
            for name, code in (list(CHILD.items()) if i % 2 == 0 else list(CHILD.items())[::-1]):
                res = harness.run_timed([harness.PY, "-c", code], env)
                samples[name].append(float(res.stdout.split()[-1]))
    loads.append(harness.loadavg())
    med = {k: harness.median(v) for k, v in samples.items()}
    base = med["Prefect's ephemeral mode"]
    print(f"### Prefect client ready with a temporary server (median of {a.runs}; load average {loads[0]} at the "
          f"start, {loads[1]} at the end)")
    print(harness.table(["how", "s", "÷ Prefect's ephemeral mode"],
                        [[k, v, f"{v / base:.2f}×"] for k, v in med.items()]))
    result = {"samples": samples, "median_s": med, "loadavg": loads}
    if a.json:
        harness.write_json(a.json, result)
    return result


if __name__ == "__main__":
    main()
