"""One measured run of scenario c on a SYNTHETIC register, in a process of its own.

    python bench/scale_child.py pipeline REGISTER SHA256 WAREHOUSE JSON_OUT
        pull (check the file against its sha256) → load → validate (every suite in expectations/) →
        aggregate (read marts.org_register_by_group), each stage timed
    python bench/scale_child.py panel WAREHOUSE JSON_OUT REGISTER=SHA256 [REGISTER=SHA256 ...]
        a panel of annual register snapshots with the bundled data: pull → load → validate →
        validate again (nothing changed: the stored run is reused) → marts (the register's groups per
        snapshot) → a brief (2013, en), each stage timed
    python bench/scale_child.py suite SUITE_FILE WAREHOUSE JSON_OUT
        only Great Expectations on a loaded warehouse with one suite file (GX imported first and
        timed apart), to compare row-level checks with checks on the groups"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

started = time.perf_counter()
from ngobrief import pipeline, pull, validate, warehouse  # noqa: E402

SNAPSHOT_ID = "org_register_synthetic"


def pipeline_run(register: Path, sha256: str, wh: Path, out: Path) -> None:
    stages: dict[str, float] = {}
    t = time.perf_counter()
    manifest = {"snapshots": {SNAPSHOT_ID: {"file": register.name, "sha256": sha256, "parser": "org_register",
                                            "origin": "SYNTHETIC: bench/synthetic_org_register.py"}}}
    snapshots = pull.bundled_snapshots(manifest, register.parent)
    stages["pull"] = time.perf_counter() - t
    t = time.perf_counter()
    loaded = pipeline.load_stage(snapshots, wh)
    stages["load"] = time.perf_counter() - t
    t = time.perf_counter()
    run = pipeline.validate_stage(wh)
    stages["validate"] = time.perf_counter() - t
    t = time.perf_counter()
    con = warehouse.connect(wh, read_only=True)
    try:
        groups = warehouse.query(con, "SELECT * FROM marts.org_register_by_group WHERE snapshot_id = $id",
                                 {"id": SNAPSHOT_ID})
    finally:
        con.close()
    stages["aggregate"] = time.perf_counter() - t
    failed = [f"{f.severity}: {f.description}" for f in run.findings
              if f.suite == "marts_org_register_by_group" and not f.success]
    out.write_text(json.dumps({
        "stages": stages, "in_process_s": time.perf_counter() - started, "rows_loaded": loaded[SNAPSHOT_ID],
        "groups": groups.height, "registered": int(groups["registered"].sum()),
        "engaged_international": int(groups["engaged_international"].sum()), "register_findings": failed,
    }, ensure_ascii=False))


def panel_run(wh: Path, out: Path, registers: list[tuple[Path, str]]) -> None:
    from plain_refresh import stages, timed  # the plain refresh's stage timer (bench/ is on the path)

    def pull_all():
        entries = {f"{SNAPSHOT_ID}_{i + 1:02d}": {"file": path.name, "sha256": sha, "parser": "org_register",
                                                  "origin": "SYNTHETIC: bench/synthetic_org_register.py"}
                   for i, (path, sha) in enumerate(registers)}
        return pipeline.pull_stage() + pull.bundled_snapshots({"snapshots": entries}, registers[0][0].parent)

    snapshots = timed("pull", pull_all)
    loaded = timed("load", pipeline.load_stage, snapshots, wh)
    run = timed("validate", pipeline.validate_stage, wh)
    again = timed("validate again", pipeline.validate_stage, wh)

    def marts():
        con = warehouse.connect(wh, read_only=True)
        try:
            return warehouse.query(con, """SELECT snapshot_id, count(*) AS groups, sum(registered) AS registered,
                                                  sum(engaged_international) AS engaged_international
                                           FROM marts.org_register_by_group GROUP BY ALL ORDER BY ALL""")
        finally:
            con.close()

    panel = timed("marts", marts)
    brief = timed("brief", pipeline.render_stage, 2013, "en", wh)
    out.write_text(json.dumps({
        "stages": stages, "in_process_s": time.perf_counter() - started,
        "register_rows": sum(v for k, v in loaded.items() if k.startswith(SNAPSHOT_ID)),
        "snapshots": panel.height, "registered": int(panel["registered"].sum()),
        "groups": int(panel["groups"].sum()), "reused": again.reused and not run.reused,
        "brief_bytes": brief.path.stat().st_size,
        "register_findings": sorted({f"{f.severity}: {f.description}" for f in run.findings
                                     if f.suite == "marts_org_register_by_group" and not f.success}),
    }, ensure_ascii=False))


def suite_run(suite: Path, wh: Path, out: Path) -> None:
    t = time.perf_counter()
    import great_expectations  # noqa: F401  (the import is the same for both ways; timed apart)

    gx_import = time.perf_counter() - t
    con = warehouse.connect(wh, read_only=True)
    try:
        t = time.perf_counter()
        run = validate.run_suites(con, [suite])
        checks = time.perf_counter() - t
    finally:
        con.close()
    out.write_text(json.dumps({"gx_import_s": gx_import, "checks_s": checks,
                               "failed": [f.description for f in run.findings if not f.success]},
                              ensure_ascii=False))


if __name__ == "__main__":
    if sys.argv[1] == "pipeline":
        pipeline_run(Path(sys.argv[2]), sys.argv[3], Path(sys.argv[4]), Path(sys.argv[5]))
    elif sys.argv[1] == "panel":
        panel_run(Path(sys.argv[2]), Path(sys.argv[3]),
                  [(Path(a.rpartition("=")[0]), a.rpartition("=")[2]) for a in sys.argv[4:]])
    elif sys.argv[1] == "suite":
        suite_run(Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        raise SystemExit(__doc__)
