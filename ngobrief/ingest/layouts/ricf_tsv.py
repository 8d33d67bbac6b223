"""The RICF foundation register (data/RICF_CODEBOOK.md): one row per foundation. Only the codebook's
fields are read: the names, contact details and address columns of the source file never leave it."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from ...errors import InputError
from ..checks import drop_repeats, parse_date, parse_year, require_columns, today
from ..published import is_missing, parse_published
from ..read import Parsed, Source, Table, norm_header, text_frame

NAME = "ricf_tsv"
DESCRIPTION = "the RICF foundation register"
TARGETS = ("raw.register_foundations", "staging.register_foundations")
DETECT_ORDER = 30
SCREEN_HEADER_ROWS = 2     # personal columns are looked for in both header rows (names, then codes)
NEEDS_SOURCE_ID = True     # rows name no document: the snapshot's source is cited for them

RICF_FIELDS = {
    "ricf_oid": "机构ID", "ba_rdt": "记录时间", "ba_cn": "机构名称", "ba_en": "机构英文名称",
    "ba_rid": "登记证号", "ba_org": "组织机构代码", "ba_msn": "宗旨", "ba_srv": "业务范围",
    "ba_fcs": "关注领域", "ba_ntr": "基金会类型", "ba_rng": "基金会范围", "ba_reg": "登记部门",
    "ba_sup": "业务主管单位", "ba_fdt": "成立时间", "ba_fnd": "原始基金数额", "ba_prv": "省份",
    "ba_ct": "城市", "ba_gvm": "负责人中国家工作人员数", "ba_pgv": "负责人中担任过省部级工作人员数",
    "ba_nfe": "全职员工数量", "ba_nv": "志愿者数量", "ba_evl": "评估等级", "ba_sf": "专项基金数",
    "ba_tax": "优惠资格类型",
}
# Columns of the original RICF file that name or locate a person or office: dropped at ingest.
RICF_PERSONAL = {
    "ba_add": "基金会地址", "ba_zip": "邮编", "ba_gis": "GIS位置坐标", "ba_wb": "机构官网",
    "ba_chr": "理事长", "ba_sec": "秘书长", "ba_cpn": "对外联系人姓名", "ba_cpp": "联系人职务",
    "ba_phn": "联系人固话", "ba_fax": "联系人传真", "ba_eml": "联系人电子邮箱",
}
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
# Provinces as the register spells them (pinyin); a province written in Chinese becomes that spelling.
PROVINCES = {
    "北京市": "Beijing Shi", "天津市": "Tianjin Shi", "上海市": "Shanghai Shi", "重庆市": "Chongqing Shi",
    "河北省": "Hebei Sheng", "山西省": "Shanxi Sheng", "辽宁省": "Liaoning Sheng", "吉林省": "Jilin Sheng",
    "黑龙江省": "Heilongjiang Sheng", "江苏省": "Jiangsu Sheng", "浙江省": "Zhejiang Sheng",
    "安徽省": "Anhui Sheng", "福建省": "Fujian Sheng", "江西省": "Jiangxi Sheng", "山东省": "Shandong Sheng",
    "河南省": "Henan Sheng", "湖北省": "Hubei Sheng", "湖南省": "Hunan Sheng", "广东省": "Guangdong Sheng",
    "海南省": "Hainan Sheng", "四川省": "Sichuan Sheng", "贵州省": "Guizhou Sheng", "云南省": "Yunnan Sheng",
    "陕西省": "Shaanxi Sheng", "甘肃省": "Gansu Sheng", "青海省": "Qinghai Sheng",
    "内蒙古自治区": "Neimenggu Zizhiqu", "广西壮族自治区": "Guangxi Zhuangzuzizhiqu",
    "西藏自治区": "Xizang Zizhiqu", "宁夏回族自治区": "Ningxia Huizuzizhiqu",
    "新疆维吾尔自治区": "Xinjiang Weiwuerzizhiqu",
}
# The typed register's columns, by the codebook field each is read from.
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
_LIST_SEPARATORS = re.compile(r"[，,、；;]")
_COUNTS = {"ba_gvm": "leaders_state_employees", "ba_pgv": "leaders_former_senior_officials",
           "ba_nfe": "full_time_staff", "ba_nv": "volunteers", "ba_sf": "special_funds"}


def _split_list(text: str) -> list[str]:
    return [p.strip() for p in _LIST_SEPARATORS.split(text) if p.strip()]

PERSONAL = (*RICF_PERSONAL, *RICF_PERSONAL.values())
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
    first = [norm_header(c) for c in table.rows[0][1]]
    second = [norm_header(c) for c in table.rows[1][1]] if len(table.rows[:2]) > 1 else []
    return "ricf_oid" in first or "机构ID" in first or "ricf_oid" in second


def _register_header(table: Table) -> tuple[int, dict[str, str]]:
    """Which row holds the column codes, and how each kept code is spelled there.

    The original file has two header rows (Chinese field names, then codes); the bundled one only the
    codes; a hand export may have only the Chinese names."""
    by_zh = {zh: code for code, zh in {**RICF_FIELDS, **RICF_PERSONAL}.items()}
    for i, (_, cells) in enumerate(table.rows[:2]):
        names = [norm_header(c) for c in cells]
        if "ricf_oid" in names:
            return i, {c: c for c in RICF_FIELDS}
        if "机构ID" in names and not (i + 1 < len(table.rows[:i + 2])
                                     and "ricf_oid" in [norm_header(c) for c in table.rows[i + 1][1]]):
            return i, {c: RICF_FIELDS[c] for c in RICF_FIELDS if RICF_FIELDS[c] in by_zh}
    raise InputError(table.name, "not an RICF register: no ricf_oid (机构ID) column in the first two rows",
                     row=table.rows[0][0], hint="see data/RICF_CODEBOOK.md")


def parse(source: Source) -> Parsed:
    """The RICF foundation register: one row per foundation (see data/RICF_CODEBOOK.md)."""
    table = source.table()
    name = table.name
    at, spelled = _register_header(table)
    header = [norm_header(c) for c in table.rows[at][1]]
    require_columns(header, name, list(spelled.values()), row=table.rows[at][0])
    dropped = sorted(set(header) - set(spelled.values()))
    _, frame = text_frame(table, at, columns=set(spelled.values()))
    raw = frame.rename({v: k for k, v in spelled.items()}).select(["source_row", *RICF_FIELDS])
    if raw.height == 0:
        raise InputError(name, "the register has a header but no foundations")
    out = [_typed_row(r, name, spelled, source.source_id) for r in raw.iter_rows(named=True)]
    typed = pl.DataFrame(out, schema=_TYPES).select(REGISTER_COLUMNS)
    typed, notes = _drop_repeats(typed, raw, name, spelled)
    personal = [h for h in dropped if h in PERSONAL]
    unused = [h for h in dropped if h not in personal]
    if personal:
        notes.append(f"dropped personal and contact fields at ingest: {', '.join(personal)}")
    if unused:
        notes.append(f"dropped fields the codebook does not describe: {', '.join(unused)}")
    moved = typed.filter(pl.col("province") != pl.col("province_as_published"))
    for r in moved.select("source_row", "province_as_published", "province").iter_rows():
        notes.append(f"row {r[0]}: province {r[1]!r} written as {r[2]!r}, the register's spelling")
    return Parsed(raw, typed, table.encoding, table.sheet, notes)


def _typed_row(r: dict, name: str, spelled: dict[str, str], source_id: str | None) -> dict:
    """One foundation in our words and types; a cell that cannot be read is refused where it is."""
    def bad(code, message, hint=None):
        raise InputError(name, message, row=r["source_row"], column=spelled[code], value=r[code], hint=hint)

    s = {k: (v.strip() if isinstance(v, str) else v) for k, v in r.items()}
    oid = s["ricf_oid"]
    if not (oid.isascii() and oid.isdigit()):
        bad("ricf_oid", "an RICF organization id must be a whole number")
    year = parse_year(s["ba_rdt"])
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
    founded = _founded(s["ba_fdt"], bad)
    try:
        endowment = parse_published(s["ba_fnd"])
    except ValueError:
        bad("ba_fnd", "an endowment must be an amount such as 200万元 or 1,000万元")
    if endowment is not None and endowment.value < 0:
        bad("ba_fnd", "a negative endowment")
    counts = {}
    for code, col in _COUNTS.items():
        if is_missing(s[code]):
            counts[col] = None
        elif s[code].isascii() and s[code].isdigit():
            counts[col] = int(s[code])
        else:
            bad(code, "a count must be a whole number")
    focus = _split_list(s["ba_fcs"]) if not is_missing(s["ba_fcs"]) else None
    tax = None if is_missing(s["ba_tax"]) else [t for t in _split_list(s["ba_tax"]) if t != "无"]
    prv = s["ba_prv"] or None
    return {
        "record_year": year, "ricf_oid": int(oid), "name_zh": s["ba_cn"], "name_en": s["ba_en"] or None,
        "registration_no": s["ba_rid"] or None, "org_code": s["ba_org"] or None,
        "mission": s["ba_msn"] or None, "business_scope": s["ba_srv"] or None,
        "focus_areas": focus, "international_focus": None if focus is None else INTERNATIONAL_AFFAIRS in focus,
        "org_type": FOUNDATION_TYPES.get(ntr), "foundation_type_as_published": ntr or None,
        "scope": SCOPES.get(rng), "scope_as_published": rng or None,
        "registering_authority": s["ba_reg"] or None, "supervisory_unit": s["ba_sup"] or None,
        "founded_on": founded, "founded_as_published": s["ba_fdt"] or None,
        "endowment_yuan": endowment.value if endowment else None,
        "endowment_as_published": s["ba_fnd"] if endowment else None,
        "endowment_half_unit": endowment.half_unit if endowment else None,
        "province": PROVINCES.get(prv, prv), "province_as_published": prv,
        "city": s["ba_ct"] or None, **counts,
        "evaluation_grade": s["ba_evl"] or None, "tax_status": tax,
        "source_id": source_id, "source_row": r["source_row"],
    }


def _founded(text: str, bad) -> dt.date | None:
    if is_missing(text):
        return None
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        founded = dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))) if m else parse_date(text)
    except ValueError:
        founded = None
    if founded is None:
        bad("ba_fdt", "a founding date must be written M/D/YYYY (or YYYY-MM-DD)")
    if founded > today():
        bad("ba_fdt", "a founding date in the future")
    return founded


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
