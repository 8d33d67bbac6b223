"""The annual refresh without Prefect: the stage functions of ngobrief.pipeline and ngobrief.publishing
called one after another as the flow calls them (build copy, load, validate, publish, compute, render), timed one by one — the baseline that `ngobrief run` (the Prefect flow) is compared with.

    python bench/plain_refresh.py WAREHOUSE JSON_OUT YEAR-LANG [YEAR-LANG ...]

It writes the same briefs the flow wrote (given as 2012-en 2012-zh ...) so both do the same work."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.perf_counter()

stages: dict[str, float] = {}


def timed(name, fn, *args, **kwargs):
    t0 = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        stages[name] = stages.get(name, 0.0) + time.perf_counter() - t0


def main() -> None:
    # imported here, not at the top: the render pool's processes (spawned) import this script again,
    # and a worker of `ngobrief run` imports only the light console-script module
    from ngobrief import early

    early.start(*early.VALIDATE)   # as `ngobrief run` does before its imports (ngobrief.entry)
    from ngobrief import pipeline, publishing

    wh, out = Path(sys.argv[1]), Path(sys.argv[2])
    briefs = [(int(x.split("-")[0]), x.split("-")[1]) for x in sys.argv[3:]]
    # the flow's stages in its order, write-audit-publish included: build copy, load, audit, publish
    snapshots = timed("pull", pipeline.pull_stage)
    build = timed("publish", publishing.begin_stage, snapshots, wh)
    if build is not None:
        timed("load", pipeline.load_stage, snapshots, build.path)
        run = timed("validate", pipeline.validate_stage, build.path)
        timed("publish", publishing.audit_and_publish, build, run)
    timed("compute", pipeline.compute_stage, wh)
    timed("render", pipeline.render_stages, briefs, wh)   # as the flow does: WeasyPrint across the cores
    out.write_text(json.dumps({"stages": stages, "in_process_s": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
