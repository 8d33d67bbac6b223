"""The brief as a PDF file: metadata, outline, tagging, page footer, vector charts, embedded fonts,
byte-for-byte reproducibility and its record in audit.briefs."""

import hashlib
import subprocess

import pytest
from pypdf import PdfReader

from ngobrief import editions, pipeline, brief as render, warehouse


@pytest.fixture(scope="module")
def pdfs(built_warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("pdf")
    return {lang: pipeline.render_stage(2012, lang, built_warehouse, out / f"brief-{lang}.pdf")
            for lang in ("en", "zh")}


def test_metadata_names_title_author_subject_and_language(pdfs):
    en, zh = PdfReader(pdfs["en"].path), PdfReader(pdfs["zh"].path)
    assert en.metadata.title == "Chinese social organizations in international affairs — 2012 edition"
    assert zh.metadata.title == "中国社会组织参与国际事务（2012年版）"
    assert en.metadata.author == "ngobrief" and en.metadata.subject
    assert zh.metadata.subject.startswith("基于公开统计数据")
    assert en.trailer["/Root"]["/Lang"] == "en" and zh.trailer["/Root"]["/Lang"] == "zh-Hans"


def test_creation_date_is_the_data_load_not_the_clock(pdfs, con):
    loaded = render.data_loaded_at(con)
    assert PdfReader(pdfs["en"].path).metadata["/CreationDate"].startswith(loaded.strftime("D:%Y%m%d%H%M%S"))


def test_outline_has_a_bookmark_per_section(pdfs):
    def titles(reader):
        return [o.title for o in reader.outline if not isinstance(o, list)]

    assert titles(PdfReader(pdfs["en"].path)) == [
        "Key figures", "Participation by type", "Registered organizations over time", "Foundations",
        "Context", "Data quality", "Sources and method"]
    assert titles(PdfReader(pdfs["zh"].path)) == ["关键数据", "分类型参与情况", "登记组织数量变化", "基金会", "背景",
                                                  "数据质量", "来源与方法"]


def test_pdf_is_tagged_as_pdf_ua(pdfs):
    for brief in pdfs.values():
        reader = PdfReader(brief.path)
        root = reader.trailer["/Root"]
        assert bool(root["/MarkInfo"]["/Marked"])
        assert "/StructTreeRoot" in root
        assert b"pdfuaid:part" in root["/Metadata"].get_object().get_data()


def test_two_to_six_pages_each_with_page_number_and_running_title(pdfs):
    for lang, brief in pdfs.items():
        pages = PdfReader(brief.path).pages
        assert 2 <= len(pages) <= 6 and brief.pages == len(pages)
        title = render.content(lang)["title"]
        for i, page in enumerate(pages, start=1):
            text = page.extract_text()
            assert f"{i} / {len(pages)}" in text and title in text


def test_charts_are_vector_graphics(pdfs):
    """SVG charts become PDF drawing operations: no raster image anywhere in the brief."""
    reader = PdfReader(pdfs["en"].path)
    images = [name for page in reader.pages for name, x in (page["/Resources"].get("/XObject") or {}).items()
              if x.get_object().get("/Subtype") == "/Image"]
    assert images == []
    assert "Registered social organizations by type (year end)" in reader.pages[1].extract_text() + \
        reader.pages[0].extract_text()


def test_every_font_is_embedded_and_chinese_has_a_cjk_font(pdfs):
    for lang, brief in pdfs.items():
        out = subprocess.run(["pdffonts", str(brief.path)], capture_output=True, text=True, check=True).stdout
        rows = out.splitlines()[2:]
        assert rows, out
        assert all(r.split()[-5] == "yes" for r in rows), out   # the 'emb' column
        if lang == "zh":
            assert any("CJK" in r for r in rows), out


def test_same_warehouse_and_templates_give_the_same_bytes(pdfs, built_warehouse, tmp_path):
    again = pipeline.render_stage(2012, "zh", built_warehouse, tmp_path / "again.pdf")
    assert again.path.read_bytes() == pdfs["zh"].path.read_bytes()
    assert again.inputs_sha256 == pdfs["zh"].inputs_sha256


def test_each_brief_is_logged_beside_the_editions_with_its_input_and_pdf_hashes(pdfs, built_warehouse):
    # a brief only reads the warehouse: its record is a line of editions/briefs.jsonl
    logged = [(b["inputs_sha256"], b["pdf_sha256"]) for b in editions.briefs_written(built_warehouse)
              if b["path"] == str(pdfs["en"].path)]
    assert logged and logged[-1] == (pdfs["en"].inputs_sha256,
                                     hashlib.sha256(pdfs["en"].path.read_bytes()).hexdigest())
