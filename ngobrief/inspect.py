"""Looking inside the warehouse: its catalog, a user's own read-only queries, exports to files, and
the lineage of a figure back to the published rows, snapshot files and source documents."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import re
import unicodedata
from pathlib import Path

import duckdb
import polars as pl

from . import config
from .errors import NgobriefError

FORMATS = ("table", "csv", "json", "markdown")
EXPORT_SUFFIXES = (".parquet", ".csv", ".xlsx")

# A text cell starting with one of these is read as a formula by spreadsheet programs (=1+1, +1,
# -1+cmd|..., @SUM(...)); a leading tab or carriage return can hide one (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class QueryError(NgobriefError):
    """A user's query that the warehouse cannot or will not run."""


# --- the catalog ---------------------------------------------------------------------------------

def _objects(con) -> list[tuple[str, str, str, str | None]]:
    """(schema, name, kind, comment) for every table and view of the warehouse itself."""
    return con.sql("""
        SELECT schema_name, table_name, 'table', comment FROM duckdb_tables()
        WHERE NOT internal AND database_name = current_database()
        UNION ALL
        SELECT schema_name, view_name, 'view', comment FROM duckdb_views()
        WHERE NOT internal AND database_name = current_database() AND schema_name <> 'main'
        ORDER BY 1, 2""").fetchall()


def _quoted(schema: str, name: str) -> str:
    # identifiers cannot be bound as parameters: they come from the catalog and are quoted here
    return '"' + schema.replace('"', '""') + '"."' + name.replace('"', '""') + '"'


def catalog(con) -> pl.DataFrame:
    """Every table and view: schema, name, kind, row count and the first line of its COMMENT ON."""
    rows = []
    for schema, name, kind, comment in _objects(con):
        n = con.sql(f"SELECT count(*) FROM {_quoted(schema, name)}").fetchall()[0][0]
        rows.append((schema, name, kind, n, (comment or "").strip().splitlines()[0] if comment else ""))
    return pl.DataFrame(rows, schema={"schema": pl.Utf8, "name": pl.Utf8, "kind": pl.Utf8,
                                      "rows": pl.Int64, "description": pl.Utf8}, orient="row")


def resolve(con, name: str) -> tuple[str, str, str]:
    """(schema, name, kind) for 'schema.name' or an unqualified name that only one schema has."""
    objects = {(s, n): k for s, n, k, _ in _objects(con)}
    if "." in name:
        schema, _, bare = name.partition(".")
        hits = [(s, n) for (s, n) in objects if s.lower() == schema.lower() and n.lower() == bare.lower()]
    else:
        hits = [(s, n) for (s, n) in objects if n.lower() == name.lower()]
    if len(hits) == 1:
        return (*hits[0], objects[hits[0]])
    if len(hits) > 1:
        raise QueryError(f"{name!r} is in several schemas: "
                         + ", ".join(f"{s}.{n}" for s, n in sorted(hits)) + "; name one of them")
    bare = name.rpartition(".")[2].lower()
    near = sorted(f"{s}.{n}" for (s, n) in objects if bare in n.lower() or n.lower() in bare)
    hint = f" (did you mean {', '.join(near)}?)" if near else ""
    raise QueryError(f"no table or view named {name!r} in the warehouse{hint}; "
                     "`ngobrief warehouse tables` lists them")


def describe(con, name: str) -> dict:
    """A table or view: its kind, description, key, the sql/ file that defines it and its columns."""
    schema, bare, kind = resolve(con, name)
    comment = next(c for s, n, _, c in _objects(con) if (s, n) == (schema, bare))
    columns = con.sql("""
        SELECT column_name AS "column", data_type AS type,
               CASE WHEN is_nullable THEN '' ELSE 'not null' END AS "null",
               coalesce(comment, '') AS comment
        FROM duckdb_columns()
        WHERE database_name = current_database() AND schema_name = $schema AND table_name = $name
        ORDER BY column_index""", params={"schema": schema, "name": bare}).pl()
    keys = con.sql("""
        SELECT constraint_type, constraint_column_names FROM duckdb_constraints()
        WHERE database_name = current_database() AND schema_name = $schema AND table_name = $name
          AND constraint_type IN ('PRIMARY KEY', 'UNIQUE')""",
                   params={"schema": schema, "name": bare}).fetchall()
    rows = con.sql(f"SELECT count(*) FROM {_quoted(schema, bare)}").fetchall()[0][0]
    source = config.SQL_DIR / schema / f"{bare}.sql"
    if columns["comment"].str.len_chars().sum() == 0:
        columns = columns.drop("comment")  # no COMMENT ON COLUMN yet: an empty column says nothing
    return {
        "name": f"{schema}.{bare}", "kind": kind, "rows": rows, "description": comment or "",
        "keys": [f"{t.lower()} ({', '.join(cols)})" for t, cols in keys],
        "defined_in": str(source.relative_to(config.ROOT)) if source.exists() else None,
        "columns": columns,
    }


# --- a user's own queries ------------------------------------------------------------------------

def run_query(con, sql: str) -> pl.DataFrame:
    """A query's result, with DuckDB's refusals and mistakes turned into messages a user can act on.
    `con` should come from warehouse.connect_for_reading: then nothing the query does can change the
    warehouse or touch a file."""
    try:
        rel = con.sql(sql)
        return rel.pl() if rel is not None else pl.DataFrame()
    except duckdb.Error as exc:
        raise QueryError(_explain(exc)) from None


def _explain(exc: duckdb.Error) -> str:
    text = str(exc).strip()
    m = re.search(r'statement of type "(\w+)".*read-only mode', text)
    if m:
        return (f"the warehouse is open read-only here: a {m.group(1)} statement is refused. "
                "The warehouse changes only through the pipeline (`ngobrief pull`, `ngobrief run`), "
                "so that every figure in it traces to a snapshot")
    if "file system operations are disabled" in text or "disabled by configuration" in text:
        return ("queries here cannot read or write files (ATTACH, COPY, read_csv, INSTALL are off): "
                "to write a result to a file use `ngobrief warehouse export \"QUERY\" --to FILE`; "
                f"DuckDB said: {text.splitlines()[0]}")
    return text


def read_target(con, table_or_query: str) -> tuple[pl.DataFrame, str]:
    """A table or view by name (schema.name), or else the result of a query; and a short label."""
    if _IDENTIFIER.match(table_or_query.strip()):
        schema, name, _ = resolve(con, table_or_query.strip())
        return run_query(con, f"SELECT * FROM {_quoted(schema, name)}"), f"{schema}.{name}"
    return run_query(con, table_or_query), "query"


# --- formats -------------------------------------------------------------------------------------

def _nested_as_json(df: pl.DataFrame) -> pl.DataFrame:
    """Lists and structs as JSON text: CSV and spreadsheet cells hold text, not lists."""
    nested = [c for c, t in df.schema.items() if t.is_nested()]
    return df.with_columns(
        pl.Series(c, [None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                      for v in df[c].to_list()], dtype=pl.Utf8) for c in nested)


def escape_formula(text: str | None) -> str | None:
    """A text a spreadsheet would run as a formula, made plain text with a leading apostrophe."""
    if text and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _cell(value, *, for_table: bool) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        if for_table and math.isfinite(value):
            if value.is_integer() and abs(value) < 1e15:
                return str(int(value))
            return f"{value:.6g}"
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _clip(text: str, limit: int) -> str:
    if _width(text) <= limit:
        return text
    out, w = "", 0
    for ch in text:
        w += _width(ch)
        if w > limit - 1:
            break
        out += ch
    return out + "…"


def _as_text_table(df: pl.DataFrame, max_cell: int = 48, noun: str = "row") -> str:
    """Aligned columns for a terminal (CJK characters count double); long cells are clipped except in
    the last column, and numbers are rounded for reading: csv or json carry every digit."""
    if df.width == 0:
        return "(no result)\n"
    header = list(df.columns)
    body = [[_cell(v, for_table=True).replace("\n", " ") for v in row] for row in df.iter_rows()]
    last = len(header) - 1
    body = [[c if i == last else _clip(c, max_cell) for i, c in enumerate(r)] for r in body]
    widths = [max([_width(h)] + [_width(r[i]) for r in body]) for i, h in enumerate(header)]
    numeric = [df.schema[c].is_numeric() for c in header]

    def line(cells):
        parts = []
        for i, c in enumerate(cells):
            pad = " " * (widths[i] - _width(c))
            parts.append(pad + c if numeric[i] else (c if i == last else c + pad))
        return "  ".join(parts).rstrip()

    out = [line(header), "  ".join("-" * min(w, 60) for w in widths)] + [line(r) for r in body]
    out.append(f"({df.height} {noun}{'s' if df.height != 1 else ''})")
    return "\n".join(out) + "\n"


def _as_markdown(df: pl.DataFrame) -> str:
    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\r", " ").replace("\n", " ")

    lines = ["| " + " | ".join(esc(c) for c in df.columns) + " |",
             "|" + "|".join("---:" if t.is_numeric() else "---" for t in df.schema.values()) + "|"]
    lines += ["| " + " | ".join(esc(_cell(v, for_table=True)) for v in row) + " |" for row in df.iter_rows()]
    return "\n".join(lines) + "\n"


def _jsonable(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def format_frame(df: pl.DataFrame, fmt: str, *, noun: str = "row") -> str:
    """A result as text: an aligned table, CSV, JSON (a list of objects) or a Markdown table."""
    if fmt == "csv":
        return _nested_as_json(df).write_csv()
    if fmt == "json":
        return json.dumps(_jsonable(df.to_dicts()), ensure_ascii=False, default=str, indent=1) + "\n"
    if fmt == "markdown":
        return _as_markdown(df)
    if fmt == "table":
        return _as_text_table(df, noun=noun)
    raise QueryError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")


# --- exports -------------------------------------------------------------------------------------

def export(df: pl.DataFrame, to: Path, *, sheet: str = "data") -> Path:
    """Write a result to .parquet (exact types), .csv (UTF-8 with BOM so that spreadsheets read
    Chinese) or .xlsx. In CSV and XLSX a text cell that a spreadsheet would run as a formula stays
    text. The file appears whole or not at all."""
    to = Path(to)
    suffix = to.suffix.lower()
    if suffix not in EXPORT_SUFFIXES:
        raise QueryError(f"cannot export to {to.name}: the file name must end in "
                         + ", ".join(EXPORT_SUFFIXES))
    if not to.parent.is_dir():
        raise QueryError(f"cannot export to {to}: folder {to.parent} does not exist")
    partial = to.with_name(f".{to.name}.partial")
    try:
        if suffix == ".parquet":
            df.write_parquet(partial)
        elif suffix == ".csv":
            flat = _nested_as_json(df)
            flat = flat.with_columns(pl.col(c).map_elements(escape_formula, return_dtype=pl.Utf8)
                                     for c, t in flat.schema.items() if t == pl.Utf8)
            flat = flat.rename({c: escape_formula(c) for c in flat.columns})   # a query may name a column =...
            flat.write_csv(partial, include_bom=True)
        else:
            _write_xlsx(_nested_as_json(df), partial, sheet)
        os.replace(partial, to)
    finally:
        partial.unlink(missing_ok=True)
    return to


def _write_xlsx(df: pl.DataFrame, path: Path, sheet: str) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    if df.height + 1 > 1_048_576:
        raise QueryError(f"{df.height} rows do not fit in one spreadsheet (1,048,575 at most): "
                         "export to .parquet or .csv")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(re.sub(r"[\[\]:*?/\\]", "_", sheet)[:31] or "data")
    ws.freeze_panes = "A2"
    for i, name in enumerate(df.columns, start=1):
        # wide enough for the header and the longest value, up to 60 characters (CJK count double)
        longest = max([_width(name)] + [_width(_cell(v, for_table=True)) for v in df[name].head(1000).to_list()])
        ws.column_dimensions[get_column_letter(i)].width = min(longest + 2, 60)
    bold = Font(bold=True)
    header = []
    for name in df.columns:
        c = WriteOnlyCell(ws, value=name)
        c.font = bold
        c.data_type = "s"                      # a column a query names =... is a heading, not a formula
        c.quotePrefix = name.startswith(FORMULA_STARTS)
        header.append(c)
    ws.append(header)
    for row in df.iter_rows():
        cells = []
        for v in row:
            if isinstance(v, dt.datetime) and v.tzinfo is not None:
                v = v.isoformat()
            if isinstance(v, str):
                # control characters are not allowed in a sheet: show them as \xNN escapes
                v = ILLEGAL_CHARACTERS_RE.sub(lambda m: f"\\x{ord(m.group()):02x}", v)
            c = WriteOnlyCell(ws, value=v)
            if isinstance(v, str):
                # openpyxl stores any text starting with '=' as a formula: force a plain text cell,
                # and mark risky ones as quoted text, as a spreadsheet does for a typed '=1+1
                c.data_type = "s"
                if v.startswith(FORMULA_STARTS):
                    c.quotePrefix = True
            cells.append(c)
        ws.append(cells)
    wb.save(path)


# --- lineage -------------------------------------------------------------------------------------

# marts.participation divides one published figure by another; these columns name the source of each.
PARTICIPATION_MEASURES = ("participation_ratio", "participation_pct")
PARTICIPATION_INPUTS = (("engaged_international", "engaged_source_id"),
                        ("registered", "registered_source_id"),
                        ("published_share_pct", "published_source_id"))


def lineage(con, year: int, org_type: str, measure: str, *, period: str | None = None,
            as_of: str | dt.date | None = None) -> list[dict]:
    """Where a figure comes from: for each matching figure (one per period and date: quarterly and
    year-end figures stay apart), every staging row that gave it — the chosen one first, by source
    priority —, the raw row as loaded, the snapshot file with its sha256, and the source document."""
    params = {"year": year, "org_type": org_type, "period": period,
              "as_of": dt.date.fromisoformat(as_of) if isinstance(as_of, str) else as_of}
    where = ("year = $year AND org_type = $org_type AND ($period IS NULL OR period = $period) "
             "AND ($as_of IS NULL OR as_of = $as_of)")
    if measure in PARTICIPATION_MEASURES:
        rows = con.sql(f"SELECT * FROM marts.participation WHERE {where} ORDER BY as_of, period",
                       params=params).pl().to_dicts()
        found = []
        for r in rows:
            inputs = []
            for m, source_col in PARTICIPATION_INPUTS:
                expected = r.get(source_col)
                if expected is None:
                    continue
                inputs.extend(_figure_lineage(con, {**_key(r), "measure": m}, expected_source=expected))
            scale = 100 if measure == "participation_pct" else 1
            bounds = [r.get("participation_pct_low"), r.get("participation_pct_high")]
            found.append({"figure": {**_key(r), "measure": measure, "value": r[measure],
                                     "from": "marts.participation",
                                     "computed_as": "engaged_international / registered"
                                     + (" × 100" if scale == 100 else ""),
                                     "bounds": None if None in bounds else [b * scale / 100 for b in bounds]},
                          "inputs": inputs})
    else:
        rows = con.sql(f"SELECT * FROM marts.figures WHERE measure = $measure AND {where} ORDER BY as_of, period",
                       params={**params, "measure": measure}).pl().to_dicts()
        found = [{"figure": {**_key(r), "measure": measure, "value": r["value"], "from": "marts.figures"},
                  "inputs": _figure_lineage(con, {**_key(r), "measure": measure})} for r in rows]
    if not found:
        raise QueryError(_nothing_found(con, year, org_type, measure, period, params["as_of"]))
    return found


def _key(row: dict) -> dict:
    return {k: row[k] for k in ("year", "period", "as_of", "org_type")}


def _figure_lineage(con, key: dict, expected_source: str | None = None) -> list[dict]:
    chosen = con.sql("""
        SELECT * FROM marts.figures WHERE year = $year AND period = $period AND as_of = $as_of
          AND org_type = $org_type AND measure = $measure""", params=key).pl().to_dicts()
    if not chosen:
        return []
    chosen = chosen[0]
    observations = con.sql("""
        SELECT o.*, s.priority_rank, s.publisher, s.title, s.url, s.published, s.kind
        FROM staging.observations AS o LEFT JOIN staging.sources AS s USING (source_id)
        WHERE o.year = $year AND o.period = $period AND o.as_of = $as_of
          AND o.org_type = $org_type AND o.measure = $measure
        ORDER BY s.priority_rank NULLS LAST, o.source_id, o.snapshot_id, o.source_row""",
                           params=key).pl().to_dicts()
    rows = []
    for o in observations:
        snap = con.sql("SELECT * FROM raw.snapshots WHERE snapshot_id = $s",
                       params={"s": o["snapshot_id"]}).pl().to_dicts()
        rows.append({
            "chosen": _cell_of(o) == _cell_of(chosen),
            "staging": {k: o[k] for k in ("value", "as_published", "half_unit", "unit", "source_id", "note",
                                          "snapshot_id", "source_row", "source_column") if k in o},
            **dict(zip(("raw_table", "raw"), _raw_row(con, o))),
            "snapshot": {**snap[0], "file_on_disk": _file_check(snap[0])} if snap else None,
            "source": {k: o[k] for k in ("source_id", "priority_rank", "publisher", "title", "url",
                                         "published", "kind")},
        })
    item = {"measure": key["measure"], "value": chosen["value"], "as_published": chosen["as_published"],
            "source_id": chosen["source_id"], "n_sources": chosen["n_sources"], "observations": rows}
    if expected_source is not None and expected_source != chosen["source_id"]:
        item["mismatch"] = (f"marts.participation names source {expected_source} but marts.figures "
                            f"chose {chosen['source_id']}")
    return [item]


def _cell_of(row: dict) -> tuple:
    """Where in a snapshot a figure was read: file row, and the column where the layout has several."""
    return (row["snapshot_id"], row["source_row"], row.get("source_column"))


def _raw_row(con, o: dict) -> tuple[str | None, dict | None]:
    """The snapshot row as loaded, every cell as text: from raw.observations (one figure per row), or
    from raw.table_cells (wide tables: a row holds several figures) where the warehouse has it."""
    raw = con.sql("SELECT * EXCLUDE (snapshot_id, source_row) FROM raw.observations "
                  "WHERE snapshot_id = $s AND source_row = $r",
                  params={"s": o["snapshot_id"], "r": o["source_row"]}).pl().to_dicts()
    if raw:
        return "raw.observations", raw[0]
    has_cells = con.sql("SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
                        "AND schema_name = 'raw' AND table_name = 'table_cells'").fetchall()[0][0]
    if not has_cells:
        return None, None
    cells = con.sql("SELECT column_no, column_name, cell FROM raw.table_cells "
                    "WHERE snapshot_id = $s AND source_row = $r ORDER BY column_no",
                    params={"s": o["snapshot_id"], "r": o["source_row"]}).fetchall()
    row = {(name or f"column {no}"): cell for no, name, cell in cells}
    return ("raw.table_cells", row) if row else (None, None)


def _file_check(snapshot: dict) -> str:
    """Whether the snapshot file in this checkout still has the bytes that were loaded."""
    path = config.DATA_DIR / snapshot["file"]
    if not path.is_file():
        return "not found"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return "matches sha256" if digest == snapshot["sha256"] else f"differs (sha256 now {digest})"


def _nothing_found(con, year, org_type, measure, period, as_of) -> str:
    what = f"{measure} for {org_type} in {year}" + (f" ({period})" if period else "") + \
        (f" as of {as_of}" if as_of else "")
    there = con.sql("""SELECT DISTINCT measure, org_type FROM marts.figures WHERE year = $year
                       ORDER BY ALL""", params={"year": year}).fetchall()
    if not there:
        years = [r[0] for r in con.sql("SELECT DISTINCT year FROM marts.figures ORDER BY 1").fetchall()]
        return f"no figure for {year}: the warehouse has figures for {', '.join(map(str, years))}"
    measures = sorted({m for m, t in there if t == org_type})
    if measures and con.sql("SELECT count(*) FROM marts.participation WHERE year = $y AND org_type = $t "
                            "AND participation_pct IS NOT NULL", params={"y": year, "t": org_type}).fetchall()[0][0]:
        measures += list(PARTICIPATION_MEASURES)
    if measures:
        return f"no {what}; for {org_type} in {year} there is: {', '.join(measures)}"
    types = sorted({t for _, t in there})
    return f"no {what}; org types with figures in {year}: {', '.join(types)}"


def _num(value) -> str:
    """Every digit DuckDB holds, without a trailing .0 on whole numbers."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return "NULL" if value is None else str(value)


def format_lineage(items: list[dict]) -> str:
    """The lineage as text for a terminal: figure, then each input with its rows, file and source."""
    out: list[str] = []
    for item in items:
        f = item["figure"]
        out.append(f"{f['measure']} · {f['org_type']} · {f['year']} {f['period']} (as of {f['as_of']}): "
                   f"{_num(f['value'])}   [{f['from']}]")
        if "computed_as" in f:
            out.append(f"  computed as {f['computed_as']}")
        if f.get("bounds"):
            out.append(f"  between {_num(f['bounds'][0])} and {_num(f['bounds'][1])} given the precision "
                       "of the printed counts")
        for inp in item["inputs"]:
            out.append("")
            out.append(f"  {inp['measure']} = {_num(inp['value'])} "
                       f"(printed {inp['as_published']!r}), chosen source {inp['source_id']}; "
                       f"{inp['n_sources']} source{'s' if inp['n_sources'] != 1 else ''} printed this figure")
            if "mismatch" in inp:
                out.append(f"  WARNING: {inp['mismatch']}")
            for o in inp["observations"]:
                s, st, raw, snap = o["source"], o["staging"], o["raw"], o["snapshot"]
                out.append(f"    {'chosen' if o['chosen'] else 'also  '} {s['source_id']} "
                           f"(priority {s['priority_rank']}): {s['publisher']}, {s['title']}, "
                           f"published {s['published']}, {s['kind']}")
                if s["url"]:
                    out.append(f"           url {s['url']}")
                out.append(f"           staging.observations: value {_num(st['value'])} "
                           f"± {_num(st['half_unit'])} {st['unit']}"
                           + (f"; note {st['note']}" if st["note"] else ""))
                if raw:
                    cells = " ".join(f"{k}={v!r}" for k, v in raw.items() if v is not None)
                    out.append(f"           {o['raw_table']} (snapshot {st['snapshot_id']}, row {st['source_row']}"
                               + (f", column {st['source_column']}" if st.get("source_column") else "")
                               + f"): {cells}")
                if snap:
                    when = "".join(f", {label} {snap[k]}" for k, label in (("fetched_at", "fetched"), ("loaded_at", "loaded"))
                                   if snap.get(k) is not None)
                    out.append(f"           snapshot {snap['snapshot_id']}: data/{snap['file']} row {st['source_row']} (header = 1), "
                               f"sha256 {snap['sha256']}, {snap['bytes']} bytes{when}, "
                               f"from {snap['origin']}; file in this checkout {snap['file_on_disk']}")
        if not item["inputs"]:
            out.append("  (no input figures found)")
        out.append("")
    return "\n".join(out)
