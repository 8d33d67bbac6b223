"""Context: the CANGO survey's sector priorities, banded as published, and the study whose hurdles and
recommendations the brief summarizes."""

from __future__ import annotations

import itertools
import re

from .. import metrics
from .edition import Edition
from .format import Formatter, say

KEY = "context"


def build(ed: Edition) -> dict:
    text, fmt, cite = ed.text, ed.fmt, ed.cite
    survey = metrics.survey_priorities(ed.con).to_dicts()
    study = metrics.sources_used(ed.con, [text["context"]["source_id"]]).to_dicts()
    return {"context": {
        "priorities": [{"band": band, "sectors": list(items)} for band, items in itertools.groupby(
            [_priority(r, text, fmt) for r in survey], key=lambda p: p["band"])],
        "priorities_cites": cite(*[r["source_id"] for r in survey]),
        "study": say(text["context"]["study"], author=study[0]["publisher"], published=study[0]["published"])
        if study else "",
        "study_cites": cite(text["context"]["source_id"]) if study else [],
    }}


def _priority(r: dict, text: dict, fmt: Formatter) -> dict:
    m = re.fullmatch(r"(above|below)_(\d+)pct", r["support_band"] or "")
    band = say(text["context"]["bands"][m.group(1)], threshold=fmt.pct(float(m.group(2)), 0)) if m else r["support_band"]
    sector = r["sector_zh"] if text["lang"] == "zh" else r["sector_en"][:1].upper() + r["sector_en"][1:]
    return {"rank": r["rank"], "sector": sector, "band": band, "above": bool(m and m.group(1) == "above"),
            "support": say(text["context"]["support"], pct=fmt.pct(r["support_pct"]))
            if r["support_pct"] is not None else ""}

