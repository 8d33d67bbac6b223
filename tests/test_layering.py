"""The library never imports Prefect, and GX only where validation runs."""

import subprocess
import sys

MODULES = ["ngobrief.cli", "ngobrief.pull", "ngobrief.ingest", "ngobrief.ingest.load", "ngobrief.warehouse", "ngobrief.validate",
           "ngobrief.metrics", "ngobrief.render", "ngobrief.pipeline", "ngobrief.inspect"]


def test_library_imports_neither_prefect_nor_gx():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in MODULES)
            + "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'great_expectations'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
