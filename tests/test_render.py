"""The brief's figures and words: what the 2012 and 2013 editions say, in both languages, and how
numbers are formatted. (The PDF as a file — fonts, outline, metadata, bytes — is tests/test_brief_pdf.py.)"""

import pytest
from pypdf import PdfReader

from ngobrief import config, validate, brief as render
from ngobrief.errors import NgobriefError


def _text(path):
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


@pytest.fixture(scope="module")
def briefs(built_warehouse, tmp_path_factory):
    from ngobrief import pipeline

    out = tmp_path_factory.mktemp("briefs")
    return {(year, lang): pipeline.render_stage(year, lang, built_warehouse, out / f"b-{year}-{lang}.pdf").path
            for year in (2012, 2013) for lang in ("en", "zh")}


def test_english_brief_shows_2012_figures(briefs):
    text = _text(briefs[2012, "en"])
    for figure in ("556", "499,000", "0.11%", "271,000", "0.18%", "3,029", "0.26%", "225,000", "0.22%"):
        assert figure in text, figure


def test_english_brief_narrates_change_from_the_numbers(briefs):
    text = " ".join(_text(briefs[2012, "en"]).split())
    assert "rose 8.0%, from 462,000 at the end of 2011 to 499,000 at the end of 2012" in text
    assert "does not follow from the published counts" in text  # the 2012 private non-enterprise ratio


def test_chinese_brief_writes_registered_totals_in_wan(briefs):
    text = _text(briefs[2012, "zh"])
    for figure in ("49.9万", "27.1万", "22.5万", "46.2万", "556", "0.11%", "3,029"):
        assert figure in text, figure
    assert "2012年12月31日" in text


def _without_citations(text, con):
    """The text with every source's publisher and title taken out (they are cited as published, in
    whatever language they were published), whitespace ignored."""
    text = "".join(text.split())
    for publisher, title in con.sql("SELECT publisher, title FROM staging.sources").fetchall():
        text = text.replace("".join(title.split()), "").replace("".join(publisher.split()), "")
    return text


@pytest.mark.parametrize("year", [2012, 2013])
def test_chinese_brief_has_no_english_labels(briefs, con, year):
    """Every label and sentence of the zh edition is Chinese (source titles are cited as published)."""
    en = render.content("en")
    text = _without_citations(_text(briefs[year, "zh"]), con)
    labels = [*en["sections"].values(), *en["org_types"].values(), *en["check"].values(),
              en["title"], en["kicker"], en["trends"]["growth_title"], en["context"]["hurdles_title"],
              *en["register"]["scopes"].values(), *[p for p in en["register"]["provinces"].values()],
              "check not met", "printed precision", "Warning"]
    assert [label for label in labels if "".join(label.split()) in text and len(label) > 2] == []
    assert "社会团体" in text and "参与率" in text and "关键数据" in text


def test_2013_brief_splits_foundations_into_public_and_nonpublic(briefs):
    text = " ".join(_text(briefs[2013, "en"]).split())
    for figure in ("51", "3,399", "1.50%", "34", "1,368", "2.49%", "17", "2,013", "0.84%"):
        assert figure in text, figure
    assert "45 foundations ran 92 projects overseas, in 40 countries" in text


def test_2012_foundations_section_shows_the_nearest_public_nonpublic_split(con):
    ctx = render.brief_context(con, 2012, "en")
    rows = ctx["foundations"]["rows"]
    assert {r["type"] for r in rows} >= {"Public-fundraising foundations", "Non-public foundations"}
    assert "2013" in ctx["foundations"]["sentences"][0]["text"]


def test_context_lists_survey_priorities_from_the_warehouse(con):
    ctx = render.brief_context(con, 2012, "zh")
    groups = ctx["context"]["priorities"]
    assert [p["sector"] for p in groups[0]["sectors"]][:3] == ["生态环境", "教育", "社会服务"]
    assert groups[0]["band"] == "支持率高于60%" and groups[1]["band"] == "支持率低于60%"
    assert "74.19%" in groups[0]["sectors"][2]["support"]


def test_data_quality_reports_the_2012_published_ratio_that_disagrees(con):
    ctx = render.brief_context(con, 2012, "en")
    findings = ctx["quality"]["findings"]
    assert any("Private non-enterprise units" in row["text"] and "0.22%" in row["text"]
               for f in findings for row in f["rows"])
    disputes = ctx["quality"]["disputes"]
    assert any("Non-public foundations" in d["what"] and "2011" in d["what"] for d in disputes)
    assert all(d["chosen"]["value"] and d["others"] for d in disputes)


def test_every_cited_source_is_listed_with_its_url(con):
    ctx = render.brief_context(con, 2012, "en")
    ids = [s["source_id"] for s in ctx["sources"]]
    assert {"mca-2012-bulletin", "huang-cango", "mca-2010-report"} <= set(ids)
    assert [s["n"] for s in ctx["sources"]] == list(range(1, len(ids) + 1))
    bulletin = next(s for s in ctx["sources"] if s["source_id"] == "mca-2012-bulletin")
    assert bulletin["url"].startswith("http")


def test_compare_to_sets_the_key_figures_comparison_year(con):
    ctx = render.brief_context(con, 2013, "en", compare_to=2010)
    change = ctx["key"][-1]
    assert "since 2010" in change["label"] and change["value"] == "+22.6%"


def test_compare_to_names_a_definition_change_instead_of_comparing(con):
    ctx = render.brief_context(con, 2013, "en", compare_to=2012)
    assert any("different definition" in s for s in ctx["narrative"])


def test_compare_to_must_be_earlier_than_the_edition(con):
    with pytest.raises(NgobriefError, match="earlier"):
        render.brief_context(con, 2012, "en", compare_to=2012)


def test_types_limit_the_brief_to_the_chosen_org_types(con):
    ctx = render.brief_context(con, 2012, "en", types=["social_association", "foundation"])
    assert ctx["cover"]["types"] == ["Social associations", "Foundations"]
    html = str(ctx["participation"]["table"])
    assert "Social associations" in html and "Private non-enterprise units" not in html


def test_unknown_org_type_is_a_clear_error(con):
    with pytest.raises(NgobriefError, match="unknown organization type.*charity"):
        render.brief_context(con, 2012, "en", types=["charity"])


def test_year_without_participation_figures_is_a_clear_error(con):
    with pytest.raises(NgobriefError, match="no participation figures for 2019"):
        render.brief_context(con, 2019, "en")


def test_registered_trends_compare_consecutive_observations(con):
    (total,) = render.registered_trends(con, 2012, ["all"])
    # 46.2万 at the end of 2011 (the 2011 report, quoted by a blue-book chapter), 49.9万 a year later
    assert (total["previous_year"], total["previous_registered"], total["registered"]) == (2011, 462_000, 499_000)
    assert total["change_pct"] == pytest.approx(100 * (499 / 462 - 1))
    assert total["cagr_pct"] == pytest.approx(100 * (499 / 462 - 1))


def test_registered_trends_give_shares_of_the_same_year_end_total(con):
    rows = {r["org_type"]: r for r in render.registered_trends(con, 2012, ["social_association", "foundation"])}
    assert rows["social_association"]["share_of_total_pct"] == pytest.approx(100 * 271 / 499)
    assert rows["foundation"]["share_of_total_pct"] == pytest.approx(100 * 3029 / 499_000)


def test_pages_are_autoescaped(con):
    ctx = render.brief_context(con, 2012, "en")
    ctx["sources"][0]["line"] = "<script>alert(1)</script>"
    html = render.render_html({**ctx, "chart_scheme": render.CHART_SCHEME})
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_fetcher_refuses_anything_outside_templates(tmp_path):
    fetcher = render.LocalOnlyFetcher([config.TEMPLATES_DIR])
    from weasyprint.urls import FatalURLFetchingError

    for url in ("http://example.org/x.png", f"file://{tmp_path}/x.css", "file:///etc/passwd",
                "data:image/svg+xml,<svg/>", f"{render.CHART_SCHEME}not-drawn.svg"):
        with pytest.raises(FatalURLFetchingError):
            fetcher(url)
    assert fetcher(f"file://{config.TEMPLATES_DIR}/brief.css") is not None


def test_fetcher_serves_the_renders_own_charts_only():
    fetcher = render.LocalOnlyFetcher([config.TEMPLATES_DIR], {"trend.svg": "<svg/>"})
    response = fetcher(f"{render.CHART_SCHEME}trend.svg")
    assert response.read() == b"<svg/>" and response.content_type == "image/svg+xml"


def test_a_glyph_no_font_has_fails_the_render(tmp_path):
    out = tmp_path / "tofu.pdf"
    with pytest.raises(NgobriefError, match="notdef"):
        render.write_pdf('<html lang="en"><body><p>\U00013000</p></body></html>', out)
    assert not out.exists()


def test_out_may_not_overwrite_bundled_data(built_warehouse):
    from ngobrief import pipeline

    with pytest.raises(NgobriefError, match="data/"):
        pipeline.render_stage(2012, "en", built_warehouse, config.DATA_DIR / "snapshots" / "observations.csv")


class TestFormatter:
    zh = render.Formatter("zh_Hans_CN", "万")
    en = render.Formatter("en")

    def test_wan_unit_keeps_published_precision(self):
        assert self.zh.count(499_000, 500) == "49.9万"       # printed 49.9万
        assert self.zh.count(817_400, 50) == "81.74万"       # printed 81.74万
        assert self.zh.count(892_000, 0.5) == "892,000"      # printed in full: every digit stays
        assert self.zh.count(3_029, 0.5) == "3,029"
        assert self.en.count(499_000, 500) == "499,000"

    def test_chart_ticks_read_in_wan(self):
        assert self.zh.axis(200_000) == "20万" and self.zh.axis(2_000) == "2,000"
        assert self.en.axis(200_000) == "200,000"

    def test_small_ratios_keep_two_significant_digits(self):
        assert self.en.pct(0.11) == "0.11%"
        assert self.en.pct(1.5) == "1.50%"
        assert self.en.pct(0.021777) == "0.022%"
        assert self.en.pct(0.002493) == "0.0025%"
        assert self.zh.pct(0.11) == "0.11%"

    def test_changes_carry_a_sign(self):
        assert self.en.change_pct(11.88) == "+11.9%" and self.en.change_pct(-5) == "-5.0%"
        assert self.en.points(0.15) == "+0.15" and self.en.points(-0.0126) == "-0.013"

    def test_dates_in_the_readers_language(self):
        assert self.en.date("2012-12-31") == "December 31, 2012"
        assert self.zh.date("2012-12-31") == "2012年12月31日"


def test_an_empty_warehouse_is_a_clear_error(tmp_path):
    from ngobrief import warehouse

    con = warehouse.connect(tmp_path / "empty.duckdb")
    try:
        with pytest.raises(NgobriefError, match="run `ngobrief run`"):
            render.brief_context(con, 2012, "en")
    finally:
        con.close()


def test_data_quality_lists_only_findings_about_the_briefs_year_and_types(con):
    ctx = render.brief_context(con, 2012, "en", types=["all"])
    assert ctx["quality"]["findings"] == [] and ctx["quality"]["other_years"] >= 1


def test_the_sources_age_is_not_a_finding_about_the_briefs_figures(con):
    # the freshness suite fails on the bundled data (every publisher's newest document is years old),
    # yet no brief lists it among its data-quality findings: the cover states the vintage instead
    stale = [f for f in validate.latest_findings(con) if f["suite"] == "marts_source_freshness"]
    assert stale and not validate.about_figures("marts_source_freshness") and validate.about_figures("marts_participation")
    for year in (2012, 2021):
        ctx = render.brief_context(con, year, "en")
        assert not any("newest source document" in f["description"] for f in ctx["quality"]["findings"])
        assert "Vintage" in ctx["cover"]["vintage"]



@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_row_of_a_finding_in_the_brief_says_something(con, lang):
    ctx = render.brief_context(con, 2013, lang)
    rows = [r for f in ctx["quality"]["findings"] for r in f["rows"]]
    assert rows and all(r["text"].strip() for r in rows)
