"""The RICF foundation register (data/RICF_CODEBOOK.md): one row per foundation. Only the codebook's
fields are read: the names, contact details and address columns of the source file never leave it."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ...errors import InputError
from .. import coerce, contract
from ..checks import drop_repeats, today
from ..published import parse_published
from ..read import Parsed, Source, Table, norm_header, text_frame

NAME = "ricf_tsv"
DESCRIPTION = "the RICF foundation register"
TARGETS = ("raw.register_foundations", "staging.register_foundations")
DETECT_ORDER = 30
SCREEN_HEADER_ROWS = 2     # personal columns are looked for in both header rows (names, then codes)
NEEDS_SOURCE_ID = True     # rows name no document: the snapshot's source is cited for them
CONTRACT = Path(__file__).with_suffix(".toml")

_CONTRACT = contract.load(CONTRACT)
# The codebook's fields by code, with the 2013 codebook's Chinese name (the raw table's columns).
RICF_FIELDS = {c.name: c.names[0] for c in _CONTRACT.columns.values()}
# Columns of the original RICF file that name or locate a person or office: dropped at ingest.
RICF_PERSONAL = dict(contract.declared(CONTRACT).get("personal", {}))
PERSONAL = (*RICF_PERSONAL, *RICF_PERSONAL.values())
REGISTER_COLUMNS = (
    "record_year", "ricf_oid", "name_zh", "name_en", "registration_no", "org_code", "mission",
    "business_scope", "focus_areas", "international_focus", "org_type", "foundation_type_as_published",
    "scope", "scope_as_published", "registering_authority", "supervisory_unit", "founded_on",
    "founded_as_published", "endowment_yuan", "endowment_as_published", "endowment_half_unit",
    "province", "province_as_published", "city", "leaders_state_employees",
    "leaders_former_senior_officials", "full_time_staff", "volunteers", "evaluation_grade",
    "special_funds", "tax_status", "source_id", "source_row")
FOUNDATION_TYPES = {"公募": "foundation_public", "非公募": "foundation_nonpublic"}
SCOPES = {"全国": "national", "地方": "local"}
INTERNATIONAL_AFFAIRS = "国际事务"
# Provinces: Chinese name -> the register's (pinyin) spelling, as coercions.toml declares them.
PROVINCES = dict(coerce.declared()["provinces"])
_REGISTER_CODES = {
    "record_year": "ba_rdt", "name_zh": "ba_cn", "name_en": "ba_en", "registration_no": "ba_rid",
    "org_code": "ba_org", "mission": "ba_msn", "business_scope": "ba_srv", "focus_areas": "ba_fcs",
    "international_focus": "ba_fcs", "org_type": "ba_ntr", "foundation_type_as_published": "ba_ntr",
    "scope": "ba_rng", "scope_as_published": "ba_rng", "registering_authority": "ba_reg",
    "supervisory_unit": "ba_sup", "founded_on": "ba_fdt", "founded_as_published": "ba_fdt",
    "endowment_yuan": "ba_fnd", "endowment_as_published": "ba_fnd", "endowment_half_unit": "ba_fnd",
    "province": "ba_prv", "province_as_published": "ba_prv", "city": "ba_ct",
    "leaders_state_employees": "ba_gvm", "leaders_former_senior_officials": "ba_pgv", "full_time_staff": "ba_nfe",
    "volunteers": "ba_nv", "evaluation_grade": "ba_evl", "special_funds": "ba_sf", "tax_status": "ba_tax",
}
_SHOWN = 3   # rows named one by one in a note before the rest are counted
_LIST_SEPARATORS = re.compile(r"[，,、；;]")
_COUNTS = {"ba_gvm": "leaders_state_employees", "ba_pgv": "leaders_former_senior_officials",
           "ba_nfe": "full_time_staff", "ba_nv": "volunteers", "ba_sf": "special_funds"}


def _split_list(text: str | None) -> list[str] | None:
    return None if coerce.is_missing(text) else [p.strip() for p in _LIST_SEPARATORS.split(text) if p.strip()]


_TYPES = {
    "record_year": pl.Int32, "ricf_oid": pl.Int64, "name_zh": pl.Utf8, "name_en": pl.Utf8,
    "registration_no": pl.Utf8, "org_code": pl.Utf8, "mission": pl.Utf8, "business_scope": pl.Utf8,
    "focus_areas": pl.List(pl.Utf8), "international_focus": pl.Boolean, "org_type": pl.Utf8,
    "foundation_type_as_published": pl.Utf8, "scope": pl.Utf8, "scope_as_published": pl.Utf8,
    "registering_authority": pl.Utf8, "supervisory_unit": pl.Utf8, "founded_on": pl.Date,
    "founded_as_published": pl.Utf8, "endowment_yuan": pl.Float64, "endowment_as_published": pl.Utf8,
    "endowment_half_unit": pl.Float64, "province": pl.Utf8, "province_as_published": pl.Utf8,
    "city": pl.Utf8, "leaders_state_employees": pl.Int32, "leaders_former_senior_officials": pl.Int32,
    "full_time_staff": pl.Int32, "volunteers": pl.Int32, "evaluation_grade": pl.Utf8,
    "special_funds": pl.Int64, "tax_status": pl.List(pl.Utf8), "source_id": pl.Utf8,
    "source_row": pl.Int64}


def detect(table: Table) -> bool:
    codes, names = _id_headers()
    first = {contract.key(c) for c in table.rows[0][1]}
    second = {contract.key(c) for c in table.rows[1][1]} if len(table.rows[:2]) > 1 else set()
    return bool(first & (codes | names) or second & codes)


def _id_headers() -> tuple[set[str], set[str]]:
    oid = _CONTRACT.columns["ricf_oid"]
    return {contract.key(h) for h in oid.code}, {contract.key(h) for h in oid.names}


def _header_row(table: Table) -> int:
    """Which of the first two rows is the header: the original file has two (Chinese names, then
    codes), the bundled one only the codes, a hand export only the Chinese names."""
    codes, names = _id_headers()
    rows = [{contract.key(c) for c in cells} for _, cells in table.rows[:2]]
    for i, row in enumerate(rows):
        if row & codes or (row & names and not (i + 1 < len(rows) and rows[i + 1] & codes)):
            return i
    raise InputError(table.name, "not an RICF register: no ricf_oid (机构ID) column in the first two rows",
                     row=table.rows[0][0], hint="see data/RICF_CODEBOOK.md")


def parse(source: Source) -> Parsed:
    """The RICF foundation register: one row per foundation (see data/RICF_CODEBOOK.md). Columns are
    matched by the contract (ricf_tsv.toml); a missing optional column is NULL, and the drift is reported."""
    table = source.table()
    name = table.name
    at = _header_row(table)
    header = [norm_header(c) for c in table.rows[at][1]]
    personal = {contract.key(h) for h in PERSONAL}
    found = _CONTRACT.with_source(source.overrides).resolve(header, name, table.rows[at][0],
                                                            personal=lambda h: contract.key(h) in personal)
    _, frame = text_frame(table, at, columns=set(found.columns.values()))
    raw = (frame.rename({h: code for code, h in found.columns.items()})
           .with_columns([pl.lit(None, pl.Utf8).alias(c) for c in RICF_FIELDS if c not in found.columns])
           .select(["source_row", *RICF_FIELDS]))
    if raw.height == 0:
        raise InputError(name, "the register has a header but no foundations")
    spelled = {code: found.columns.get(code, code) for code in RICF_FIELDS}
    out = [_typed_row(r, name, spelled, source.source_id) for r in raw.iter_rows(named=True)]
    typed = pl.DataFrame(out, schema=_TYPES).select(REGISTER_COLUMNS)
    typed, notes = _drop_repeats(typed, raw, name, spelled)
    dropped = [h for h in header if contract.key(h) in personal]
    if dropped:
        notes.append(f"dropped personal and contact fields at ingest: {', '.join(sorted(dropped))}")
    moved = typed.filter(pl.col("province") != pl.col("province_as_published"))
    for r in moved.head(_SHOWN).select("source_row", "province_as_published", "province").iter_rows():
        notes.append(f"row {r[0]}: province {r[1]!r} written as {r[2]!r}, the register's spelling")
    if moved.height > _SHOWN:   # a register written in Chinese throughout: a few examples, then the count
        notes.append(f"... and {moved.height - _SHOWN} more rows whose province is written in Chinese")
    drift = found.drift()
    return Parsed(raw, typed, table.encoding, table.sheet, notes + contract.drift_lines(drift), drift)


def _typed_row(r: dict, name: str, spelled: dict[str, str], source_id: str | None) -> dict:
    """One foundation in our words and types, by the declared coercions (coerce.py); a cell that
    cannot be read is refused where it is."""
    def bad(code, message, hint=None):
        raise InputError(name, message, row=r["source_row"], column=spelled[code], value=r[code], hint=hint)

    def read(code, coercion, message=None):
        try:
            return coercion(r[code])
        except ValueError as exc:
            bad(code, message or str(exc))

    s = {k: coerce.text(v) if k != "source_row" else v for k, v in r.items()}
    oid = read("ricf_oid", coerce.whole_number, "an RICF organization id must be a whole number")
    if oid is None:
        bad("ricf_oid", "an RICF organization id must be a whole number")
    year = read("ba_rdt", coerce.year, "a record year must be a year such as 2013")
    if year is None:
        bad("ba_rdt", "a record year must be a year such as 2013")
    if year > today().year:
        bad("ba_rdt", f"a record year in the future (this is {today().year})")
    if not s["ba_cn"]:
        bad("ba_cn", "a foundation needs its registered name")
    ntr, rng = s["ba_ntr"], s["ba_rng"]
    if ntr and ntr not in FOUNDATION_TYPES:
        bad("ba_ntr", "unknown foundation type", hint="公募 or 非公募")
    if rng and rng not in SCOPES:
        bad("ba_rng", "unknown foundation scope", hint="全国 or 地方")
    founded = read("ba_fdt", coerce.date, "a founding date must be written M/D/YYYY, YYYY-MM-DD or YYYY年MM月DD日")
    if founded is not None and founded > today():
        bad("ba_fdt", "a founding date in the future")
    endowment = read("ba_fnd", lambda t: parse_published(t) if t is not None and not coerce.is_missing(t) else None,
                     "an endowment must be an amount such as 200万元 or 1,000万元")
    if endowment is not None and endowment.value < 0:
        bad("ba_fnd", "a negative endowment")
    counts = {col: read(code, coerce.whole_number) for code, col in _COUNTS.items()}
    focus = _split_list(r["ba_fcs"])
    tax = None if (t := _split_list(r["ba_tax"])) is None else [x for x in t if x != "无"]
    return {
        "record_year": year, "ricf_oid": oid, "name_zh": s["ba_cn"], "name_en": s["ba_en"],
        "registration_no": s["ba_rid"], "org_code": s["ba_org"], "mission": s["ba_msn"],
        "business_scope": s["ba_srv"], "focus_areas": focus,
        "international_focus": None if focus is None else INTERNATIONAL_AFFAIRS in focus,
        "org_type": FOUNDATION_TYPES.get(ntr), "foundation_type_as_published": ntr,
        "scope": SCOPES.get(rng), "scope_as_published": rng,
        "registering_authority": s["ba_reg"], "supervisory_unit": s["ba_sup"],
        "founded_on": founded, "founded_as_published": s["ba_fdt"],
        "endowment_yuan": endowment.value if endowment else None,
        "endowment_as_published": s["ba_fnd"] if endowment else None,
        "endowment_half_unit": endowment.half_unit if endowment else None,
        "province": coerce.province(s["ba_prv"]), "province_as_published": s["ba_prv"],
        "city": s["ba_ct"], **counts, "evaluation_grade": s["ba_evl"], "tax_status": tax,
        "source_id": source_id, "source_row": r["source_row"],
    }


def _drop_repeats(typed: pl.DataFrame, raw: pl.DataFrame, name: str,
                  spelled: dict[str, str]) -> tuple[pl.DataFrame, list[str]]:
    """A foundation listed twice alike is kept once; listed twice with different values, refused."""
    cmp = typed.with_columns(pl.col("focus_areas", "tax_status").list.join("\x1f"))
    try:
        kept, notes = drop_repeats(cmp, name, ["ricf_oid"], [c for c in REGISTER_COLUMNS
                                                            if c not in ("ricf_oid", "source_row")])
    except InputError as exc:  # name the file's column and its cell as written, not the typed value
        code = _REGISTER_CODES.get(exc.column, exc.column)
        cell = raw.filter(pl.col("source_row") == exc.row)[code][0] if code in raw.columns else exc.value
        raise InputError(name, exc.message, row=exc.row, column=spelled.get(code, code), value=cell,
                         hint=exc.hint) from None
    return typed.filter(pl.col("source_row").is_in(kept["source_row"].to_list())), notes
