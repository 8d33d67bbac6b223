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
from ngobrief.brief import content

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
