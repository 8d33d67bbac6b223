"""Scenario d — a ten-year panel of the SYNTHETIC national register: annual snapshots of 1M
organizations each (bench/synthetic_org_register.py, one seed per year), loaded with the bundled data.

    python bench/panel.py [--snapshots 1,3,10] [--rows 1000000] [--runs 1] [--json PATH]

Each run is a new process on a new warehouse: pull (sha256 of every file) → load → validate (every
suite; the register on its groups) → validate again (nothing changed: the stored run is reused) →
marts (the register's groups per snapshot) → a brief (2013, en; the brief shows nothing from the org
register today, so it measures a brief on a warehouse that holds the panel). Reported: time per
stage, total wall time, seconds per million register rows, and peak RSS. Each year's snapshot has its
own seed: the panel has the size of ten annual registers, not their continuity."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import synthetic_org_register  # noqa: E402

TARGET_S, TARGET_MB = 60, 3 * 1024


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--snapshots", default="1,3,10")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    counts = [int(s) for s in a.snapshots.split(",")]
    result = {"scenario": "d", "runs": a.runs, "rows_per_snapshot": a.rows, "label": synthetic_org_register.LABEL,
              "loadavg_start": harness.loadavg(), "panels": {}}
    with tempfile.TemporaryDirectory(prefix="ngobrief-bench-d-") as t:
        tmp = Path(t)
        regs = [synthetic_org_register.generate(a.rows, a.seed + i, tmp / "registers") for i in range(max(counts))]
        for k in counts:
            samples = []
            for i in range(a.runs):
                run_dir = tmp / f"run-{k}-{i}"
                out, wh = run_dir / "result.json", run_dir / "warehouse.duckdb"
                env = harness.clean_env(run_dir)
                load_before = harness.loadavg()
                res = harness.run_timed([harness.PY, str(harness.BENCH / "scale_child.py"), "panel", str(wh), str(out),
                                         *[f"{r.path}={r.sha256}" for r in regs[:k]]], env, timeout=3600)
                samples.append({"wall_s": res.wall_s, "cpu_s": res.cpu_s, "peak_rss_mb": res.peak_rss_mb,
                                "loadavg": load_before,
                                **json.loads(out.read_text(encoding="utf-8"))})
                wh.unlink()
            result["panels"][k] = summarize(samples)
    result["loadavg_end"] = harness.loadavg()
    print(report(result))
    if a.json:
        harness.write_json(a.json, result)
    return result


def summarize(samples: list[dict]) -> dict:
    stages = {k: harness.median([x["stages"][k] for x in samples]) for k in samples[0]["stages"]}
    total = harness.median([x["wall_s"] for x in samples])
    rows = samples[0]["register_rows"]
    cpu = harness.median([x["cpu_s"] for x in samples])
    return {"register_rows": rows, "total_s": total, "s_per_million": total / (rows / 1e6), "stages_s": stages,
            "cpu_s": cpu, "cpu_s_per_million": cpu / (rows / 1e6),
            "peak_rss_mb": max(x["peak_rss_mb"] for x in samples), "loadavg": [x["loadavg"] for x in samples],
            "snapshots": samples[0]["snapshots"], "groups": samples[0]["groups"],
            "reused": all(x["reused"] for x in samples), "register_findings": samples[0]["register_findings"],
            "samples": samples}


def report(r: dict) -> str:
    names = list(next(iter(r["panels"].values()))["stages_s"])
    rows = [[k, f"{p['register_rows']:,}", p["total_s"], p["s_per_million"], p["cpu_s"], p["cpu_s_per_million"],
             *[p["stages_s"][n] for n in names],
             f"{p['peak_rss_mb']:.0f}", " / ".join(p["loadavg"])] for k, p in r["panels"].items()]
    big = r["panels"][max(r["panels"])]
    small = r["panels"][min(r["panels"])]
    growth = big["total_s"] / small["total_s"]
    return "\n".join([
        f"### d) {r['label']} register panel: annual snapshots of {r['rows_per_snapshot']:,} organizations "
        f"with the bundled data (median of {r['runs']} run(s), a new process and warehouse each; load average "
        f"{r['loadavg_start']} at the start, {r['loadavg_end']} at the end)",
        harness.table(["snapshots", "register rows", "total s", "s per M rows", "CPU s", "CPU s per M rows",
                       *[f"{n} s" for n in names],
                       "peak RSS MB", "load average at start"], rows),
        "",
        f"largest: {big['total_s']:.1f} s wall ({harness.verdict(big['total_s'], TARGET_S)} ≤ {TARGET_S} s), "
        f"{big['cpu_s']:.1f} CPU s, peak RSS "
        f"{big['peak_rss_mb']:.0f} MB ({harness.verdict(big['peak_rss_mb'], TARGET_MB)} ≤ 3 GB); "
        f"{big['register_rows'] / small['register_rows']:.0f}× the rows took {growth:.2f}× the time; "
        f"validation reused on the second call: {big['reused']}.",
        f"register findings (seeded defects): {'; '.join(big['register_findings']) or 'none'}"])


if __name__ == "__main__":
    main()
