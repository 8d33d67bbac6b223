"""`ngobrief brief`: the options a user passes reach the PDF, and mistakes are clear messages."""

import subprocess
import sys

from pypdf import PdfReader


def _brief(*args):
    return subprocess.run([sys.executable, "-m", "ngobrief.cli", "brief", *args],
                          capture_output=True, text=True, timeout=300)


def test_brief_command_writes_the_chosen_edition(built_warehouse, tmp_path):
    out = tmp_path / "foundations-zh.pdf"
    run = _brief("--year", "2013", "--lang", "zh", "--types", "foundation,foundation_public,foundation_nonpublic",
                 "--compare-to", "2011", "--out", str(out), "--warehouse", str(built_warehouse))
    assert run.returncode == 0, run.stderr
    assert str(out) in run.stdout and "pages" in run.stdout
    text = "".join("".join(p.extract_text() for p in PdfReader(out).pages).split())
    assert "涵盖的组织类型：基金会、公募基金会、非公募基金会" in text
    assert "基金会登记数较2011年的变化" in text and "社会组织合计" not in text


def test_brief_command_rejects_an_unknown_language(built_warehouse, tmp_path):
    run = _brief("--year", "2012", "--lang", "fr", "--out", str(tmp_path / "x.pdf"),
                 "--warehouse", str(built_warehouse))
    assert run.returncode == 2 and "choose one of en, zh" in run.stderr
