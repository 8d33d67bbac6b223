"""The benchmark's own measuring tools: what they report must be true, whatever the timings are."""

import sys

import pytest
from pypdf import PdfReader

from ngobrief import config

sys.path.insert(0, str(config.ROOT / "bench"))
import bare_render  # noqa: E402
import harness  # noqa: E402


def _text(path):
    """The PDF's text without whitespace, page by page."""
    return ["".join(p.extract_text().split()) for p in PdfReader(path).pages]


def test_bare_weasyprint_baseline_renders_the_same_brief(built_warehouse, tmp_path):
    capture = bare_render.Capture().install()
    try:
        from ngobrief import pipeline

        capture.active = True
        brief = pipeline.render_stage(2012, "zh", built_warehouse, tmp_path / "brief.pdf")
        capture.active = False
    finally:
        capture.uninstall()
    assert capture.last["html"] and any(u.endswith(".css") for u in capture.last["resources"])
    bare_render.render(capture.last, tmp_path / "bare.pdf")
    assert _text(tmp_path / "bare.pdf") == _text(brief.path)


def test_timed_child_reports_its_peak_memory_and_output(tmp_path):
    res = harness.run_timed([sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096]); "
                             "print('touched', len(b[::4096]))"], harness.clean_env(tmp_path))
    assert res.returncode == 0 and res.stdout.split() == ["touched", str(300 * 2**20 // 4096)]
    # 300 MB touched, plus the interpreter's own few tens of MB (machine- and Python-dependent, hence
    # the wide upper bound)
    assert 300 <= res.peak_rss_mb < 1000


def test_timed_child_that_fails_is_reported_with_its_exit_code_and_stderr(tmp_path):
    cmd = [sys.executable, "-c", "import sys; sys.stderr.write('broken on purpose'); sys.exit(7)"]
    res = harness.run_timed(cmd, harness.clean_env(tmp_path), check=False)
    assert res.returncode == 7 and res.stderr == "broken on purpose"
    with pytest.raises(RuntimeError, match="exited 7:\\nbroken on purpose"):
        harness.run_timed(cmd, harness.clean_env(tmp_path))
