"""The brief: figures in the PDF text, both languages, fonts embedded, nothing fetched from outside."""

import subprocess

import pytest
from pypdf import PdfReader

from ngobrief import config, render
from ngobrief.errors import NgobriefError


def _text(path):
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


@pytest.fixture(scope="module")
def briefs(built_warehouse, tmp_path_factory):
    from ngobrief import pipeline

    out = tmp_path_factory.mktemp("briefs")
    return {lang: pipeline.render_stage(2012, lang, built_warehouse, out / f"b-{lang}.pdf").path
            for lang in ("en", "zh")}


def test_english_brief_shows_2012_figures(briefs):
    text = _text(briefs["en"])
    for figure in ("556", "499,000", "0.11%", "271,000", "0.18%", "3,029", "0.26%", "225,000"):
        assert figure in text, figure


def test_chinese_brief_is_chinese_with_fonts_embedded(briefs):
    text = _text(briefs["zh"])
    assert "社会团体" in text and "556" in text and "0.11%" in text
    fonts = subprocess.run(["pdffonts", str(briefs["zh"])], capture_output=True, text=True, check=True).stdout
    rows = fonts.splitlines()[2:]
    assert any("CJK" in r for r in rows)
    assert all(r.split()[-5] == "yes" for r in rows), fonts  # the 'emb' column


def test_fetcher_refuses_anything_outside_templates(tmp_path):
    fetcher = render.LocalOnlyFetcher([config.TEMPLATES_DIR])
    from weasyprint.urls import FatalURLFetchingError

    for url in ("http://example.org/x.png", f"file://{tmp_path}/x.css", "file:///etc/passwd"):
        with pytest.raises(FatalURLFetchingError):
            fetcher(url)
    assert fetcher(f"file://{config.TEMPLATES_DIR}/brief.css") is not None


def test_out_may_not_overwrite_bundled_data(built_warehouse):
    from ngobrief import pipeline

    with pytest.raises(NgobriefError, match="data/"):
        pipeline.render_stage(2012, "en", built_warehouse, config.DATA_DIR / "snapshots" / "observations.csv")
