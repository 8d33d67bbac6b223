"""Profile the paths the benchmarks time, with pyinstrument (the `bench` extra), one process each.

    python bench/profile.py [--rows 1000000] [--out outputs/bench/profiles]

Writes a text profile per path: `ngobrief run` (ephemeral Prefect, new warehouse), `ngobrief brief`
in en and zh on a built warehouse, and the SYNTHETIC register at --rows through pull → load →
validate → aggregate. Read them top-down: the widest frames are what to fix first."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
import synthetic_org_register  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=harness.ROOT / "outputs" / "bench" / "profiles")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    prof = [harness.PY, "-m", "pyinstrument", "-o"]
    with tempfile.TemporaryDirectory(prefix="ngobrief-profile-") as t:
        tmp = Path(t)
        env = harness.clean_env(tmp)
        wh = tmp / "warehouse.duckdb"
        jobs = [("run", ["-m", "ngobrief.cli", "run", "--warehouse", str(wh)])]
        jobs += [(f"brief-{lang}", ["-m", "ngobrief.cli", "brief", "--year", "2012", "--lang", lang,
                                    "--warehouse", str(wh), "--out", str(tmp / f"{lang}.pdf")]) for lang in ("en", "zh")]
        reg = synthetic_org_register.generate(a.rows, 2024, tmp)
        jobs.append((f"register-{a.rows}", [str(harness.BENCH / "scale_child.py"), "pipeline", str(reg.path),
                                            reg.sha256, str(tmp / "register.duckdb"), str(tmp / "r.json")]))
        for name, args in jobs:
            target = a.out / f"{name}.txt"
            res = harness.run_timed([*prof, str(target), *args], env, check=False)
            print(f"{name}: {res.wall_s:.1f} s (exit {res.returncode}) → {target}")


if __name__ == "__main__":
    main()
