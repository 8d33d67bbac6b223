"""Sources and method: every cited document, numbered in order of first citation, with a link only
where its URL is a plain http(s) address."""

from __future__ import annotations

import re

from .. import metrics
from .edition import Edition
from .format import say

KEY = "sources"


def build(ed: Edition) -> dict:
    """Last of the sections: it lists what the others cited."""
    text, order = ed.text, ed.cite.order
    by_id = {s["source_id"]: s for s in metrics.sources_used(ed.con, order).to_dicts()}
    source_list = []
    for i, sid in enumerate(order):
        s = by_id.get(sid, {"source_id": sid, "publisher": sid, "title": "", "url": None, "published": "",
                            "kind": ""})
        source_list.append({"n": i + 1, **s, "link": link_target(s["url"]),
                            # a reprint or mirror is labelled as one: it is not the publisher's page
                            "url_label": text["url_labels"].get(s["kind"], "") if s["url"] else "",
                            "line": say(text["source_line"], publisher=reader_names(s, text)[0],
                                        title=reader_names(s, text)[1],
                                        published=s["published"],
                                        kind=text["source_kinds"].get(s["kind"], s["kind"]))})
    return {"sources": source_list}


def short_source(source: dict | None, n: int, text: dict | None = None) -> str:
    """Publisher and title (up to its first ';') with the source's number in the list of sources."""
    if not source:
        return f"[{n}]"
    publisher, title = reader_names(source, text)
    return f"{publisher}{(text or {}).get('title_sep', ', ')}{title.split(';')[0].strip()} [{n}]"


_CJK = re.compile(r"[\u3400-\u9fff]")


def reader_names(source: dict, text: dict | None) -> tuple[str, str]:
    """The publisher and title a reader of this language sees. A Chinese reader gets a Chinese source
    in Chinese: the publisher's Chinese name (from the content file, or the one the manifest gives in
    brackets, 公益时报) and the title without its English gloss in brackets; a title recorded only in
    English is kept as recorded and labelled as an English record."""
    publisher, title = source["publisher"], source["title"]
    if not text or not text.get("chinese_names"):
        return publisher, title
    names = text.get("publishers", {})
    bracketed = re.search(r"[（(]([^()（）]*" + _CJK.pattern + r"[^()（）]*)[)）]", publisher)
    publisher = names.get(publisher) or (bracketed.group(1) if bracketed else publisher)
    if _CJK.search(title):
        # an English gloss in brackets goes ("(quarterly statistics)"); "(2019)" stays
        title = re.sub(r"\s*\((?=[^()]*[A-Za-z])[^()\u3400-\u9fff]*\)", "", title).strip()
    elif text.get("foreign_title"):
        # a document recorded only in English keeps that record, labelled as an English record (no
        # Chinese title is made up); what follows a ';' is the manifest's own note, not part of it
        title = say(text["foreign_title"], title=title.split(";")[0].strip())
    return publisher, title


def link_target(url: str | None) -> str | None:
    """A source URL the brief may link to: http(s) with a host only. Any other (javascript:, file:,
    data:, a bare path) is shown as text and never becomes a link."""
    from urllib.parse import urlsplit

    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    return url.strip() if parts.scheme.lower() in ("http", "https") and parts.netloc else None

