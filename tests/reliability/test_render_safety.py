"""Rendering safety: hostile text in the data renders as text, never as markup; WeasyPrint fetches
only the brief's own stylesheet and charts; only http(s) source URLs become links; `--out` never
writes over the bundled data.

One warehouse is built from a copy of data/ in which every data path that reaches the brief carries
hostile strings: source publishers, titles and URLs (the manifest), survey sector names (a snapshot),
a register province (a snapshot), a validation finding's description and row, and a printing shown
in the source-disagreement list. Each language is rendered once, with the HTML handed to WeasyPrint
and every URL it asked for recorded."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
import tomlkit
from pypdf import PdfReader

from ngobrief import config, pipeline, pull, brief as render, warehouse

# The attacks, each tagged so that the PDF text shows which path carried it.
SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=http://example.invalid/x.png>"
CSS_URL = 'style="background:url(file:///etc/passwd)"'
URL_FN = "url(http://example.invalid/y.css)"
FILE_URL = "file:///etc/passwd"
JS_LINK = '<a href="javascript:alert(2)">click</a>'
ATTACK = f"{SCRIPT} {IMG} {CSS_URL} {URL_FN} {FILE_URL} {JS_LINK}"


def hostile(tag: str) -> str:
    return f"{tag}: {ATTACK}"


# Where each tagged string goes in (what reaches the brief through which path).
PUBLISHER = hostile("PUB")        # mca-2012-bulletin publisher: source list, key figure notes
TITLE = hostile("TTL")            # mca-2012-bulletin title: source list, key figure notes
STUDY = hostile("STU")            # huang-cango publisher: the context section's study sentence
SECTOR_EN = hostile("SEN")        # survey sector, English edition
SECTOR_ZH = hostile("SZH")        # survey sector, Chinese edition
PROVINCE = hostile("PRV")         # RICF register province: the register section's province list
REGISTER = hostile("REG")         # the register's citation (publisher of source ricf)
FINDING = hostile("FND")          # a validation check's description (untranslated: shown as stored)
MEASURE = hostile("MSR")          # a field of a failing validation row
PRINTED = hostile("PRT")          # a printing in the source-disagreement list
# Source URLs: neither may become a link; a hostile http URL is a link with its text escaped.
JS_URL = "javascript:alert(3)"
HTTP_URL = 'https://example.invalid/a?b="><script>alert(4)</script>'

EVERY_EDITION = (PUBLISHER, TITLE, STUDY, PROVINCE, REGISTER, FINDING, MEASURE, PRINTED)
YEAR = 2012


def _replace_snapshot(manifest, data: Path, sid: str, text: str) -> None:
    path = data / manifest["snapshots"][sid]["file"]
    os.chmod(path, 0o644)
    path.write_text(text, encoding="utf-8")
    manifest["snapshots"][sid]["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()


def _rewrite(path: Path, delimiter: str, change) -> str:
    """The table with `change` applied to every row; a TSV stays unquoted (the register's own form)."""
    tsv = delimiter == "\t"
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter=delimiter, quoting=csv.QUOTE_NONE if tsv else csv.QUOTE_MINIMAL))
    for r in rows:
        change(r)
    if tsv:
        return "".join("\t".join(r.values()) + "\n" for r in [dict(zip(rows[0], rows[0])), *rows])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def build_hostile_warehouse(root: Path) -> Path:
    data = root / "data"
    shutil.copytree(config.DATA_DIR, data)
    manifest_path = data / "sources.toml"
    manifest = tomlkit.parse(manifest_path.read_text(encoding="utf-8"))
    sources = manifest["sources"]
    sources["mca-2012-bulletin"].update(publisher=PUBLISHER, title=TITLE, url=JS_URL)
    sources["huang-cango"].update(publisher=STUDY, url=FILE_URL)
    sources["ricf"].update(publisher=REGISTER, url=HTTP_URL)

    def sector(r):
        if r["rank"] == "1":
            r["sector_en"], r["sector_zh"] = SECTOR_EN, SECTOR_ZH

    def province(r):
        if r["ba_prv"] == "Shanghai Shi":
            r["ba_prv"] = PROVINCE

    _replace_snapshot(manifest, data, "survey_priorities",
                      _rewrite(data / manifest["snapshots"]["survey_priorities"]["file"], ",", sector))
    _replace_snapshot(manifest, data, "ricf_2013",
                      _rewrite(data / manifest["snapshots"]["ricf_2013"]["file"], "\t", province))
    manifest_path.write_text(tomlkit.dumps(manifest), encoding="utf-8")

    path = root / "warehouse.duckdb"
    pull.load_bundled(path, manifest_path, data)
    pipeline.validate_stage(path)
    con = warehouse.connect(path)
    try:
        # What validation stored: one failing check about YEAR gets a hostile description and row field.
        run_id, expectation, rows = con.execute(
            "SELECT run_id, expectation, unexpected_rows FROM audit.validation_results WHERE NOT success "
            "AND unexpected_rows LIKE ? ORDER BY expectation LIMIT 1", [f'%"year": {YEAR}%']).fetchone()
        rows = json.loads(rows)
        for r in rows:
            if r.get("year") == YEAR:
                r["measure"] = MEASURE
        con.execute("UPDATE audit.validation_results SET description = ?, unexpected_rows = ? "
                    "WHERE run_id = ? AND expectation = ?",
                    [FINDING, json.dumps(rows, ensure_ascii=False), run_id, expectation])
        # A printing that disagrees with the chosen one, as the source-disagreement list shows it.
        n = con.execute("UPDATE staging.observations SET as_published = ? WHERE source_id = 'cfc-via-narada' "
                        "AND year = 2011 AND org_type = 'foundation_nonpublic' AND measure = 'registered'", [PRINTED]).fetchone()
        assert n and n[0] >= 1
    finally:
        con.close()
    return path


class _Elements(HTMLParser):
    """Every element and attribute a browser (or WeasyPrint) would build from the page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def elements(html: str) -> list[tuple[str, dict]]:
    p = _Elements()
    p.feed(html)
    p.close()
    return p.tags


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """Both editions of the hostile warehouse, with the HTML WeasyPrint got and every URL it fetched."""
    root = tmp_path_factory.mktemp("hostile")
    path = build_hostile_warehouse(root)
    pages, fetched = {}, {}
    original_write = render.write_pdf

    class Recording(render.LocalOnlyFetcher):
        def __call__(self, url):
            fetched[lang].append(url)
            return super().__call__(url)

    def capture(html, out, **kw):
        pages[lang] = html
        return original_write(html, out, **kw)

    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(render.pdf, "LocalOnlyFetcher", Recording)   # write_pdf looks it up there
        mp.setattr(render.page, "write_pdf", capture)   # render_brief looks it up there
        con = warehouse.connect(path)
        try:
            for lang in ("en", "zh"):
                fetched[lang] = []
                out[lang] = render.render_brief(con, YEAR, lang, root / f"brief-{lang}.pdf").path
        finally:
            con.close()
    return {"pdf": out, "html": pages, "fetched": fetched, "root": root}


def _pdf_text(path: Path) -> str:
    """The PDF's text without the running header and footer of each page and without bare list
    markers (their lines land inside a sentence that a page break splits), squeezed of white space."""
    run = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True)
    pages = [p.splitlines() for p in run.stdout.split("\f")]
    # running lines sit at the edge of several pages; a finding printed twice, once at a page's top, does not
    running = {ln for p in pages for ln in (p[:2] + p[-2:])
               if sum(ln in (q[:2] + q[-2:]) for q in pages) > 1 or re.search(r"\d+ / \d+$", ln)}
    # list markers (· ◦ •) that -raw emits on lines of their own, apart from their items
    kept = " ".join(ln for p in pages for ln in p if ln not in running and ln.strip() not in {"·", "◦", "•"})
    return "".join(kept.split())


def _squeeze(s: str) -> str:
    return "".join(s.split())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_text_appears_literally_in_the_pdf(rendered, lang):
    text = _pdf_text(rendered["pdf"][lang])
    expected = [*EVERY_EDITION, SECTOR_EN if lang == "en" else SECTOR_ZH]
    assert [s[:3] for s in expected if _squeeze(s) not in text] == []


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_hostile_text_creates_no_element(rendered, lang):
    html = rendered["html"][lang]
    tags = elements(html)
    names = {t for t, _ in tags}
    assert "script" not in names and "iframe" not in names and "object" not in names
    images = [a.get("src") for t, a in tags if t == "img"]
    assert images and all(src.startswith(render.CHART_SCHEME) for src in images), images
    assert [a for t, a in tags if t == "link"] == [{"rel": "stylesheet", "href": "brief.css"}]
    for tag, attrs in tags:
        for name, value in attrs.items():
            assert "url(" not in (value or "") and "javascript:" not in (value or "").lower(), (tag, name, value)
    # every hostile string is in the page as escaped text
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= len(EVERY_EDITION) + 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_weasyprint_fetches_only_the_stylesheet_and_the_renders_charts(rendered, lang):
    css = (config.TEMPLATES_DIR / "brief.css").resolve().as_uri()
    assert sorted(set(rendered["fetched"][lang])) == sorted(
        {css, f"{render.CHART_SCHEME}participation-ratio.svg", f"{render.CHART_SCHEME}registered-main.svg",
         f"{render.CHART_SCHEME}registered-foundations.svg"})


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_only_http_source_urls_become_links(rendered, lang):
    html = rendered["html"][lang]
    outside = [a["href"] for t, a in elements(html) if t == "a" and not a["href"].startswith("#")]
    assert HTTP_URL in outside
    assert all(h.startswith(("http://", "https://")) for h in outside), outside
    # the refused URLs are still shown, as text in the list of sources
    assert f'<span class="url">{JS_URL}</span>' in html
    assert f'<span class="url">{FILE_URL}</span>' in html
    assert JS_URL in _pdf_text(rendered["pdf"][lang])
    # and the PDF's link annotations point at http(s) only
    uris = [a.get_object()["/A"].get("/URI") for page in PdfReader(rendered["pdf"][lang]).pages
            for a in page.get("/Annots") or [] if "/A" in a.get_object()]
    external = [u for u in uris if u]
    assert all(u.startswith(("http://", "https://")) for u in external), external
    assert "https://example.invalid/a?b=%22%3E%3Cscript%3Ealert(4)%3C/script%3E" in external   # quoted, one link



def test_validation_report_shows_hostile_text_as_text(rendered):
    """The HTML validation report (opened in a browser) lists failing rows with their printed values:
    a hostile printing is escaped there too, and the page loads nothing."""
    from ngobrief import validate

    con = warehouse.connect(rendered["root"] / "warehouse.duckdb")
    try:
        html = validate.report_html(validate.run_suites(con))
    finally:
        con.close()
    assert PRINTED[:4] in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    tags = elements(html)
    assert {t for t, _ in tags} & {"script", "img", "iframe", "object", "link", "a"} == set()
    assert [(t, a) for t, a in tags if any("url(" in (v or "") or "javascript:" in (v or "") for v in a.values())] == []

# ---- `--out` never writes over the data -----------------------------------------------------------
# tests/test_render.py proves a plain path under data/ is refused; these are the indirect ways there.

def _brief_cli(monkeypatch, capsys, warehouse_path, out) -> tuple[int, str]:
    from ngobrief import cli

    monkeypatch.setattr(sys, "argv", ["ngobrief", "brief", "--year", str(YEAR), "--lang", "en", "--out", str(out),
                                      "--warehouse", str(warehouse_path)])
    with pytest.raises(SystemExit) as exit_:
        cli.main()
    return exit_.value.code, capsys.readouterr().err


def test_out_through_a_symlink_into_data_is_refused(data_copy, files_under, tmp_path, built_warehouse, monkeypatch, capsys):
    before = files_under(data_copy)
    link = tmp_path / "brief.pdf"
    link.symlink_to(data_copy / "snapshots" / "observations.csv")
    code, err = _brief_cli(monkeypatch, capsys, built_warehouse, link)
    assert code == 2 and f"refusing to write {link}" in err and "which holds sources" in err
    assert files_under(data_copy) == before and link.is_symlink()


def test_out_in_a_symlinked_folder_inside_data_is_refused(data_copy, files_under, tmp_path, built_warehouse, monkeypatch, capsys):
    before = files_under(data_copy)
    folder = tmp_path / "briefs"
    folder.symlink_to(data_copy / "snapshots", target_is_directory=True)
    code, err = _brief_cli(monkeypatch, capsys, built_warehouse, folder / "new-brief.pdf")
    assert code == 2 and "refusing to write" in err
    assert files_under(data_copy) == before     # no new file, no temporary file left in the snapshots


def test_out_as_a_hard_link_to_a_snapshot_is_refused(data_copy, files_under, tmp_path, built_warehouse, monkeypatch, capsys):
    before = files_under(data_copy)
    hard = tmp_path / "brief.pdf"
    os.link(data_copy / "snapshots" / "observations.csv", hard)
    code, err = _brief_cli(monkeypatch, capsys, built_warehouse, hard)
    assert code == 2 and "hard link to snapshots/observations.csv" in err
    assert files_under(data_copy) == before and hashlib.sha256(hard.read_bytes()).hexdigest() == before["snapshots/observations.csv"]


def test_out_with_dotdot_into_data_is_refused(data_copy, files_under, tmp_path, built_warehouse, monkeypatch, capsys):
    before = files_under(data_copy)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    code, err = _brief_cli(monkeypatch, capsys, built_warehouse, Path("..", "..", "data", "snapshots", "observations.csv"))
    assert code == 2 and "refusing to write ../../data/snapshots/observations.csv" in err
    assert files_under(data_copy) == before


def test_a_pdf_replaces_its_target_instead_of_writing_into_it(tmp_path):
    """If a hard link were missed, the linked file would still keep its bytes: the PDF is a new file."""
    kept = tmp_path / "kept.csv"
    kept.write_bytes(b"year,value\n2012,1\n")
    out = tmp_path / "brief.pdf"
    os.link(kept, out)
    render.pdf._replace_file(out, b"%PDF-new")
    assert kept.read_bytes() == b"year,value\n2012,1\n" and out.read_bytes() == b"%PDF-new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["brief.pdf", "kept.csv"]


def test_with_ngobrief_data_set_both_data_folders_are_protected(tmp_path, built_warehouse, files_under):
    data = tmp_path / "data-copy"
    shutil.copytree(config.DATA_DIR, data)
    before = files_under(data)
    env = {**os.environ, "NGOBRIEF_DATA": str(data), "NGOBRIEF_OUTPUTS": str(tmp_path / "outputs")}
    stray = config.ROOT / "data" / "snapshots" / "reliability-test-must-not-exist.pdf"
    script = ("import sys\nfrom ngobrief import cli\n"
              "for out in sys.argv[1:]:\n"
              "    sys.argv = ['ngobrief', 'brief', '--year', '2012', '--out', out, '--warehouse', "
              f"{str(built_warehouse)!r}]\n"
              "    try:\n        cli.main()\n    except SystemExit as e:\n        print('exit', e.code)\n")
    run = subprocess.run([sys.executable, "-c", script, str(data / "sources.toml"), str(stray)],
                         capture_output=True, text=True, env=env, timeout=120)
    try:
        assert run.stdout.split() == ["exit", "2", "exit", "2"], run.stderr
        assert f"refusing to write {data / 'sources.toml'}: it lies under the data folder {data} (NGOBRIEF_DATA)" \
            in run.stderr
        assert f"refusing to write {stray}: it lies under data/" in run.stderr
        assert files_under(data) == before and not stray.exists()
    finally:
        stray.unlink(missing_ok=True)


def test_out_naming_the_warehouse_is_refused_and_the_warehouse_kept(tmp_path, built_warehouse, monkeypatch, capsys):
    """A brief replaces an earlier brief and nothing else: not the warehouse it is read from."""
    wh = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, wh)
    before = wh.read_bytes()
    code, err = _brief_cli(monkeypatch, capsys, wh, wh)
    assert code == 2 and f"refusing to write {wh}: the file exists and is not a PDF" in err
    assert wh.read_bytes() == before


@pytest.mark.parametrize("kind", ["csv", "folder"])
def test_out_naming_a_file_that_is_not_a_pdf_or_a_folder_is_refused(kind, tmp_path, built_warehouse, monkeypatch,
                                                                     capsys):
    target = tmp_path / "figures.csv"
    if kind == "csv":
        target.write_bytes(b"year,value\n2012,1\n")
    else:
        target.mkdir()
    code, err = _brief_cli(monkeypatch, capsys, built_warehouse, target)
    assert code == 2 and f"refusing to write {target}" in err
    assert ("not a PDF" in err) if kind == "csv" else ("is a folder" in err)
    assert (target.read_bytes() == b"year,value\n2012,1\n") if kind == "csv" else list(target.iterdir()) == []


def test_out_naming_an_earlier_brief_replaces_it(tmp_path, built_warehouse, monkeypatch, capsys):
    out = tmp_path / "brief.pdf"
    out.write_bytes(b"%PDF-1.7 an earlier brief")
    from ngobrief import cli

    monkeypatch.setattr(sys, "argv", ["ngobrief", "brief", "--year", str(YEAR), "--lang", "en", "--out", str(out),
                                      "--warehouse", str(built_warehouse)])
    cli.main()   # returns: success does not exit
    assert f"{out}  " in capsys.readouterr().out
    assert out.read_bytes().startswith(b"%PDF-") and out.read_bytes() != b"%PDF-1.7 an earlier brief"
