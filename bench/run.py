"""Run the benchmarks — each scenario in a process of its own — and print one report with ratios.

    python bench/run.py [--quick] [--runs N] [--scenarios a,b,c] [--out DIR]

a) brief only, against a bare WeasyPrint render of the same HTML (bench/brief.py)
b) annual refresh, cold, with and without Prefect, ephemeral and against a server (bench/refresh.py)
c) scale: a SYNTHETIC national register at 100k, 300k and 1M rows (bench/scale.py)
d) a SYNTHETIC ten-year register panel: 1, 3 and 10 annual snapshots of 1M rows end to end (bench/panel.py)
e) write-audit-publish against an in-place write, bundled data and the 1M-row register (bench/wap.py)

Every figure is a median of `runs` (default 5; --quick: 3 runs, register at 100k and 1M rows, the
row-level comparison at 100k only). The report and the raw samples are written to
outputs/bench/ (or --out) as results-<time>.md and .json. Timing is wall-clock: on a shared machine
compare the ratios, which are measured in the same run."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

SCRIPTS = {"a": "brief.py", "b": "refresh.py", "c": "scale.py", "d": "panel.py", "e": "wap.py"}
TARGETS = """Targets: brief ≤ 1.5× bare WeasyPrint; zh ≤ 2× en; annual refresh cold ≤ 15 s with ephemeral
Prefect; 1M-row register end to end ≤ 30 s and ≤ 2 GB peak RSS; 100k → 1M rows ≤ 11× the time; a ten-year
panel of 1M-row register snapshots end to end (pull, validate, marts, a brief) ≤ 60 s and ≤ 3 GB peak RSS."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--scenarios", default="a,b,c,d,e")
    ap.add_argument("--out", type=Path, default=harness.ROOT / "outputs" / "bench")
    a = ap.parse_args()
    runs = a.runs or (3 if a.quick else 5)
    info = harness.machine()
    print(f"machine: {info['nproc']} CPUs ({info['cpu_model']}), {info['memory_gb']} GB; load average "
          f"{info['loadavg_start']}; {info['date']}", flush=True)
    results = {"machine": info, "runs": runs, "quick": a.quick, "commands": {}}
    sections = []
    with tempfile.TemporaryDirectory(prefix="ngobrief-bench-") as t:
        for s in a.scenarios.split(","):
            out = Path(t) / f"{s}.json"
            args = ["--runs", str(1 if s == "d" else runs)]   # d: one run per panel size (minutes each)
            if s == "c" and a.quick:
                args += ["--sizes", "100000,1000000", "--rowlevel-sizes", "100000"]
            if s == "e" and a.quick:
                args += ["--register-runs", "1"]
            cmd = [harness.PY, str(harness.BENCH / SCRIPTS[s]), *args, "--json", str(out)]
            shown = " ".join(["python", f"bench/{SCRIPTS[s]}", *args])
            results["commands"][s] = shown
            print(f"\n[{dt.datetime.now():%H:%M:%S}] scenario {s}: {shown}", flush=True)
            res = harness.run_timed(cmd, harness.clean_env(Path(t) / f"env-{s}"), timeout=7200)
            results[s] = json.loads(out.read_text(encoding="utf-8"))
            results[s]["scenario_wall_s"] = res.wall_s
            print(res.stdout, flush=True)
            sections.append(res.stdout.strip())
    info["loadavg_end"] = harness.loadavg()
    head = (f"Measured {info['date']} on {info['nproc']} CPUs ({info['cpu_model']}), {info['memory_gb']} GB "
            f"memory, Python {info['python']}; load average {info['loadavg_start']} at the start, "
            f"{info['loadavg_end']} at the end. Median of {runs} runs"
            + (" (quick)" if a.quick else "") + ".")
    text = "\n\n".join([head, TARGETS, *sections]) + "\n"
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / f"results-{stamp}.md").write_text(text, encoding="utf-8")
    harness.write_json(a.out / f"results-{stamp}.json", results)
    print(f"\nwritten: {(a.out / f'results-{stamp}.md')}")


if __name__ == "__main__":
    main()
