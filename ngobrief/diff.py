"""What changed between two warehouse editions: figures added, revised and removed, validation findings
new and resolved, snapshots changed, and changes in the code of sql/, expectations/ and templates/ —
so that "why did this number change?" has an answer whether the data or the code changed."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from . import editions, validate

# A figure is one row of marts.figures: the value of the source with the best priority for this key.
# A lower-priority source printing another value does not change it, so it is no revision.
FIGURE_KEY = ("year", "period", "as_of", "measure", "org_type", "definition_id")
FIGURE_FIELDS = ("value", "as_published", "unit", "source_id", "snapshot_id", "source_row")
FORMATS = ("table", "markdown", "json")


def _figures(con) -> dict[tuple, dict]:
    cols = ", ".join(FIGURE_KEY + FIGURE_FIELDS)
    rows = con.sql(f"SELECT {cols} FROM marts.figures ORDER BY ALL").pl().to_dicts()
    return {tuple(str(r[k]) if r[k] is not None else None for k in FIGURE_KEY): r for r in rows}


def _findings(con) -> dict[tuple, dict]:
    if not con.sql("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'audit' "
                   "AND table_name = 'validation_results'").fetchall():
        return {}
    return {(f["severity"], f["suite"], f["expectation"], f["description"]): f for f in validate.latest_findings(con)}


def _snapshots(con) -> dict[str, str]:
    return dict(con.sql("SELECT snapshot_id, sha256 FROM raw.snapshots ORDER BY 1").fetchall())


def _changes(old: dict, new: dict) -> dict[str, list]:
    return {"added": sorted(k for k in new if k not in old), "removed": sorted(k for k in old if k not in new),
            "changed": sorted(k for k in new if k in old and new[k] != old[k])}


def _figure(key: tuple, row: dict | None) -> dict:
    out = dict(zip(FIGURE_KEY, key))
    out["year"] = int(out["year"])
    return out


def _side(row: dict) -> dict:
    return {"value": row["value"], "as_published": row["as_published"], "source_id": row["source_id"],
            "snapshot_id": row["snapshot_id"], "source_row": row["source_row"]}


def compare(old_con, new_con, old_stamp: dict | None, new_stamp: dict | None) -> dict:
    """The differences from the edition on `old_con` to the one on `new_con` (both read-only)."""
    f_old, f_new = _figures(old_con), _figures(new_con)
    revised = [{**_figure(k, f_new[k]), "old": _side(f_old[k]), "new": _side(f_new[k])}
               for k in sorted(f_new, key=str) if k in f_old and f_old[k]["value"] != f_new[k]["value"]]
    added = [{**_figure(k, f_new[k]), "new": _side(f_new[k])} for k in sorted(f_new, key=str) if k not in f_old]
    removed = [{**_figure(k, f_old[k]), "old": _side(f_old[k])} for k in sorted(f_old, key=str) if k not in f_new]
    q_old, q_new = _findings(old_con), _findings(new_con)

    def finding(f):
        return {"severity": f["severity"], "suite": f["suite"], "description": f["description"],
                "rows": len(json.loads(f["unexpected_rows"] or "[]"))}

    code_old = (old_stamp or {}).get("code_files")
    code_new = (new_stamp or {}).get("code_files")
    return {
        "old": _label(old_stamp), "new": _label(new_stamp),
        "figures": {"added": added, "revised": revised, "removed": removed},
        "findings": {"new": [finding(q_new[k]) for k in sorted(q_new) if k not in q_old],
                     "resolved": [finding(q_old[k]) for k in sorted(q_old) if k not in q_new]},
        "snapshots": _changes(_snapshots(old_con), _snapshots(new_con)),
        # an edition adopted from before editions did not record its code: the change is unknown
        "code": _changes(code_old, code_new) if code_old and code_new is not None else None,
    }


def _label(stamp: dict | None) -> dict:
    return {"id": stamp["edition_id"], "number": stamp["number"]} if stamp else {"id": None, "number": None}


def compare_files(old_path: Path, new_path: Path) -> dict:
    old = duckdb.connect(str(old_path), read_only=True)
    new = duckdb.connect(str(new_path), read_only=True)
    try:
        return compare(old, new, editions.stamp_of(old), editions.stamp_of(new))
    finally:
        old.close()
        new.close()


def diff_editions(old: str | None = None, new: str | None = None, warehouse_path=None) -> dict:
    """Compare two kept editions (number, id or id prefix). NEW defaults to the published edition and
    OLD to the edition before NEW."""
    manifest = editions.read_manifest(warehouse_path)
    ordered = sorted(manifest["editions"], key=lambda e: e["number"])
    current = editions.published_id(warehouse_path)
    new_e = editions.entry(manifest, new) if new is not None else next((e for e in ordered if e["id"] == current), None)
    if new_e is None:
        raise editions.EditionError("no published edition yet: run `ngobrief run` first")
    if old is not None:
        old_e = editions.entry(manifest, old)
    else:
        earlier = [e for e in ordered if e["number"] < new_e["number"]]
        if not earlier:
            raise editions.EditionError(f"edition {new_e['number']} ({new_e['id']}) is the oldest kept: "
                                        "there is no earlier edition to compare it with")
        old_e = earlier[-1]
    folder = editions.home(warehouse_path)
    for e in (old_e, new_e):
        if not (folder / e["file"]).exists():
            raise editions.EditionError(f"edition {e['number']} ({e['id']}): its file {e['file']} is gone from {folder}")
    return compare_files(folder / old_e["file"], folder / new_e["file"])


def brief_summary(d: dict, limit: int = 8) -> dict:
    """What a brief says about the changes since the previous edition: counts, and the first revised figures."""
    return {"previous": d["old"], "counts": {
        "added": len(d["figures"]["added"]), "revised": len(d["figures"]["revised"]),
        "removed": len(d["figures"]["removed"]), "findings_new": len(d["findings"]["new"]),
        "findings_resolved": len(d["findings"]["resolved"]),
        "snapshots_changed": sum(len(v) for v in d["snapshots"].values()),
        "code_changed": None if d["code"] is None else sum(len(v) for v in d["code"].values())},
        "revised": d["figures"]["revised"][:limit]}


# --- output ---------------------------------------------------------------------------------------

def _what(f: dict) -> str:
    parts = [str(f["year"]), f["period"], f["org_type"], f["measure"]]
    if f.get("definition_id"):
        parts.append(f"({f['definition_id']})")
    if f.get("as_of") and f["period"] == "as_of":
        parts.insert(1, f["as_of"])
    return " ".join(p for p in parts if p)


def _src(s: dict) -> str:
    return f"{s['as_published']} [{s['source_id']}, {s['snapshot_id']} row {s['source_row']}]"


def lines(d: dict, *, markdown: bool = False) -> list[str]:
    def head(text):
        return ["", f"## {text}", ""] if markdown else ["", text.upper()]

    b = "- " if markdown else "  "
    ed = lambda e: f"edition {e['number']} ({e['id']})" if e["id"] else "a warehouse without an edition stamp"  # noqa: E731
    out = [("# " if markdown else "") + f"Changes from {ed(d['old'])} to {ed(d['new'])}"]
    fig = d["figures"]
    out += head(f"Figures: {len(fig['added'])} added, {len(fig['revised'])} revised, {len(fig['removed'])} removed")
    out += [f"{b}revised {_what(f)}: {_src(f['old'])} → {_src(f['new'])}" for f in fig["revised"]]
    out += [f"{b}added {_what(f)}: {_src(f['new'])}" for f in fig["added"]]
    out += [f"{b}removed {_what(f)}: was {_src(f['old'])}" for f in fig["removed"]]
    q = d["findings"]
    out += head(f"Validation findings: {len(q['new'])} new, {len(q['resolved'])} resolved")
    out += [f"{b}new {f['severity']} · {f['suite']}: {f['description']}" for f in q["new"]]
    out += [f"{b}resolved {f['severity']} · {f['suite']}: {f['description']}" for f in q["resolved"]]
    s = d["snapshots"]
    out += head(f"Snapshots: {len(s['added'])} added, {len(s['changed'])} changed, {len(s['removed'])} removed")
    out += [f"{b}{how} {sid}" for how in ("added", "changed", "removed") for sid in s[how]]
    c = d["code"]
    if c is None:
        out += head("Code: not recorded for the older edition (made before editions)")
    else:
        out += head(f"Code (sql/, expectations/, templates/): {len(c['added'])} added, {len(c['changed'])} changed, "
                    f"{len(c['removed'])} removed")
        out += [f"{b}{how} {p}" for how in ("added", "changed", "removed") for p in c[how]]
    return out


def render(d: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(d, ensure_ascii=False, indent=1, default=str) + "\n"
    if fmt not in FORMATS:
        raise editions.EditionError(f"unknown format {fmt!r}: use table, markdown or json")
    return "\n".join(lines(d, markdown=fmt == "markdown")) + "\n"
