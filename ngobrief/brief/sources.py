"""Sources and method: every cited document, numbered in order of first citation, with a link only
where its URL is a plain http(s) address."""

from __future__ import annotations

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
                            "line": say(text["source_line"], publisher=s["publisher"], title=s["title"],
                                        published=s["published"],
                                        kind=text["source_kinds"].get(s["kind"], s["kind"]))})
    return {"sources": source_list}


def short_source(source: dict | None, n: int) -> str:
    """Publisher and title (up to its first ';') with the source's number in the list of sources."""
    if not source:
        return f"[{n}]"
    return f"{source['publisher']}, {source['title'].split(';')[0].strip()} [{n}]"


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

