"""Templates and content files hold words, never figures; both languages say the same things."""

import re

import pytest
import yaml

from ngobrief import config, brief as render

CONTENT = sorted((config.TEMPLATES_DIR / "content").glob("*.yaml"))
DIGITS = re.compile(r"[0-9\uff10-\uff19]")


def _strings(node):
    if isinstance(node, dict):
        for v in node.values():
            yield from _strings(v)
    elif isinstance(node, list):
        for v in node:
            yield from _strings(v)
    elif isinstance(node, str):
        yield node


def _keys(node, prefix=""):
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("definition_glosses", "finding_descriptions"):  # keyed by data text, may differ
                yield f"{prefix}{k}"
                continue
            yield from _keys(v, f"{prefix}{k}.")
    elif isinstance(node, list):
        yield f"{prefix}[{len(node)}]"
        for i, v in enumerate(node):
            yield from _keys(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip(".")


@pytest.mark.parametrize("path", CONTENT, ids=lambda p: p.name)
def test_content_files_type_no_numbers(path):
    text = path.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    assert [s for s in _strings(data) if DIGITS.search(s)] == []


@pytest.mark.parametrize("name", ["brief.html.j2", "charts/line.svg.j2"])
def test_templates_type_no_numbers_in_their_text(name):
    """Digits may appear in markup (attributes, SVG geometry) but not in any text a reader sees."""
    source = (config.TEMPLATES_DIR / name).read_text(encoding="utf-8")
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", " ", source, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    assert DIGITS.findall(text) == []


def test_english_and_chinese_content_have_the_same_keys():
    en, zh = render.content("en"), render.content("zh")
    assert set(_keys(en)) - {"wan_unit"} == set(_keys(zh)) - {"wan_unit"}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_every_engaged_definition_in_the_data_has_a_gloss(con, lang):
    notes = {r[0] for r in con.sql("SELECT DISTINCT note FROM staging.observations "
                                   "WHERE measure = 'engaged_international' AND note IS NOT NULL").fetchall()}
    assert notes - set(render.content(lang)["definition_glosses"]) == set()


def test_chinese_content_is_simplified_chinese():
    """A traditional-only character in zh.yaml would be a slip into the wrong script."""
    text = (config.TEMPLATES_DIR / "content" / "zh.yaml").read_text(encoding="utf-8")
    traditional = set("與參國際組織團體會計數據來業單範圍")
    assert traditional & set(text) == set()


def test_unknown_language_is_a_clear_error():
    with pytest.raises(render.RenderError, match="choose one of en, zh"):
        render.content("fr")


def _descriptions():
    import json

    for path in sorted(config.EXPECTATIONS_DIR.glob("*.json")):
        for e in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            yield path.stem, e["description"]


@pytest.mark.parametrize("suite,description", list(_descriptions()), ids=lambda v: v[:40])
def test_every_check_description_has_a_chinese_translation(suite, description):
    """The zh brief looks up each failed check by its English description; a new or reworded check
    in expectations/ needs its translation in zh.yaml, whose numbers come from the English text."""
    zh = render.content("zh")["finding_descriptions"]
    assert description in zh, f"{suite}: add a zh.yaml finding_descriptions entry for {description!r}"
    translated = render._description(description, render.content("zh"))
    assert re.search(r"[\u4e00-\u9fff]", translated), translated
    # Latin letters only in the names of columns and commands a reader types (as_of, ngobrief pull)
    words = re.findall(r"[A-Za-z_]+", translated)
    assert [w for w in words if w not in ("ngobrief", "pull") and "_" not in w] == [], translated
    assert set(re.findall(r"\d+", translated)) <= set(re.findall(r"\d+", description)), translated


def test_chinese_translations_are_only_of_checks_that_exist():
    """A translation whose English text no suite uses any more is dead: reword or drop it."""
    known = {d for _, d in _descriptions()}
    assert set(render.content("zh")["finding_descriptions"]) - known == set()
