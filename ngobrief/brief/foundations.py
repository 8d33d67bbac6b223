"""Foundations: participation by foundation type (the public / non-public split, from the year nearest
the edition when the edition's own year has none), the registered breakdown and overseas projects."""

from __future__ import annotations

import polars as pl

from .. import metrics
from .edition import Edition
from .figures import with_half_units
from .format import say
from .trends import FOUNDATION_TYPES

KEY = "foundations"
PROJECT_MEASURES = ("foundations_with_overseas_projects", "overseas_projects", "overseas_project_countries")


def build(ed: Edition) -> dict:
    if not any(t.startswith("foundation") for t in ed.types):
        return {"foundations": None}
    text, fmt, label, year = ed.text, ed.fmt, ed.label, ed.year
    shown = [t for t in FOUNDATION_TYPES if t in ed.types]
    split_types = [t for t in shown if t != "foundation"]
    part = metrics.participation(ed.con, None, shown).filter(pl.col("participation_pct").is_not_null())
    # No public / non-public split this year: show the observation nearest to the edition year.
    near = metrics.nearest_participation_year(ed.con, year, split_types) if split_types else None
    nearest = near if near is not None and near != year else None
    this_year = part.filter(pl.col("year") == year)
    if nearest is not None:
        this_year = pl.concat([this_year, part.filter(pl.col("year") == nearest)])
    rows = [{"type": label[r["org_type"]], "as_of": fmt.date(r["as_of"], "medium"),
             "engaged": fmt.count(r["engaged_international"]),
             "registered": fmt.count(r["registered"], r["registered_half_unit"]),
             "pct": fmt.pct(r["participation_pct"]),
             "definition": text["definition_glosses"].get(r["definition"], r["definition"] or ""),
             "cites": ed.cite(r["source_ids"])}
            for r in with_half_units(ed.con, this_year.to_dicts())]
    sentences = _sentences(ed, this_year, nearest)
    register = metrics.registered(ed.con, year).filter(pl.col("org_type").str.starts_with("foundation_")).to_dicts()
    breakdown = [{"type": label[r["org_type"]], "value": fmt.count(r["registered"], r["half_unit"]),
                  "as_of": fmt.date(r["as_of"], "medium"), "cites": ed.cite(r["source_id"])} for r in register]
    sentences += _projects(ed)
    definitions = [{"as_of": text["list_sep"].join(dict.fromkeys(r["as_of"] for r in rows if r["definition"] == d)),
                    "text": d} for d in dict.fromkeys(r["definition"] for r in rows if r["definition"])]
    return {"foundations": {"rows": rows, "sentences": sentences, "breakdown": breakdown,
                            "definitions": definitions}}


def _sentences(ed: Edition, this_year: pl.DataFrame, nearest: int | None) -> list[dict]:
    text, fmt = ed.text, ed.fmt
    sentences = []
    if nearest is not None:
        sentences.append({"text": say(text["foundations"]["nearest"], year=ed.year, nearest=nearest), "cites": []})
    by_type = {r["org_type"]: r for r in this_year.to_dicts()}
    if "foundation_public" in by_type and "foundation_nonpublic" in by_type:
        pub, non = by_type["foundation_public"], by_type["foundation_nonpublic"]
        sentences.append({"text": say(text["foundations"]["split"], date=fmt.date(pub["as_of"]),
                                      public=fmt.count(pub["engaged_international"]),
                                      public_pct=fmt.pct(pub["participation_pct"]),
                                      nonpublic=fmt.count(non["engaged_international"]),
                                      nonpublic_pct=fmt.pct(non["participation_pct"])),
                          "cites": ed.cite(pub["source_ids"], non["source_ids"])})
    return sentences


def _projects(ed: Edition) -> list[dict]:
    """Foundations running overseas projects, the projects and the countries, when all three are printed."""
    projects = {r["measure"]: r for r in metrics.figures(ed.con, list(PROJECT_MEASURES), ed.year).to_dicts()}
    if len(projects) != 3:
        return []
    f, p, c = (projects[m] for m in PROJECT_MEASURES)
    return [{"text": say(ed.text["foundations"]["projects"], foundations=ed.fmt.count(f["value"]),
                         projects=ed.fmt.count(p["value"]), countries=ed.fmt.count(c["value"]), year=ed.year),
             "cites": ed.cite(f["source_id"], p["source_id"], c["source_id"])}]
