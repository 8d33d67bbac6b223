"""The benchmark's own measuring tools: what they report must be true, whatever the timings are."""

import sys

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


def test_timed_child_reports_its_peak_memory(tmp_path):
    res = harness.run_timed([sys.executable, "-c", "b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"],
                            harness.clean_env(tmp_path))
    assert res.returncode == 0 and res.wall_s > 0
    assert 300 <= res.peak_rss_mb < 1000
