"""The brief shows the marts' numbers: growth rates from marts.registered_trends and
marts.registered_cagr, the foundation register from marts.register_*, disagreements between sources
from marts.source_disagreements, and validation's findings sentence by sentence. Each test holds a
figure of the brief against the mart it comes from, and against the published counts."""

import re
from pathlib import Path

import polars as pl
import pytest

from ngobrief import metrics, brief as render
from ngobrief.ingest.layouts.ricf_tsv import PROVINCES

TYPES = list(metrics.TYPE_ORDER)


# ---- growth of the register: rates come from the marts, ngobrief/brief only picks rows ----

def test_growth_table_shows_the_trends_marts_rates(con):
    shown = render.registered_trends(con, 2013, TYPES)
    assert {r["org_type"] for r in shown} >= {"all", "social_association", "foundation", "foundation_public"}
    for r in shown:
        mart = metrics.registered_trends(con, r["year"], [r["org_type"]], "year_end").row(0, named=True)
        assert (r["registered"], r["previous_year"], r["previous_registered"]) == \
            (mart["registered"], mart["prev_year"], mart["prev_registered"])
        assert (r["change"], r["change_pct"], r["cagr_pct"], r["share_of_total_pct"]) == \
            (mart["change_abs"], mart["change_pct"], mart["cagr_pct"], mart["share_of_total_pct"])


def test_growth_of_the_total_between_2012_and_2013_is_the_published_counts(con):
    (total,) = render.registered_trends(con, 2013, ["all"])  # 49.9万 at end-2012, 54.7万 at end-2013
    assert (total["previous_registered"], total["registered"]) == (499_000, 547_000)
    assert total["change_pct"] == pytest.approx(100 * 48 / 499)
    assert (total["half_unit"], total["previous_half_unit"]) == (500, 500)  # both printed in 万 to one decimal


def test_a_kind_of_foundation_is_a_share_of_all_foundations(con):
    rows = {r["org_type"]: r for r in render.registered_trends(con, 2013, ["foundation_public"])}
    public = rows["foundation_public"]                 # 1,316 of 3,029 foundations at end-2012
    assert public["year"] == 2012 and public["total_org_type"] == "foundation"
    assert public["share_of_total_pct"] == pytest.approx(100 * 1_316 / 3_029)


def test_compare_to_takes_growth_between_two_observed_years_from_registered_cagr(con):
    (total,) = render.registered_trends(con, 2013, ["all"], since=2010)
    growth = metrics.cagr_between(con, 2010, 2013)
    assert (total["previous_year"], total["previous_registered"]) == (2010, growth.start_registered)
    assert (total["change_pct"], total["cagr_pct"], total["years_between"]) == \
        (growth.change_pct, growth.cagr_pct, growth.years_between)
    assert total["cagr_pct"] == pytest.approx(100 * ((547 / 446) ** (1 / 3) - 1))


def test_compare_to_a_year_without_a_figure_leaves_a_gap(con):
    (total,) = render.registered_trends(con, 2013, ["all"], since=2009)
    assert total["previous_year"] is None and total["change_pct"] is None
    ctx = render.brief_context(con, 2013, "en", compare_to=2009)
    assert any("no year-end count was published for 2009" in s for s in ctx["narrative"])


def test_growth_since_the_first_year_observed_is_narrated_from_the_cagr_mart(con):
    ctx = render.brief_context(con, 2013, "en")
    growth = metrics.cagr_between(con, 2006, 2013)
    span = next(s["text"] for s in ctx["trends"]["narrative"] if "354,393" in s["text"])
    assert "to 547,000 at the end of 2013" in span
    assert f"{growth.cagr_pct:.1f}% a year" in span            # 6.4% a year, as the mart has it


def test_render_py_computes_no_growth_rate():
    """Rates are the marts' (SQL macros marts.cagr_pct and marts.elapsed_years); the brief stage
    (every module of ngobrief/brief/) has no exponent and no division of one count by another."""
    source = "".join(p.read_text(encoding="utf-8") for p in Path(render.__file__).parent.glob("*.py"))
    assert re.search(r"\*\*\s*\(?\s*1\s*/", source) is None          # no ** (1 / years)
    assert re.search(r"registered\"\]\s*/", source) is None           # no count / count


# ---- the foundation register (RICF) ----

def test_2013_brief_shows_the_register_as_the_marts_count_it(con):
    ctx = render.brief_context(con, 2013, "en")
    reg = ctx["register"]
    groups = metrics.register_foundations_by_group(con, 2013)
    overall = groups.filter(pl.col("grouped_by") == "all").row(0, named=True)
    assert (overall["foundations"], overall["international_focus"]) == (3_344, 50)
    assert reg["sentences"][0].startswith("Of the 3,344 foundations in the 2013 register, 50 (1.50%)")
    assert "29 of the 186 foundations registered nationally (15.59%)" in reg["sentences"][1]
    assert "21 of the 3,158 registered locally (0.66%)" in reg["sentences"][1]
    cells = {r["type"]: r["cells"] for r in reg["rows"]}
    assert cells["Public-fundraising foundations"] == ["25.00% (22 of 88)", "0.82% (10 of 1,222)",
                                                       "2.44% (32 of 1,310)"]
    assert cells["Foundations"][2] == "1.50% (50 of 3,344)"
    assert reg["provinces"][:3] == ["Beijing 31 of 420 (7.38%)", "Shanghai 4 of 152 (2.63%)",
                                    "Yunnan 3 of 58 (5.17%)"]


def test_register_figures_carry_the_registers_citation(con):
    ctx = render.brief_context(con, 2013, "en")
    citation = metrics.register_foundations_by_group(con, 2013)["citation"][0]
    assert ctx["register"]["citation"] == citation and "Scientific Data" in citation
    (n,) = ctx["register"]["cites"]
    assert ctx["sources"][n - 1]["source_id"] == "ricf"


def test_another_years_brief_labels_the_register_with_its_own_year(con):
    ctx = render.brief_context(con, 2016, "en")
    reg = ctx["register"]
    assert "2013 register" in reg["title"]
    assert reg["sentences"][0].startswith("No foundation register for 2016 is loaded")
    assert "describe foundations in 2013, not in 2016" in reg["sentences"][0]
    same_year = render.brief_context(con, 2013, "en")["register"]
    assert not same_year["sentences"][0].startswith("No foundation register")


def test_chinese_register_names_provinces_in_chinese(con):
    reg = render.brief_context(con, 2013, "zh")["register"]
    assert reg["provinces"][0] == "北京市31家，占420家的7.38%"
    assert reg["rows"][0]["type"] == "公募基金会" and reg["rows"][0]["cells"][0] == "25.00%（22 / 88）"


def test_without_foundation_types_the_brief_has_no_register(con):
    ctx = render.brief_context(con, 2012, "en", types=["all", "social_association"])
    assert ctx["register"] is None and ctx["foundations"] is None


def test_only_the_chosen_kind_of_foundation_gets_a_register_row(con):
    reg = render.brief_context(con, 2013, "en", types=["foundation_public"])["register"]
    assert [r["type"] for r in reg["rows"]] == ["Public-fundraising foundations"]
    assert reg["provinces"] == []   # provinces are counted over all foundations only


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_register_province_has_a_label(con, lang):
    provinces = set(metrics.register_foundations_by_group(con, 2013, "province")["province"])
    assert len(provinces) == 31
    assert provinces - set(render.content(lang)["register"]["provinces"]) == set()


def test_chinese_province_labels_match_the_register_parsers_table():
    zh = render.content("zh")["register"]["provinces"]
    assert zh == {pinyin: chinese for chinese, pinyin in PROVINCES.items()}


# ---- where sources disagree ----

def test_disagreements_are_the_marts_pairs_beyond_printed_precision(con):
    (d,) = render.source_disagreements(con, 2013, ["registered"], TYPES)
    mart = metrics.source_disagreements(con, 2013).row(0, named=True)
    assert (d["year"], d["org_type"]) == (2011, "foundation_nonpublic")
    assert d["chosen"] == {"source_id": mart["chosen_source_id"], "value": 1_296, "as_published": "1296",
                           "half_unit": 0.5}
    (other,) = d["others"]
    assert (other["source_id"], other["as_published"], other["difference"], other["tolerance"]) == \
        ("cfc-via-narada", "1373", 77, 1)


def test_printings_that_agree_within_precision_are_not_disagreements(con):
    shown = render.source_disagreements(con, 2016, ["registered"], TYPES)
    # the 2016 pairs shown are the charity blue book's counts against the August 2017 MCA release
    assert sorted((d["year"], d["org_type"]) for d in shown) == [
        (2011, "foundation_nonpublic"), (2016, "all"), (2016, "foundation"),
        (2016, "private_non_enterprise"), (2016, "social_association")]
    assert {o["source_id"] for d in shown[1:] for o in d["others"]} == {"charity-bluebook-2017"}
    agreeing = metrics.source_disagreements(con, 2016, agreeing=True)
    assert agreeing.filter(pl.col("agree_within_precision")).height >= 2   # 2012 and 2016 totals


def test_disagreement_names_the_difference_and_what_precision_allows(con):
    (d,) = render.brief_context(con, 2013, "en")["quality"]["disputes"]
    assert d["what"] == "Non-public foundations, registered organizations, year end 2011"
    assert (d["chosen"]["value"], d["others"][0]["value"]) == ("1,296", "1,373")
    assert d["others"][0]["gap"] == "a difference of 77, where their printed precision allows less than 1"


def test_a_figure_printed_in_wan_is_shown_as_printed_beside_its_value(con):
    d = next(d for d in render.source_disagreements(con, 2022, ["registered"], ["all"]) if d["year"] == 2022)
    assert (d["chosen"]["as_published"], d["others"][0]["as_published"]) == ("89.13万", "892,000")
    assert d["others"][0]["tolerance"] == 50.5
    fmt = render.Formatter("en")
    assert fmt.count(d["chosen"]["value"], d["chosen"]["half_unit"]) == "891,300"
    assert fmt.number(d["others"][0]["tolerance"]) == "50.5"


# ---- what validation found, one sentence per failing row ----

def test_english_findings_use_validations_own_sentences(con):
    ctx = render.brief_context(con, 2013, "en")
    register, f = ctx["quality"]["findings"]      # the register's count against the published total; subtotals
    assert register["rows"][0]["text"] == ("2013: it lists 3344 foundations; the published total is 3549 "
                                           "(a difference of -205)")
    (row,) = f["rows"]
    assert row["text"].startswith("2013 · Foundations · registered organizations · dated count, Oct 7, 2013: ")
    assert "the total exceeds its parts by 18 (printed precision allows 0)" in row["text"]
    assert "{" not in row["text"] and "basis" not in row["text"] and "source_ids" not in row["text"]
    assert [ctx["sources"][n - 1]["source_id"] for n in row["cites"]] == ["huang-cango"]


def test_chinese_findings_are_written_in_chinese(con):
    for year in (2012, 2013, 2016):
        findings = render.brief_context(con, year, "zh")["quality"]["findings"]
        assert findings, year
        for f in findings:
            assert re.search(r"[A-Za-z]", f["description"]) is None, f["description"]
            for row in f["rows"]:
                assert re.search(r"[A-Za-z]", row["text"]) is None, row["text"]


def test_chinese_findings_give_the_figures_of_each_failing_row(con):
    quality = render.brief_context(con, 2016, "zh")["quality"]
    texts = [r["text"] for f in quality["findings"] for r in f["rows"]]
    assert any("分项之和比总数多559（所印精度容许500）（采用的数据取自多个来源）" in t for t in texts)
    assert any("由2012年的49变为9，累计变化-81.6%，年均-34.5%" in t for t in texts)
    y2012 = render.brief_context(con, 2012, "zh")["quality"]["findings"]
    assert any("公布值为0.22%，按公布数量计算为0.022%" in r["text"] for f in y2012 for r in f["rows"])


def test_a_findings_sources_are_footnoted(con):
    ctx = render.brief_context(con, 2016, "en")
    by_n = {s["n"]: s["source_id"] for s in ctx["sources"]}
    rows = [r for f in ctx["quality"]["findings"] for r in f["rows"]]
    year_on_year = next(r for r in rows if "-34.5% a year" in r["text"])
    assert {by_n[n] for n in year_on_year["cites"]} == {"mca-2012-bulletin", "mca-2016-bulletin"}
