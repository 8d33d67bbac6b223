"""Scenario a — the brief alone, on a built warehouse, against a bare WeasyPrint render of the same HTML.

    python bench/brief.py [--runs 5] [--year 2012] [--json PATH]

Builds and publishes a warehouse edition (publishing.refresh, as `ngobrief run` does), then measures, for en and zh:
  cold — `ngobrief brief` as a new process against `bench/bare_render.py` as a new process (both pay
         Python start-up and the WeasyPrint import, as a user's command does);
  warm — in this process after one warm-up: pipeline.render_stage against WeasyPrint rendering the
         captured HTML and files (what the pipeline adds to WeasyPrint itself).
The order alternates run by run; each figure is the median of `runs`."""

from __future__ import annotations

import argparse
import pickle
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from bare_render import Capture, render  # noqa: E402

LANGS = ("en", "zh")


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--year", type=int, default=2012)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ngobrief-bench-a-") as t:
        tmp = Path(t)
        env = harness.clean_env(tmp)
        wh = tmp / "warehouse.duckdb"
        cli = [harness.PY, "-m", "ngobrief.entry"]   # as the console script starts: with its PDF worker
        # a published edition, as `ngobrief run` leaves it (pull and validate alone only stage and audit)
        harness.run_timed([harness.PY, "-c", "import sys; from pathlib import Path; from ngobrief import publishing; "
                           "publishing.refresh(Path(sys.argv[1]))", str(wh)], env)

        # Capture each language's HTML and files from a real render, in this process.
        import os

        os.environ.update({k: v for k, v in env.items() if k.startswith(("NGOBRIEF_", "PREFECT_", "DO_NOT"))})
        cap = Capture().install()
        from ngobrief import pipeline

        captures = {}
        for lang in LANGS:
            cap.active = True
            pipeline.render_stage(a.year, lang, wh, tmp / f"capture-{lang}.pdf")
            cap.active = False
            captures[lang] = cap.last
            with open(tmp / f"capture-{lang}.pickle", "wb") as fh:
                pickle.dump(cap.last, fh)

        load_start = harness.loadavg()
        cold = {lang: {"brief": [], "bare": [], "brief_rss": [], "bare_rss": [], "brief_cpu": [], "bare_cpu": []}
                for lang in LANGS}
        for r in range(a.runs):
            for lang in LANGS:
                jobs = [("brief", [*cli, "brief", "--year", str(a.year), "--lang", lang, "--warehouse", str(wh),
                                   "--out", str(tmp / f"cold-{lang}.pdf")]),
                        ("bare", [harness.PY, str(harness.BENCH / "bare_render.py"),
                                  str(tmp / f"capture-{lang}.pickle"), str(tmp / f"bare-{lang}.pdf")])]
                for name, cmd in (jobs if r % 2 == 0 else jobs[::-1]):
                    res = harness.run_timed(cmd, env)
                    cold[lang][name].append(res.wall_s)
                    cold[lang][name + "_rss"].append(res.peak_rss_mb)
                    cold[lang][name + "_cpu"].append(res.cpu_s)   # steadier than wall on a shared machine

        warm = {lang: {"brief": [], "bare": []} for lang in LANGS}
        for r in range(a.runs + 1):
            for lang in LANGS:
                jobs = [("brief", lambda: pipeline.render_stage(a.year, lang, wh, tmp / f"warm-{lang}.pdf")),
                        ("bare", lambda: render(captures[lang], tmp / f"warm-bare-{lang}.pdf", cap.real))]
                for name, job in (jobs if r % 2 == 0 else jobs[::-1]):
                    t0 = time.perf_counter()
                    job()
                    if r:  # round 0 warms fonts and templates
                        warm[lang][name].append(time.perf_counter() - t0)
        sizes = {lang: {"brief_kb": (tmp / f"cold-{lang}.pdf").stat().st_size // 1024,
                        "bare_kb": (tmp / f"bare-{lang}.pdf").stat().st_size // 1024} for lang in LANGS}

    m = lambda xs: harness.median(xs)  # noqa: E731
    result = {"scenario": "a", "runs": a.runs, "year": a.year, "sizes": sizes, "cold": {}, "warm": {},
              "load_average": [load_start, harness.loadavg()]}
    for lang in LANGS:
        result["cold"][lang] = {"brief_s": m(cold[lang]["brief"]), "bare_s": m(cold[lang]["bare"]),
                                "ratio": m(cold[lang]["brief"]) / m(cold[lang]["bare"]),
                                "brief_rss_mb": m(cold[lang]["brief_rss"]), "bare_rss_mb": m(cold[lang]["bare_rss"]),
                                "brief_cpu_s": m(cold[lang]["brief_cpu"]), "bare_cpu_s": m(cold[lang]["bare_cpu"]),
                                "cpu_ratio": m(cold[lang]["brief_cpu"]) / m(cold[lang]["bare_cpu"]),
                                "samples": cold[lang]}
        result["warm"][lang] = {"brief_s": m(warm[lang]["brief"]), "bare_s": m(warm[lang]["bare"]),
                                "ratio": m(warm[lang]["brief"]) / m(warm[lang]["bare"]), "samples": warm[lang]}
    for kind in ("cold", "warm"):
        result[kind]["zh_over_en"] = result[kind]["zh"]["brief_s"] / result[kind]["en"]["brief_s"]
        result[kind]["bare_zh_over_en"] = result[kind]["zh"]["bare_s"] / result[kind]["en"]["bare_s"]
    print(report(result))
    if a.json:
        harness.write_json(a.json, result)
    return result


def report(r: dict) -> str:
    rows = []
    for kind in ("cold", "warm"):
        for lang in LANGS:
            x = r[kind][lang]
            rows.append([f"{kind} {lang}", x["brief_s"], x["bare_s"], f"{x['ratio']:.2f}×",
                         harness.verdict(x["ratio"], 1.5),
                         f"{x['brief_cpu_s']:.2f} / {x['bare_cpu_s']:.2f} = {x['cpu_ratio']:.2f}×" if kind == "cold" else "",
                         f"{x.get('brief_rss_mb', float('nan')):.0f}" if kind == "cold" else "",
                         r["sizes"][lang]["brief_kb"] if kind == "cold" else ""])
    out = ["### a) brief only, year %d (median of %d runs)" % (r["year"], r["runs"]),
           harness.table(["brief", "ngobrief s", "bare WeasyPrint s", "ratio", "≤ 1.5×", "CPU s ngobrief / bare",
                          "peak RSS MB", "PDF KB"], rows),
           f"load average {r['load_average'][0]} at the start, {r['load_average'][1]} at the end",
           "",
           harness.table(["zh ÷ en", "ngobrief", "bare WeasyPrint", "≤ 2×"],
                         [[k, f"{r[k]['zh_over_en']:.2f}×", f"{r[k]['bare_zh_over_en']:.2f}×",
                           harness.verdict(r[k]["zh_over_en"], 2.0)] for k in ("cold", "warm")])]
    return "\n".join(out)


if __name__ == "__main__":
    main()
