"""The data of a brief's "Since the last edition" section: which warehouse edition the brief is built
from, and what changed since the edition before it (as recorded in the file's audit.edition row)."""

from __future__ import annotations

import yaml

from .. import config, editions
from .edition import Edition

KEY = "edition_section"


def build(ed: Edition) -> dict:
    """The warehouse edition the brief is built from, and what changed since the one before it."""
    return {KEY: section(ed.con, ed.lang, ed.text)}


def _say(pattern: str, **values) -> str:
    from jinja2 import Environment, StrictUndefined

    return Environment(autoescape=False, undefined=StrictUndefined).from_string(pattern).render(**values)


def section(con, lang: str, text: dict) -> dict | None:
    """The section's sentences in `lang` (None for a warehouse without an edition stamp). `text` is
    the brief's content for `lang`, for the names of org types, measures and periods."""
    stamp = editions.stamp_of(con)
    if stamp is None:
        return None
    words = yaml.safe_load((config.TEMPLATES_DIR / "content" / "since_last_edition.yaml")
                           .read_text(encoding="utf-8"))[lang]
    since = stamp.get("since_previous")
    out = {"id": stamp["edition_id"], "number": stamp["number"],
           "heading": words["heading"] if since else words["heading_first"],
           "edition": _say(words["edition"], number=stamp["number"], id=stamp["edition_id"]),
           "compared": None, "code": None, "revised": [], "revised_title": words["revised_title"], "more": None}
    if not since:
        return out
    c, prev = since["counts"], since["previous"]
    out["compared"] = _say(words["compared"], number=prev["number"] or "?", id=prev["id"] or "?",
                           added=c["added"], revised=c["revised"], removed=c["removed"],
                           findings_new=c["findings_new"], findings_resolved=c["findings_resolved"],
                           snapshots=c["snapshots_changed"])
    out["code"] = (_say(words["code_unknown"]) if c["code_changed"] is None
                   else _say(words["code"], files=c["code_changed"]) if c["code_changed"] else None)

    def side(s):
        return f"{s['as_published']} ({_say(words['source'], source=s['source_id'], row=s['source_row'])})"

    for f in since["revised"]:
        what = " ".join(str(p) for p in (f["year"], text["periods"].get(f["period"], f["period"]),
                                         text["org_types"].get(f["org_type"], f["org_type"]),
                                         text["measures"].get(f["measure"], f["measure"])))
        out["revised"].append(_say(words["revised"], what=what, old=side(f["old"]), new=side(f["new"])))
    if c["revised"] > len(since["revised"]):
        out["more"] = _say(words["more"], n=c["revised"] - len(since["revised"]))
    return out
