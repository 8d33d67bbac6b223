"""The foundation register (RICF) part of the foundations section: sentences, a table by type and
scope, the provinces with the most internationally focused foundations, and the register's citation."""

from __future__ import annotations

from .edition import Edition
from .figures import register_foundations
from .format import Formatter, say

KEY = "register"


def build(ed: Edition) -> dict:
    if not any(t.startswith("foundation") for t in ed.types):
        return {"register": None}
    return {"register": _register(register_foundations(ed.con, ed.year), ed.year, ed.types, ed.text, ed.fmt,
                                  ed.cite)}


# How many provinces the register section names (more when several tie with the last).
REGISTER_PROVINCES = 5


def _register(reg: dict | None, year: int, types: list[str], text: dict, fmt: Formatter, cite) -> dict | None:
    """The register part of the foundations section: sentences, a table by type and scope, the
    provinces with the most internationally focused foundations, and the register's citation."""
    if reg is None:
        return None
    words, label, record_year = text["register"], text["org_types"], reg["record_year"]
    cites = cite(reg["source_id"])

    def counts(g: dict | None, prefix: str = "") -> dict:
        if g is None:
            return {f"{prefix}foundations": text["gap"], f"{prefix}international": text["gap"], f"{prefix}pct": ""}
        return {f"{prefix}foundations": fmt.count(g["foundations"]),
                f"{prefix}international": fmt.count(g["international_focus"]),
                f"{prefix}pct": fmt.pct(g["international_focus_pct"])}

    sentences = []
    if record_year != year:
        sentences.append(say(words["other_year"], record_year=record_year, year=year))
    by_type = {g["org_type"]: g for g in reg["by_type"]}
    by_scope = {g["scope"]: g for g in reg["by_scope"]}
    if "foundation" in types:
        sentences.append(say(words["overall"], record_year=record_year, **counts(reg["overall"])))
    if "foundation" in types and {"national", "local"} <= set(by_scope):
        sentences.append(say(words["by_scope"], **counts(by_scope["national"], "national_"),
                             **counts(by_scope["local"], "local_")))
    cells = {(g["org_type"], g["scope"]): g for g in reg["by_type_scope"]}
    cells.update({(t, "all"): g for t, g in by_type.items()})
    cells.update({("foundation", s): g for s, g in by_scope.items()})
    cells[("foundation", "all")] = reg["overall"]
    rows = [{"type": label[t], "total": t == "foundation",
             "cells": [say(words["cell"], **counts(cells[(t, s)])) if (t, s) in cells else text["gap"]
                       for s in ("national", "local", "all")]}
            for t in ("foundation_public", "foundation_nonpublic", "foundation") if t in types]
    provinces = []
    if "foundation" in types:
        ranked = [g for g in reg["by_province"] if (g["international_focus"] or 0) > 0]   # metrics ranks them
        if len(ranked) > REGISTER_PROVINCES:
            last = ranked[REGISTER_PROVINCES - 1]["international_focus"]
            ranked = [g for g in ranked if g["international_focus"] >= last]
        provinces = [say(words["province"], province=words["provinces"].get(g["province"], g["province"]),
                         **counts(g)) for g in ranked]
    return {"title": say(words["title"], record_year=record_year), "cites": cites, "sentences": sentences,
            "rows": rows, "provinces": provinces, "citation": reg["citation"]}

