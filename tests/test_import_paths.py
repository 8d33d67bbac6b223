"""Commands that do not validate or orchestrate never pay for importing Great Expectations (seconds)
or Prefect: checked by running them and looking at what they loaded."""

import os
import subprocess
import sys

PROBE = """
import sys, runpy
sys.argv = ['ngobrief', *sys.argv[1:]]
try:
    runpy.run_module('ngobrief.cli', run_name='__main__')
except SystemExit as e:
    assert not e.code, e.code
print(sorted({m.split('.')[0] for m in sys.modules} & WATCH))
"""


def _loaded(*args, tmp_path, watch=("great_expectations", "prefect")):
    probe = PROBE.replace("WATCH", repr(set(watch)))
    res = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                         env={**os.environ, "NGOBRIEF_OUTPUTS": str(tmp_path)})
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout.strip().splitlines()[-1]


def test_pull_and_brief_load_neither_gx_nor_prefect(built_warehouse, tmp_path):
    wh = str(tmp_path / "w.duckdb")
    assert _loaded("pull", "--warehouse", wh, tmp_path=tmp_path) == "[]"
    assert _loaded("brief", "--year", "2012", "--lang", "zh", "--warehouse", str(built_warehouse),
                   "--out", str(tmp_path / "b.pdf"), tmp_path=tmp_path) == "[]"
    assert _loaded("metrics", "--warehouse", str(built_warehouse), tmp_path=tmp_path) == "[]"


def test_brief_loads_neither_pyarrow_nor_numpy(built_warehouse, tmp_path):
    # DuckDB's results reach Polars through the Arrow C stream interface, not pyarrow (~0.3 s)
    assert _loaded("brief", "--year", "2013", "--lang", "en", "--warehouse", str(built_warehouse),
                   "--out", str(tmp_path / "b.pdf"), tmp_path=tmp_path, watch=("pyarrow", "numpy")) == "[]"
