"""What a reader of every brief the run writes sees, read back from the PDFs with pdfplumber: the
participation table cell by cell against the bundled snapshot's own counts (not the marts), ratios
with their significant figures, gaps labelled, flags beside the figures they concern, no internal
identifiers, 万 used consistently, note markers large enough to read and pages that are not empty."""

from __future__ import annotations

import csv
import math
import re
import tomllib

import pdfplumber
import pytest

from ngobrief import config, metrics, pipeline, warehouse
from ngobrief.brief import content, say

LANGS = ("en", "zh")


@pytest.fixture(scope="module")
def written(built_warehouse, tmp_path_factory) -> dict[tuple[int, str], str]:
    """Every brief the run writes (each year with a participation ratio, in both languages)."""
    out = tmp_path_factory.mktemp("reader")
    con = warehouse.connect(built_warehouse, read_only=True)
    years = metrics.brief_years(con)
    con.close()
    return {(y, lang): str(pipeline.render_stage(y, lang, built_warehouse, out / f"b-{y}-{lang}.pdf").path)
            for y in years for lang in LANGS}


def _text(path: str) -> str:
    with pdfplumber.open(path) as pdf:
        return "\n".join(page.extract_text() or "" for page in pdf.pages)


@pytest.fixture(scope="module")
def texts(written) -> dict[tuple[int, str], str]:
    return {k: _text(p) for k, p in written.items()}


def _snapshot_rows() -> list[dict]:
    """Every published figure in the bundled long-layout snapshot files, straight from the CSV text."""
    manifest = tomllib.loads(config.MANIFEST.read_text(encoding="utf-8"))["snapshots"]
    rows = []
    for snap in manifest.values():
        if snap.get("parser") == "long_csv":
            with open(config.DATA_DIR / snap["file"], encoding="utf-8") as f:
                rows += list(csv.DictReader(f))
    return rows


def _independent_counts(year: int, as_of: str, org_type: str, measure: str) -> set[float]:
    """Every value the snapshot file itself holds for one count (straight from the CSV)."""
    return {_value(r) for r in _snapshot_rows() if r["year"] == str(year) and r["as_of"] == as_of
            and r["org_type"] == org_type and r["measure"] == measure}


def _value(row: dict) -> float:
    """A CSV row's figure: its value column, or (where the file leaves it empty) the printing itself
    (35.4万 -> 354,000; 3,029 -> 3,029)."""
    if row["value"]:
        return float(row["value"])
    printed = row["as_published"].replace(",", "").strip().rstrip("个家")
    return round(float(printed[:-1]) * 10_000) if printed.endswith("万") else float(printed)


def _sig_pct(ratio_pct: float) -> str:
    """A ratio in percent with two decimals, more for small ones so two significant digits show."""
    digits = max(2, 1 - math.floor(math.log10(ratio_pct)))
    return f"{ratio_pct:.{digits}f}%"


def _whole(figure: str, text: str) -> bool:
    """Whether `figure` appears in `text` as a whole figure: "17" is not found in "17.6%" or "3,344"."""
    return re.search(r"(?<![\d.,])" + re.escape(figure) + r"(?![\d]|[.,]\d|%)", text) is not None


def test_whole_figure_matching_does_not_accept_part_of_another_figure():
    assert _whole("17", "17 foundations") and _whole("17", "（17家）")
    assert not _whole("17", "17.6%") and not _whole("17", "3,344 and 117") and not _whole("3,344", "13,344")


HEADER = {"en": ("Computed", "Published"), "zh": ("计算值", "公布值")}
NOTE_START = {"en": "Computed ratio", "zh": "计算值 ="}


def participation_table(path: str, lang: str, gap: float = 4.0) -> list[list[str]]:
    """The participation table's body rows, cell by cell: rows between the table's rules, cells
    where the words are more than `gap` points apart (a cell's own words are closer), across pages."""
    rows, inside = [], False
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            words = page.extract_words()
            # the header row: its "Computed" and "Published" side by side (a footnote may say "Computed")
            head = [w for w in words if w["text"] == HEADER[lang][0] and any(
                x["text"] == HEADER[lang][1] and abs(x["top"] - w["top"]) < 2 for x in words)]
            if head and not inside:
                top, inside = head[0]["bottom"] + 2, True
            elif inside:
                top = 18 / 25.4 * 72       # the table goes on at the top of the next page's text
            else:
                continue
            ends = [w["top"] for w in words if w["top"] > top and " ".join(
                x["text"] for x in words if abs(x["top"] - w["top"]) < 1 and x["x0"] >= w["x0"]
            ).startswith(NOTE_START[lang])]
            bottom = min(ends) if ends else page.bbox[3] - 50
            rules = sorted({round(e["top"], 1) for e in page.edges
                            if e["orientation"] == "h" and top - 4 < e["top"] < bottom + 1}
                           | ({round(top, 1)} if not head else set()))
            for a, b in zip(rules, rules[1:]):
                in_row = sorted((w for w in words if a <= (w["top"] + w["bottom"]) / 2 <= b), key=lambda w: w["x0"])
                cells: list[dict] = []
                for w in in_row:
                    if cells and w["x0"] <= cells[-1]["x1"] + gap:
                        cells[-1]["words"].append(w)
                        cells[-1]["x1"] = max(cells[-1]["x1"], w["x1"])
                    else:
                        cells.append({"x1": w["x1"], "words": [w]})
                if cells:
                    rows.append([("" if lang == "zh" else " ").join(
                        x["text"] for x in sorted(c["words"], key=lambda x: (round(x["top"]), x["x0"])))
                        for c in cells])
            if ends:
                break
    return rows


def test_participation_table_cells_match_a_computation_from_the_snapshot_counts(written, con):
    """Each computed ratio is the snapshot's engaged count over its registered count (read from the
    CSV, not the marts), printed with its significant figures; the published column shows what the
    source printed, never the computed ratio in its place."""
    for (year, lang), path in written.items():
        text = content(lang)
        label_to_type = {v: k for k, v in text["org_types"].items()}
        expected = metrics.participation(con, year).filter(metrics.pl.col("participation_pct").is_not_null())
        rows = participation_table(path, lang)
        assert len(rows) == expected.height, (year, lang, rows)
        for cells, want in zip(rows, expected.iter_rows(named=True)):
            assert len(cells) == 8, (year, lang, cells)
            org_type = label_to_type[cells[0].replace("- ", "-")]
            assert org_type == want["org_type"]
            as_of = want["as_of"].isoformat()
            engaged = _independent_counts(year, as_of, org_type, "engaged_international")
            registered = _independent_counts(year, as_of, org_type, "registered")
            # sources may print the registered count differently: the row's printed count names the one used
            assert len(engaged) == 1 and registered, (org_type, engaged, registered)
            e = engaged.pop()
            r = next((v for v in registered if cells[3] in (f"{v:,.0f}", f"{v / 10_000:.1f}万", f"{v / 10_000:.2f}万")),
                     None)
            assert r is not None, (year, lang, cells[3], registered)
            assert cells[2] == f"{e:,.0f}"
            assert cells[4] == _sig_pct(100 * e / r), (year, lang, cells)
            published = [p for p in _snapshot_rows() if p["year"] == str(year) and p["as_of"] == as_of
                         and p["org_type"] == org_type and p["measure"] == "published_share_pct"]
            if published:
                assert cells[5] == published[0]["as_published"]
            else:
                assert cells[5] == text["gap"]
            agrees = cells[4] == cells[5] or cells[5] == text["gap"]
            if cells[5] != text["gap"]:
                assert cells[6] == (text["check"]["agrees"] if agrees else text["check"]["disagrees"]) \
                    or (not agrees and cells[6] == text["check"]["disagrees"])


def test_the_2012_private_non_enterprise_row_shows_computed_and_published_apart(written):
    for lang in LANGS:
        row = next(r for r in participation_table(written[(2012, lang)], lang)
                   if r[0].replace("- ", "-") == content(lang)["org_types"]["private_non_enterprise"])
        assert row[4] == "0.022%" and row[5] == "0.22%" and row[6] == content(lang)["check"]["disagrees"]


def _identifiers() -> set[str]:
    """Every source id in the manifest (the ids with a hyphen: "ricf" is also a word in titles)."""
    sources = tomllib.loads(config.MANIFEST.read_text(encoding="utf-8"))["sources"]
    return {i for i in sources if "-" in i}


def test_readers_see_no_internal_identifiers(texts):
    ids = _identifiers()
    assert "mca-2012-bulletin" in ids
    for key, text in texts.items():
        flat = text.replace("\n", " ")
        for marker in ("audit.", "marts.", "staging.", "No URL recorded", "未记录网址", "foundation_public",
                       "social_association", "private_non_enterprise", "engaged_international"):
            assert marker not in flat, (key, marker)
        for i in ids:
            assert not re.search(r"(?<![\w/.-])" + re.escape(i) + r"(?![\w-])", flat), (key, i)


def test_nothing_only_not_loaded_is_called_not_published(texts):
    for (year, lang), text in texts.items():
        assert "not published" not in text and "未公布" not in text, (year, lang)


def test_gaps_are_labelled_not_in_this_editions_sources(written, con):
    """A brief whose charts span years the sources hold nothing for labels those years as such (the
    labels run upwards inside the charts, so they are read from the PDF's rotated characters too)."""
    registered = metrics.registered(con)
    ratios = metrics.participation(con).filter(metrics.pl.col("participation_pct").is_not_null())
    for (year, lang), path in written.items():
        years_reg = {int(y) for y in registered["year"] if y <= year}
        years_ratio = {int(y) for y in ratios["year"] if y <= year}
        gaps = (set(range(min(years_reg), year + 1)) - years_reg) | (set(range(min(years_ratio), year + 1)) - years_ratio)
        with pdfplumber.open(path) as pdf:
            rotated = "".join(c["text"] for p in pdf.pages for c in p.chars if not c["upright"])
        label = re.sub(r"\s+", "", content(lang)["gap"])
        rotated = re.sub(r"\s+", "", rotated)
        found = max(rotated.count(label), rotated[::-1].count(label))
        assert (found >= len(gaps) > 0) or not gaps, (year, lang, sorted(gaps), found)


def test_ratios_are_printed_with_significant_figures(texts):
    for (year, lang), text in texts.items():
        assert "0.00%" not in text and "0.000%" not in text, (year, lang)     # never a non-zero ratio as 0.00%
    assert _whole("0.0025%", texts[(2016, "en")]) and _whole("0.0025%", texts[(2016, "zh")])
    assert _whole("0.022%", texts[(2012, "en")]) and _whole("0.022%", texts[(2012, "zh")])


def test_the_3399_subtotal_flag_is_in_every_edition_that_prints_3399(texts):
    for (year, lang), text in texts.items():
        flat = re.sub(r"\s+", "", text)
        if _whole("3,399", text):
            flag = {"en": "butthetotalis3,399", "zh": "总数为3,399"}[lang]
            assert flag in flat, (year, lang)
            assert _whole("3,381", text), (year, lang)


def test_round_counts_are_in_wan_throughout_the_chinese_edition(texts):
    """A count of ten thousand or more printed to the thousand is written in 万, never in full."""
    full = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+)(?![\d.,])")
    for (year, lang), text in texts.items():
        if lang != "zh":
            continue
        assert "万" in text
        for m in full.finditer(text):
            figure = m.group(1)
            if re.search(r"[A-Za-z]{3,}", text[max(0, m.start() - 40):m.end() + 40]) \
                    or re.sub(r"\s", "", text[max(0, m.start() - 8):m.start()]).endswith(("原文为", "相差")):
                continue        # an English source title, a quote of the printing, or a difference (not a count)
            value = int(figure.replace(",", ""))
            assert value < 10_000 or value % 1_000 != 0, (year, figure)


def test_the_subtotal_tolerance_never_contradicts_itself(con):
    """Both bases of the subtotal check give one tolerance: the total's and the parts' printed half units."""
    rows = con.sql("SELECT year, period, as_of, measure, org_type, list(DISTINCT tolerance) AS t "
                   "FROM marts.check_subtotals GROUP BY ALL").pl().to_dicts()
    for r in rows:
        if r["year"] == 2016 and r["org_type"] == "all":
            assert r["t"] == [1500.0]
    assert con.sql("SELECT count(*) FROM marts.check_subtotals WHERE year = 2016 AND org_type = 'all' "
                   "AND NOT adds_up").fetchall()[0][0] == 0


def test_note_markers_are_real_superscripts_of_at_least_six_and_a_half_points(written):
    for key, path in written.items():
        with pdfplumber.open(path) as pdf:
            for page in pdf.pages:
                chars = [c for c in page.chars if c["upright"]]     # the charts' gap labels run upwards
                assert min(c["size"] for c in chars) >= 6.45, (key, page.page_number)
                # a footnote number on a key-figure card sits above the baseline of the value it follows
                for c in chars:
                    if c["text"] == "[" and c["size"] < 7:
                        line = [d for d in chars if abs(d["x0"] - c["x0"]) < 40 and d["size"] > 8
                                and abs(d["bottom"] - c["bottom"]) < 6]
                        if line:
                            assert c["bottom"] < max(d["bottom"] for d in line) - 0.5, (key, page.page_number)


def _fullness(page) -> float:
    """How far down the page's text and drawings reach, as a share of the area inside the margins."""
    top, bottom = 18 / 25.4 * 72, page.height - 20 / 25.4 * 72
    ink = [o["bottom"] for o in page.chars if top + 12 < o["top"] < bottom]
    ink += [o["bottom"] for o in page.rects + page.curves + page.images if top + 12 < o["top"] < bottom]
    return (max(ink) - top) / (bottom - top) if ink else 0.0


def test_no_page_is_mostly_empty(written):
    for key, path in written.items():
        with pdfplumber.open(path) as pdf:
            full = [_fullness(p) for p in pdf.pages]
        assert all(f >= 0.40 for f in full[:-1]), (key, [round(f, 2) for f in full])
        assert full[-1] >= 0.25, (key, [round(f, 2) for f in full])


def test_key_messages_open_page_one_in_both_languages(written, texts):
    for (year, lang), path in written.items():
        with pdfplumber.open(path) as pdf:
            first = pdf.pages[0].extract_text()
        assert content(lang)["messages"]["title"] in first
    # the same headline measure wherever an edition has it, and said so where it does not
    assert "Participation ratio of all social organizations: 0.11%" in texts[(2012, "en")].replace("\n", " ")
    assert "no participation ratio for all social organizations" in texts[(2016, "en")].replace("\n", " ")
    assert "rests on only 9 organizations" in texts[(2016, "en")].replace("\n", " ")
    assert "仅以9家组织为基础" in texts[(2016, "zh")].replace("\n", "")


def test_every_brief_carries_a_suggested_citation(texts):
    for (year, lang), text in texts.items():
        assert content(lang)["citation"]["title"] in text, (year, lang)


# --- Page breaks and line breaks, read back from every brief -------------------------------------------

MM = 72 / 25.4
# Punctuation that closes what comes before it: a Chinese line may not open with it.
CLOSING = set("，。、；：？！）」』》〉】〕”’%％")
HEADING_COLOR = (0.04, 0.24, 0.38)       # #0b3d62, the headings' colour in brief.css


def _lines(page, column_gap: float = 12) -> list[list[dict]]:
    """The page's text lines inside the margins (running title and page number left out), top to
    bottom, each a list of characters left to right. A raised note marker belongs to the line it
    overlaps; blocks side by side (cards, the measures' two columns) are separate lines."""
    chars = [c for c in page.chars if c["upright"] and c["text"].strip()
             and 18 * MM + 2 < c["top"] and c["bottom"] < page.height - 20 * MM]
    rows: list[dict] = []
    for c in sorted(chars, key=lambda c: (c["size"] < 7.5, c["bottom"])):   # body text first, markers after
        row = next((r for r in rows if min(r["bottom"], c["bottom"]) - max(r["top"], c["top"])
                    > 0.3 * (c["bottom"] - c["top"])), None)
        if row is None:
            rows.append({"top": c["top"], "bottom": c["bottom"], "chars": [c]})
        else:
            row["chars"].append(c)
    lines = []
    for r in sorted(rows, key=lambda r: r["bottom"]):
        line: list[dict] = []
        for c in sorted(r["chars"], key=lambda c: c["x0"]):
            if line and c["x0"] - line[-1]["x1"] > column_gap:
                lines.append(line)
                line = []
            line.append(c)
        lines.append(line)
    return lines


def _line_text(line: list[dict]) -> str:
    return "".join(c["text"] for c in line)


def _is_heading(line: list[dict]) -> bool:
    """A section or sub-section heading (h2 13 pt, h3 10 pt): bold, in the headings' colour."""
    return all(9.9 <= c["size"] <= 13.5 and "Bold" in c["fontname"]
               and tuple(round(v, 2) for v in (c["non_stroking_color"] or ())) == HEADING_COLOR for c in line)


@pytest.fixture(scope="module")
def page_lines(written) -> dict[tuple[int, str], list[list[list[dict]]]]:
    out = {}
    for key, path in written.items():
        with pdfplumber.open(path) as pdf:
            out[key] = [_lines(p) for p in pdf.pages]
    return out


def test_line_reader_finds_headings_and_keeps_note_markers_on_their_line(page_lines):
    """The checks below read what they should: every brief's headings are found, and a sentence's
    note marker is read as part of its line, not as a line of its own."""
    for key, pages in page_lines.items():
        headings = [_line_text(line) for lines in pages for line in lines if _is_heading(line)]
        # (the text of a line is its characters: the PDF draws no spaces)
        assert content(key[1])["messages"]["title"].replace(" ", "") in headings, key
        assert content(key[1])["sections"]["sources"].replace(" ", "") in headings, key
        assert any(_line_text(line).endswith("]") and line[-1]["size"] < 7.5 and line[0]["size"] >= 7.5
                   for lines in pages for line in lines), key


def test_no_heading_is_the_last_line_of_a_page(page_lines):
    for key, pages in page_lines.items():
        for n, lines in enumerate(pages, 1):
            assert not _is_heading(lines[-1]), (key, n, _line_text(lines[-1]))


def test_no_page_opens_with_the_lone_last_line_of_a_paragraph(page_lines):
    """A widow: the previous page ends in a full line of body text at the left margin, and this page
    opens, at the same margin and size, with one short line that ends its paragraph (a gap or other
    text follows). Within what the PDF shows: a list item's last line is read the same way."""
    for key, pages in page_lines.items():
        for n in range(1, len(pages)):
            before, lines = pages[n - 1][-1], pages[n]
            first, following = lines[0], lines[1] if len(lines) > 1 else None
            left, right = 17 * MM, 210 * MM - 17 * MM
            size = first[0]["size"]
            ends_paragraph = following is None or abs(following[0]["size"] - size) > 0.3 \
                or following[0]["top"] - first[-1]["bottom"] > 0.9 * 1.6 * size
            continued = abs(before[0]["size"] - size) < 0.3 and abs(before[0]["x0"] - first[0]["x0"]) < 3 \
                and before[-1]["x1"] > right - 20
            short = first[-1]["x1"] < left + 0.7 * (right - left)
            assert not (continued and short and ends_paragraph), (key, n + 1, _line_text(first))


def test_no_chinese_line_opens_with_closing_punctuation(page_lines):
    """Neither a lone 。 nor a note marker with its 。 (“[2]。”) opens a line of the Chinese edition."""
    for (year, lang), pages in page_lines.items():
        if lang != "zh":
            continue
        for n, lines in enumerate(pages, 1):
            for line in lines:
                if all(c["text"].isascii() for c in line):      # a URL or English title goes on
                    continue
                body = [c for c in line if c["size"] >= 7.5] or line     # past a leading note marker
                assert body[0]["text"] not in CLOSING, (year, n, _line_text(line)[:40])


# --- What the 2021 edition says -------------------------------------------------------------------------

def _flat(text: str, lang: str) -> str:
    return text.replace("\n", "" if lang == "zh" else " ")


def _bare(text: str) -> str:
    """Text without any white space: a line break inside a Chinese term or an English title is no space."""
    return re.sub(r"\s+", "", text)


def test_one_figure_under_two_year_labels_is_not_printed_as_growth(written, texts, con):
    """2021 repeats 2020's total and foundations (validation flags them): the growth table gives no
    change for them and says why, never +0.0 %."""
    repeated = con.sql("SELECT org_type FROM marts.check_year_on_year WHERE year = 2021 AND measure = "
                       "'registered' AND period = 'year_end' AND repeats_previous_year").fetchall()
    assert {r[0] for r in repeated} == {"all", "foundation"}
    for lang in LANGS:
        text = content(lang)
        flat = _flat(texts[(2021, lang)], lang)
        with pdfplumber.open(written[(2021, lang)]) as pdf:
            growth_rows = [ln for p in pdf.pages for ln in (p.extract_text() or "").splitlines()
                           if ln.startswith(tuple(text["org_types"].values()))
                           and say(text["trends"]["latest_year"], year=2021) in ln]
        repeated = [r for r in growth_rows if text["trends"]["repeated_change"] in r]
        assert len(repeated) == 2 and len(growth_rows) > 2, (lang, growth_rows)
        assert not [r for r in growth_rows if "+0.0%" in r], (lang, growth_rows)
        assert _bare(text["trends"]["repeated_note"])[:20] in _bare(flat), lang


def test_the_2021_key_message_says_why_2012_is_not_compared(texts):
    """2012's 556 (the Ministry's field class for associations and private non-enterprise units plus
    its foreign-related foundations) and 2021's 541 (the blue book's field) count different things."""
    en = _flat(texts[(2021, "en")], "en")
    assert "no change since 2012 is given, because the two counts measure different things" in en
    assert "国际及其他涉外组织类" in _bare(en) and "涉外基金会" in _bare(en) and "国际及涉外组织领域" in _bare(en)
    assert "no earlier year in this edition's sources counts engagement the same way" not in en
    zh = _flat(texts[(2021, "zh")], "zh")
    assert "2012年的556家与2021年的541家统计口径不同" in zh


def test_chinese_sources_list_names_english_only_sources_in_chinese(texts):
    """A source recorded only in English: its publisher in Chinese where it has a Chinese name, its
    English record kept and labelled as such, never passed off as a Chinese title."""
    zh = _flat(texts[(2021, "zh")], "zh")
    # (the key figures' notes: the two-column sources list reads back interleaved)
    assert _bare("长沙公益网站：英文题录“Summary of the 2022 social organization blue book”") in _bare(zh)
    assert "黄浩明（中国国际民间组织合作促进会）" in zh
    for publisher in ("Changsha philanthropy site", "Huang Haoming (CANGO)", "Xinhua via"):
        assert publisher not in zh, publisher
