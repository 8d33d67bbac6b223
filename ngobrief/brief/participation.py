"""Participation by type: the table (great_tables) of engaged and registered counts, the ratio, the
published share and whether it agrees, with the definitions of "engaged" the rows use."""

from __future__ import annotations

import polars as pl
from markupsafe import Markup

from .edition import Edition
from .format import Citations, Formatter, cite_text, digits, say
from .landscape import no_engagement

KEY = "participation"


def build(ed: Edition) -> dict:
    participation = {"table": participation_table(ed.rows, ed.text, ed.fmt, ed.cite), "definitions": [],
                     "no_engagement": no_engagement(ed.types, {r["org_type"] for r in ed.rows}, ed.label, ed.text,
                                                    ed.year, say)}
    for d in dict.fromkeys(r["definition"] for r in ed.rows if r["definition"]):
        participation["definitions"].append({
            "types": ed.text["list_sep"].join(ed.label[r["org_type"]] for r in ed.rows if r["definition"] == d),
            "text": ed.text["definition_glosses"].get(d, d)})
    return {"participation": participation}


def participation_table(rows: list[dict], text: dict, fmt: Formatter, cite: Citations) -> Markup:
    """The participation table, built with great_tables (it escapes every cell)."""
    from great_tables import GT, loc, style

    col = text["columns"]
    frame = pl.DataFrame({
        "org_type": [text["org_types"][r["org_type"]] for r in rows],
        "as_of": [fmt.date(r["as_of"], "medium") for r in rows],
        "engaged": [fmt.count(r["engaged_international"]) for r in rows],
        "registered": [fmt.count(r["registered"], r["registered_half_unit"]) for r in rows],
        "pct": [fmt.pct(r["participation_pct"]) for r in rows],
        "published": [fmt.pct(r["published_share_pct"], digits(r["published_half_unit"]))
                      if r["published_share_pct"] is not None else None for r in rows],
        "check": [text["check"]["none"] if r["published_disagrees"] is None else
                  text["check"]["disagrees"] if r["published_disagrees"] else text["check"]["agrees"] for r in rows],
        "sources": [cite_text(cite(r["source_ids"])) for r in rows],
    }, schema={k: pl.String for k in ("org_type", "as_of", "engaged", "registered", "pct", "published", "check",
                                      "sources")})
    flagged = [i for i, r in enumerate(rows) if r["published_disagrees"]]
    gt = (GT(frame, id="participation-table")
          .cols_label(org_type=col["org_type"], as_of=col["as_of"], engaged=col["engaged"],
                      registered=col["registered"], pct=col["pct"], published=col["published"],
                      check=col["check"], sources=col["sources"])
          .tab_spanner(label=col["counts"], columns=["engaged", "registered"])
          .tab_spanner(label=col["ratios"], columns=["pct", "published", "check"])
          .cols_align(align="right", columns=["engaged", "registered", "pct", "published"])
          .sub_missing(missing_text=text["gap"])
          .tab_source_note(text["participation_note"])
          .opt_table_font(font=text["font_family"])
          .tab_options(table_width="100%", table_font_size="8.5pt", column_labels_font_weight="bold",
                       table_border_top_color="#0b3d62", column_labels_border_bottom_color="#333333",
                       table_body_hlines_color="#dddddd", data_row_padding="3px", source_notes_font_size="7.5pt"))
    if flagged:
        gt = gt.tab_style(style=[style.fill(color="#fff1dc"), style.text(color="#8a4b00")],
                          locations=loc.body(rows=flagged))
    return Markup(gt.as_raw_html())

