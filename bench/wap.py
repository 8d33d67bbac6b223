"""Scenario d — write-audit-publish: what publishing a whole edition costs, against a plain in-place
write of the same stages, measured in the same run (ratios, not seconds, are what to compare).

    python bench/wap.py [--runs 3] [--register-runs N] [--register-rows 1000000] [--json PATH]

Without Prefect, so that the difference is not lost in the flow's overhead (with Prefect, `ngobrief
run` takes longer and the same added seconds weigh less):
1. bundled data, end to end: refresh (load, validate; WAP: plus build copy, stamp, table checksums,
   keep, rename) and every brief `ngobrief run` writes (each year, English and Chinese, across the cores); cold (no warehouse yet) and warm (a
   published warehouse exists and one snapshot changed, so WAP copies the published file first).
2. the SYNTHETIC 1M-row register (bench/synthetic_org_register.py) beside the bundled data, its
   seeded defects at warning level so that the edition publishes: refresh cold and warm (another
   register replaces it), no briefs."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import synthetic_org_register  # noqa: E402

CHILD = harness.BENCH / "wap_child.py"
BRIEFS = ["run"]   # every brief `ngobrief run` writes on the bundled data
REGISTER_ID = "org_register_synthetic"


def warning_suites(folder: Path) -> Path:
    """expectations/ with the register's error-level checks on its seeded defects made warnings."""
    shutil.copytree(harness.ROOT / "expectations", folder)
    path = folder / "marts_org_register_by_group.json"
    suite = json.loads(path.read_text(encoding="utf-8"))
    for e in suite["expectations"]:
        if e["kwargs"].get("column") == "credit_code_repeated":
            e["severity"] = "warning"
    path.write_text(json.dumps(suite, ensure_ascii=False, indent=1), encoding="utf-8")
    return folder


def data_with(folder: Path, extra: dict | None = None, files: dict[str, Path] | None = None) -> Path:
    """A copy of data/, plus `extra` manifest entries and their `files`."""
    import tomlkit

    shutil.copytree(harness.ROOT / "data", folder)
    doc = tomlkit.parse((folder / "sources.toml").read_text(encoding="utf-8"))
    for sid, entry in (extra or {}).items():
        t = tomlkit.table()
        t.update(entry)
        doc["snapshots"][sid] = t
    for name, src in (files or {}).items():
        shutil.copyfile(src, folder / name)
    (folder / "sources.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")
    return folder


def one(mode: str, run_dir: Path, data: Path, suites: Path | None, briefs: list[str], base: Path | None) -> dict:
    """One measured child: `base` is an outputs folder to start from (warm), else none (cold)."""
    out = run_dir / "outputs"
    if base is not None:
        shutil.copytree(base, out)
    env = harness.clean_env(run_dir, NGOBRIEF_DATA=str(data), **({"BENCH_WARNING_SUITES": str(suites)} if suites else {}))
    env["NGOBRIEF_OUTPUTS"] = str(out)
    res = harness.run_timed([harness.PY, str(CHILD), mode, str(out / "warehouse.duckdb"), str(run_dir / "r.json"),
                             *briefs], env, timeout=3600)
    r = json.loads((run_dir / "r.json").read_text(encoding="utf-8"))
    assert r["published"], f"{mode} run in {run_dir} did not publish"
    return {"wall_s": res.wall_s, "refresh_s": r["refresh_s"], "render_s": r["render_s"], "rss_mb": res.peak_rss_mb,
            "publishing_s": r["publishing_s"]}


def prepare_base(mode: str, folder: Path, data: Path, suites: Path | None) -> Path:
    """An outputs folder with the data already loaded (WAP: published as edition 1)."""
    one(mode, folder, data, suites, [], None)
    return folder / "outputs"


def case(name: str, runs: int, tmp: Path, cold_data: Path, warm_data: Path, suites: Path | None,
         briefs: list[str]) -> dict:
    samples = {m: {"cold": [], "warm": []} for m in ("inplace", "wap")}
    bases = {m: prepare_base(m, tmp / f"{name}-base-{m}", cold_data, suites) for m in samples}
    for i in range(runs):
        for m in ("inplace", "wap"):      # alternated, so that a busy moment weighs on both
            samples[m]["cold"].append(one(m, tmp / f"{name}-{m}-cold-{i}", cold_data, suites, briefs, None))
            samples[m]["warm"].append(one(m, tmp / f"{name}-{m}-warm-{i}", warm_data, suites, briefs, bases[m]))
    out = {"samples": samples}
    for temp in ("cold", "warm"):
        med = {m: {k: harness.median([s[k] for s in samples[m][temp]]) for k in ("wall_s", "refresh_s", "rss_mb", "publishing_s")}
               for m in samples}
        out[temp] = {**med, "ratio_wall": med["wap"]["wall_s"] / med["inplace"]["wall_s"],
                     "added_wall_s": med["wap"]["wall_s"] - med["inplace"]["wall_s"],
                     "added_refresh_s": med["wap"]["refresh_s"] - med["inplace"]["refresh_s"],
                     # timed inside the run: steady where the difference of two noisy medians is not
                     "publishing_s": med["wap"]["publishing_s"],
                     "publishing_share": med["wap"]["publishing_s"] / med["inplace"]["wall_s"]}
    return out


def main() -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--register-runs", type=int, default=None, help="runs for the register (default --runs)")
    ap.add_argument("--register-rows", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    result = {"scenario": "d", "runs": a.runs, "register_runs": a.register_runs or a.runs,
              "register_rows": a.register_rows}
    with tempfile.TemporaryDirectory(prefix="ngobrief-bench-d-") as t:
        tmp = Path(t)
        # 1. bundled data; warm: the survey snapshot's bytes changed (a trailing newline), one snapshot to load
        bundled = data_with(tmp / "data-bundled")
        changed = data_with(tmp / "data-bundled-changed")
        survey = changed / "snapshots" / "survey_priorities.csv"
        survey.write_bytes(survey.read_bytes() + b"\n")
        _rehash(changed, "survey_priorities", survey)
        result["bundled"] = case("bundled", a.runs, tmp, bundled, changed, None, BRIEFS)
        print(report(result), flush=True)
        if a.json:
            harness.write_json(a.json, result)
        # 2. the SYNTHETIC register beside the bundled data; warm: a second register (another seed) replaces it
        reg = synthetic_org_register.generate(a.register_rows, a.seed, tmp / "reg1")
        reg2 = synthetic_org_register.generate(a.register_rows, a.seed + 1, tmp / "reg2")
        suites = warning_suites(tmp / "suites")
        entry = {"parser": "org_register", "origin": "SYNTHETIC: bench/synthetic_org_register.py"}
        cold = data_with(tmp / "data-reg", {REGISTER_ID: {**entry, "file": "snapshots/register.csv", "sha256": reg.sha256}},
                         {"snapshots/register.csv": reg.path})
        warm = data_with(tmp / "data-reg2", {REGISTER_ID: {**entry, "file": "snapshots/register.csv", "sha256": reg2.sha256}},
                         {"snapshots/register.csv": reg2.path})
        result["register"] = case("register", a.register_runs or a.runs, tmp, cold, warm, suites, [])
    print(report(result))
    if a.json:
        harness.write_json(a.json, result)
    return result


def _rehash(data: Path, sid: str, path: Path) -> None:
    import hashlib

    import tomlkit

    doc = tomlkit.parse((data / "sources.toml").read_text(encoding="utf-8"))
    doc["snapshots"][sid]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    doc["snapshots"][sid]["bytes"] = path.stat().st_size
    (data / "sources.toml").write_text(tomlkit.dumps(doc), encoding="utf-8")


def report(r: dict) -> str:
    rows = []
    for name, label in (("bundled", "bundled data, refresh + the run's briefs"),
                        ("register", f"bundled data + {r['register_rows']:,}-row register, refresh")):
        for temp in ("cold", "warm") if name in r else ():
            c = r[name][temp]
            rows.append([f"{label}, {temp}", f"{c['inplace']['wall_s']:.2f}", f"{c['wap']['wall_s']:.2f}",
                         f"{c['ratio_wall']:.3f}", f"{c['added_wall_s']:+.2f}", f"{c['added_refresh_s']:+.2f}",
                         f"{c['publishing_s']:.2f}", f"{100 * c['publishing_share']:.1f} %"])
    return ("Scenario d — write-audit-publish against an in-place write (medians of "
            f"{r['runs']} runs, register {r['register_runs']}; wall seconds per process)\n\n"
            + harness.table(["case", "in place s", "WAP s", "WAP / in place", "added s (wall)", "added s (refresh)",
                                 "publishing steps s", "publishing ÷ in place"], rows)
            + "\nTargets: bundled ≤ 1.05× in place; 1M-row register ≤ +1 s.")


if __name__ == "__main__":
    main()
