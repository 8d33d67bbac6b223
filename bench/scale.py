"""Scenario c — scale: a SYNTHETIC national register of social organizations at growing sizes.

    python bench/scale.py [--runs 5] [--sizes 100000,300000,1000000] [--rowlevel-sizes ...] [--json PATH]

For each size the SYNTHETIC register is generated once (seeded, bench/synthetic_org_register.py, into a
temporary folder), then each run is a new process on a new warehouse: pull (sha256 check) → load →
validate (every suite in expectations/, the register's on its groups) → aggregate (read
marts.org_register_by_group). Reported: time per stage, total wall time and peak RSS of the process,
and the growth factor from the smallest to the largest size.

It also measures the choice the register suite makes: Great Expectations on the register's rows
(bench/suites/staging_org_register_rowlevel.json) against the same checks on the groups
(expectations/marts_org_register_by_group.json), each in a process of its own."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import synthetic_org_register  # noqa: E402

ROWLEVEL_SUITE = harness.BENCH / "suites" / "staging_org_register_rowlevel.json"
GROUP_SUITE = harness.ROOT / "expectations" / "marts_org_register_by_group.json"


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--rowlevel-sizes", default=None, help="sizes for the row-level GX comparison (default: all)")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    rowlevel_sizes = [int(s) for s in a.rowlevel_sizes.split(",")] if a.rowlevel_sizes else sizes
    result = {"scenario": "c", "runs": a.runs, "seed": a.seed, "label": synthetic_org_register.LABEL,
              "sizes": {}, "suites": {}}
    with tempfile.TemporaryDirectory(prefix="ngobrief-bench-c-") as t:
        tmp = Path(t)
        for n in sizes:
            reg = synthetic_org_register.generate(n, a.seed, tmp / "registers")
            samples = []
            for i in range(a.runs):
                run_dir = tmp / f"run-{n}-{i}"
                env = harness.clean_env(run_dir)
                out = run_dir / "result.json"
                wh = run_dir / "warehouse.duckdb"
                res = harness.run_timed([harness.PY, str(harness.BENCH / "scale_child.py"), "pipeline",
                                         str(reg.path), reg.sha256, str(wh), str(out)], env)
                data = json.loads(out.read_text(encoding="utf-8"))
                samples.append({"wall_s": res.wall_s, "peak_rss_mb": res.peak_rss_mb, **data})
                if i < a.runs - 1 or n not in rowlevel_sizes:
                    wh.unlink()
            result["sizes"][n] = summarize(samples, reg)
            if n in rowlevel_sizes:
                result["suites"][n] = compare_suites(wh, run_dir, a.runs)
                wh.unlink()
            reg.path.unlink()
    small, large = min(sizes), max(sizes)
    s, l = result["sizes"][small], result["sizes"][large]
    result["growth"] = {"rows": large / small, "total": l["total_s"] / s["total_s"],
                        "load": l["stages_s"]["load"] / s["stages_s"]["load"],
                        "in_process": l["in_process_s"] / s["in_process_s"]}
    print(report(result))
    if a.json:
        harness.write_json(a.json, result)
    return result


def summarize(samples: list[dict], reg) -> dict:
    stages = {k: harness.median([x["stages"][k] for x in samples]) for k in samples[0]["stages"]}
    first = samples[0]
    return {"rows": reg.rows, "file_mb": reg.bytes / 1e6, "total_s": harness.median([x["wall_s"] for x in samples]),
            "in_process_s": harness.median([x["in_process_s"] for x in samples]), "stages_s": stages,
            "peak_rss_mb": harness.median([x["peak_rss_mb"] for x in samples]),
            "max_peak_rss_mb": max(x["peak_rss_mb"] for x in samples),
            "groups": first["groups"], "registered": first["registered"],
            "engaged_international": first["engaged_international"],
            "register_findings": first["register_findings"], "samples": samples}


def compare_suites(wh: Path, run_dir: Path, runs: int) -> dict:
    out = {}
    for name, suite in (("rows", ROWLEVEL_SUITE), ("groups", GROUP_SUITE)):
        samples = []
        for i in range(runs):
            env = harness.clean_env(run_dir)
            res_file = run_dir / f"suite-{name}-{i}.json"
            res = harness.run_timed([harness.PY, str(harness.BENCH / "scale_child.py"), "suite", str(suite),
                                     str(wh), str(res_file)], env)
            samples.append({"wall_s": res.wall_s, "peak_rss_mb": res.peak_rss_mb,
                            **json.loads(res_file.read_text(encoding="utf-8"))})
        out[name] = {"checks_s": harness.median([x["checks_s"] for x in samples]),
                     "gx_import_s": harness.median([x["gx_import_s"] for x in samples]),
                     "wall_s": harness.median([x["wall_s"] for x in samples]),
                     "peak_rss_mb": harness.median([x["peak_rss_mb"] for x in samples]),
                     "failed": samples[0]["failed"]}
    return out


def report(r: dict) -> str:
    rows = []
    for n, x in r["sizes"].items():
        st = x["stages_s"]
        rows.append([f"{n:,}", f"{x['file_mb']:.0f}", x["total_s"], st["pull"], st["load"], st["validate"],
                     st["aggregate"], f"{x['peak_rss_mb']:.0f}", x["groups"], f"{x['engaged_international']:,}"])
    g = r["growth"]
    big = r["sizes"][max(r["sizes"])]
    lines = [f"### c) scale: {r['label']} register (seed {r['seed']}; median of {r['runs']} runs, a new process "
             "and warehouse each)",
             harness.table(["rows", "file MB", "total s", "pull s", "load s", "validate s", "aggregate s",
                            "peak RSS MB", "groups", "engaged"], rows),
             "",
             f"largest: {big['total_s']:.1f} s ({harness.verdict(big['total_s'], 30)} ≤ 30 s), "
             f"peak RSS {big['max_peak_rss_mb']:.0f} MB at most ({harness.verdict(big['max_peak_rss_mb'], 2048)} "
             f"≤ 2 GB); {g['rows']:.0f}× the rows took {g['total']:.2f}× the time end to end "
             f"({harness.verdict(g['total'], 11)} ≤ 11×), load alone {g['load']:.2f}×, in-process "
             f"{g['in_process']:.2f}×.",
             f"register findings (seeded defects): {'; '.join(big['register_findings']) or 'none'}"]
    if r["suites"]:
        srows = []
        for n, s in r["suites"].items():
            srows.append([f"{n:,}", s["rows"]["checks_s"], s["groups"]["checks_s"],
                          f"{s['rows']['checks_s'] / s['groups']['checks_s']:.1f}×",
                          f"{s['rows']['peak_rss_mb']:.0f}", f"{s['groups']['peak_rss_mb']:.0f}",
                          s["groups"]["gx_import_s"]])
        lines += ["", "Great Expectations on the register's rows against the same checks on its groups "
                      "(GX import timed apart):",
                  harness.table(["rows", "row-level checks s", "on groups s", "row ÷ groups", "row-level peak RSS MB",
                                 "groups peak RSS MB", "GX import s"], srows)]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
