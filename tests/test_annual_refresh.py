"""End to end: `ngobrief run` (the Prefect flow) on a new warehouse writes briefs that carry the
published figures; `ngobrief brief` works without Prefect."""

import os
import subprocess
import sys

from pypdf import PdfReader


def _cli(*args, **env):
    return subprocess.run([sys.executable, "-m", "ngobrief.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=300)


def test_annual_refresh_flow_writes_briefs(tmp_path):
    res = _cli("run", "--lang", "en", "--warehouse", str(tmp_path / "w.duckdb"), NGOBRIEF_OUTPUTS=str(tmp_path))
    assert res.returncode == 0, res.stderr[-3000:]
    briefs = [line.split(": ", 1)[1] for line in res.stdout.splitlines() if line.startswith("brief: ")]
    assert sorted(os.path.basename(p) for p in briefs) == [
        "ngobrief-2012-en.pdf", "ngobrief-2013-en.pdf", "ngobrief-2016-en.pdf", "ngobrief-2021-en.pdf"]
    assert "validation: 0 error(s)," in res.stdout  # warnings are real findings: see tests/test_validate.py
    report = next(line.split(": ", 1)[1] for line in res.stdout.splitlines() if line.startswith("validation report: "))
    assert os.path.dirname(report) == str(tmp_path / "validation") and os.path.getsize(report) > 0
    text = "".join(p.extract_text() for p in PdfReader(next(p for p in briefs if "2012" in p)).pages)
    assert "556" in text and "499,000" in text and "0.11%" in text
    assert "annual-refresh-all-years" in res.stderr + res.stdout


def test_cli_brief_needs_no_prefect(built_warehouse, tmp_path):
    out = tmp_path / "b.pdf"
    code = ("import sys; from ngobrief.cli import main; sys.argv=['ngobrief','brief','--year','2013','--lang','en',"
            f"'--warehouse',{str(built_warehouse)!r},'--out',{str(out)!r}]\n"
            "try:\n main()\nexcept SystemExit as e:\n assert not e.code, e.code\n"
            "print('prefect' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip().endswith("False") and out.exists()


def test_cli_bad_year_exits_2(built_warehouse, tmp_path):
    res = _cli("brief", "--year", "1999", "--warehouse", str(built_warehouse), "--out", str(tmp_path / "x.pdf"))
    assert res.returncode == 2 and "1999" in res.stderr
