"""One measured refresh for bench/wap.py, in a process of its own: write-audit-publish against a plain
in-place write of the same stages on the same data.

    python bench/wap_child.py MODE WAREHOUSE JSON_OUT [YEAR-LANG ... | run]
        MODE wap:     publishing.refresh (build copy → load → validate → stamp, checksums, keep, rename)
        MODE inplace: pipeline.load_stage + validate_stage on the warehouse file itself (before editions)
        then the briefs YEAR-LANG from the warehouse, in both modes; `run`: every brief `ngobrief run`
        writes (each year to brief, en and zh), rendered across the cores as the flow renders them.

The data folder is $NGOBRIEF_DATA; $BENCH_WARNING_SUITES names an expectations folder to use instead
of expectations/ (the register's seeded defects at warning level, so that the edition publishes)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

started = time.perf_counter()
from ngobrief import early  # noqa: E402

# Both modes validate alike: in an early process that imports Great Expectations while the process
# imports, pulls and loads, as `ngobrief run` does (ngobrief.entry; in place, bound to the file itself)
early.start(*early.VALIDATE)
from ngobrief import config, pipeline, publishing  # noqa: E402

if os.environ.get("BENCH_WARNING_SUITES"):
    config.EXPECTATIONS_DIR = Path(os.environ["BENCH_WARNING_SUITES"])


def main() -> None:
    mode, wh, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    every = sys.argv[4:] == ["run"]   # the briefs `ngobrief run` writes: every year, both languages
    briefs = [] if every else [(int(x.split("-")[0]), x.split("-")[1]) for x in sys.argv[4:]]
    t = time.perf_counter()
    published = True
    publishing_s = 0.0   # WAP's own steps: the build copy (begin) and the audit gate, stamp, checksums, rename
    if mode == "wap":   # publishing.refresh's steps, the publishing ones timed apart
        snapshots = pipeline.pull_stage()
        t0 = time.perf_counter()
        build = publishing.begin_stage(snapshots, wh)
        publishing_s += time.perf_counter() - t0
        if build is not None:
            pipeline.load_stage(snapshots, build.path)
            run = pipeline.validate_stage(build.path)
            t0 = time.perf_counter()
            published = publishing.audit_and_publish(build, run).published
            publishing_s += time.perf_counter() - t0
    else:
        pipeline.load_stage(pipeline.pull_stage(), wh)
        pipeline.bind_validator(wh)
        run = pipeline.validate_stage(wh)
        published = not run.errors
    refresh_s = time.perf_counter() - t
    t = time.perf_counter()
    if every:   # as the flow does: the years to brief, rendered across the cores
        pipeline.render_stages([(y, lang) for y in pipeline.compute_stage(wh) for lang in ("en", "zh")], wh)
    for year, lang in briefs:
        pipeline.render_stage(year, lang, wh)
    out.write_text(json.dumps({"refresh_s": refresh_s, "render_s": time.perf_counter() - t,
                               "in_process_s": time.perf_counter() - started, "published": published, "publishing_s": publishing_s}))


if __name__ == "__main__":
    main()
