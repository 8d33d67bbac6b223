"""Read source files into typed Polars frames, keeping every figure as it was published.

Rows are numbered as a spreadsheet shows them: the header is row 1, the first figure row 2."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from .errors import InputError

MISSING = {"", "--", "—", "-", "–", "...", "…", "n/a", "NA"}

# Unit words that scale a printed figure; 万 = 10^4 and 亿 = 10^8.
MULTIPLIERS = {
    "": Decimal(1), "元": Decimal(1), "%": Decimal(1),
    "万": Decimal(10) ** 4, "万元": Decimal(10) ** 4,
    "亿": Decimal(10) ** 8, "亿元": Decimal(10) ** 8,
    "million": Decimal(10) ** 6, "billion": Decimal(10) ** 9,
}
_PUBLISHED = re.compile(
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*(?P<unit>万元|万|亿元|亿|million|billion|%|元)?$"
)

PERIODS = ("year_end", "Q1", "Q2", "Q3", "Q4", "as_of")
LONG_COLUMNS = ("year", "period", "as_of", "measure", "org_type", "value",
                "as_published", "unit", "source_id", "note")


@dataclass(frozen=True)
class Published:
    """A figure as printed: its value and half a unit of its last printed digit."""

    value: float
    half_unit: float
    unit: str


def parse_published(text: str | None) -> Published | None:
    """`49.9万` -> 499000 ± 500; `3,029` -> 3029 ± 0.5; `0.11%` -> 0.11 ± 0.005; `--` -> None."""
    if text is None:
        return None
    s = str(text).strip()
    if s in MISSING:
        return None
    m = _PUBLISHED.match(s)
    if not m:
        raise ValueError(f"not a published figure: {text!r}")
    num, unit = m.group("num").replace(",", ""), m.group("unit") or ""
    try:
        d = Decimal(num)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
        raise ValueError(f"not a number: {text!r}") from exc
    decimals = -d.as_tuple().exponent if d.as_tuple().exponent < 0 else 0
    mult = MULTIPLIERS[unit]
    half = Decimal("0.5") * (Decimal(10) ** -decimals) * mult
    return Published(float(d * mult), float(half), unit)


def read_text(path: Path, encoding: str | None = None) -> str:
    """Decode a file as declared, else as UTF-8 (with or without BOM), else GB18030."""
    data = Path(path).read_bytes()
    if b"\x00" in data[:4096]:
        raise InputError(path, "binary content where text was expected", hint="is this really a CSV?")
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(path, f"cannot be decoded as {encoding}: {exc}") from exc
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise InputError(path, "neither UTF-8 nor GB18030 text",
                         hint="save it as UTF-8, or declare its encoding") from exc


def read_table(path: Path, *, separator: str = ",", encoding: str | None = None) -> pl.DataFrame:
    """Every cell as text, with `source_row` (the file's row number, header = 1)."""
    text = read_text(path, encoding)
    if not text.strip():
        raise InputError(path, "the file is empty")
    try:
        df = pl.read_csv(text.encode("utf-8"), separator=separator, infer_schema=False,
                         quote_char='"' if separator == "," else None, truncate_ragged_lines=False)
    except pl.exceptions.PolarsError as exc:
        raise InputError(path, f"not a well-formed table: {exc}".splitlines()[0]) from exc
    df = df.rename({c: c.strip().lstrip("\ufeff") for c in df.columns})
    return df.with_row_index("source_row", offset=2).with_columns(pl.col("source_row").cast(pl.Int64))


def require_columns(df: pl.DataFrame, path: Path, columns) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}",
                         column=missing[0], hint=f"expected columns: {', '.join(columns)}")


def _first_bad(df: pl.DataFrame, path: Path, column: str, ok: pl.Expr, message: str) -> None:
    bad = df.filter(~ok)
    if bad.height:
        r = bad.row(0, named=True)
        raise InputError(path, message, row=r["source_row"], column=column, value=r[column])


def _strip(df: pl.DataFrame, columns) -> pl.DataFrame:
    return df.with_columns([pl.col(c).str.strip_chars() for c in columns])


def parse_long_csv(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The canonical long layout (one row per published figure).

    Returns (raw, typed): raw is every cell as text; typed has proper types and the
    published precision of each figure (`half_unit`)."""
    raw = read_table(path, encoding=encoding)
    require_columns(raw, path, LONG_COLUMNS)
    df = _strip(raw, LONG_COLUMNS)
    if df.height == 0:
        raise InputError(path, "the file has a header but no figures")
    for col in ("year", "period", "measure", "org_type", "source_id", "unit"):
        _first_bad(df, path, col, pl.col(col).is_not_null() & (pl.col(col) != ""), "a required value is blank")
    year = pl.col("year").cast(pl.Int32, strict=False)
    _first_bad(df, path, "year", year.is_not_null(), "a year must be a whole number such as 2012")
    _first_bad(df, path, "period", pl.col("period").is_in(PERIODS),
               f"unknown period; use one of {', '.join(PERIODS)}")
    as_of = pl.col("as_of").str.to_date("%Y-%m-%d", strict=False)
    _first_bad(df, path, "as_of", as_of.is_not_null(), "a date must be written YYYY-MM-DD")

    rows = []
    for r in df.select("source_row", "value", "as_published").iter_rows(named=True):
        try:
            pub = parse_published(r["as_published"])
        except ValueError:
            raise InputError(path, "the figure as published cannot be read", row=r["source_row"],
                             column="as_published", value=r["as_published"],
                             hint="write digits with an optional 万, 亿, million or %") from None
        try:
            val = parse_published(r["value"])
        except ValueError:
            raise InputError(path, "not a number", row=r["source_row"], column="value",
                             value=r["value"]) from None
        if val is None and pub is None:
            raise InputError(path, "no figure: both value and as_published are blank",
                             row=r["source_row"], column="value", value=r["value"])
        value = val.value if val is not None else pub.value
        half = pub.half_unit if pub is not None else val.half_unit
        rows.append((value, half))
    typed = df.with_columns(
        year.alias("year"),
        as_of.alias("as_of"),
        pl.Series("value", [v for v, _ in rows], dtype=pl.Float64),
        pl.Series("half_unit", [h for _, h in rows], dtype=pl.Float64),
        pl.when(pl.col("note") == "").then(None).otherwise(pl.col("note")).alias("note"),
    ).select("year", "period", "as_of", "measure", "org_type", "value", "as_published",
             "half_unit", "unit", "source_id", "note", "source_row")
    return raw.select(["source_row", *LONG_COLUMNS]), typed


SURVEY_COLUMNS = ("rank", "sector_en", "sector_zh", "support_band", "support_pct", "source_id", "note")


def parse_survey_csv(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The survey's sector priorities: rank order, support band and any published percentage."""
    raw = read_table(path, encoding=encoding)
    require_columns(raw, path, SURVEY_COLUMNS)
    df = _strip(raw, SURVEY_COLUMNS)
    rank = pl.col("rank").cast(pl.Int32, strict=False)
    _first_bad(df, path, "rank", rank.is_not_null(), "a rank must be a whole number")
    pct = pl.col("support_pct").cast(pl.Float64, strict=False)
    _first_bad(df, path, "support_pct", pct.is_not_null() | (pl.col("support_pct") == "")
               | pl.col("support_pct").is_null(), "not a percentage")
    typed = df.with_columns(rank.alias("rank"), pct.alias("support_pct"),
                            pl.when(pl.col("note") == "").then(None).otherwise(pl.col("note")).alias("note"))
    return raw.select(["source_row", *SURVEY_COLUMNS]), typed.select(["source_row", *SURVEY_COLUMNS])


PARSERS = {"long_csv": parse_long_csv, "survey_csv": parse_survey_csv}


def load(con, snapshot) -> int:
    """Parse one snapshot and load it into raw and staging (all or nothing). Returns rows loaded,
    0 when the same bytes are already in the warehouse."""
    from . import warehouse

    if warehouse.loaded_sha256(con, snapshot.snapshot_id) == snapshot.sha256:
        return 0
    if snapshot.parser not in PARSERS:
        return 0  # a snapshot whose parser this version does not load yet (see `ngobrief sources`)
    raw, typed = PARSERS[snapshot.parser](snapshot.path)
    return warehouse.load_snapshot(con, snapshot, raw, typed)


# ---------------------------------------------------------------------------------------------------
# National register of social organizations (社会组织登记): one row per registered organization, as
# a register export lists them. Hundreds of thousands to millions of rows, so this reader stays in
# Polars end to end (no per-row Python) and decodes the file without holding it as Python text.
# Leading lines starting with `#` are notes (e.g. a SYNTHETIC label) and are skipped; row numbers stay
# the file's line numbers. Structure, encoding and the values the register is grouped by (type,
# province, founding date, the international flag) must be readable, else InputError; codes, repeats
# and plausibility are left to validation (expectations/marts_org_register_by_group.json).

ORG_REGISTER_COLUMNS = {  # our name: the headers a register export may use for it
    "credit_code": ("统一社会信用代码", "credit_code"),
    "name": ("社会组织名称", "name"),
    "org_type": ("社会组织类型", "org_type"),
    "registering_authority": ("登记管理机关", "registering_authority"),
    "province": ("所在省份", "province"),
    "founded_on": ("成立登记日期", "founded_on"),
    "business_scope": ("业务范围", "business_scope"),
    "engaged_international": ("国际交流合作", "engaged_international"),
}
ORG_REGISTER_TYPES = {
    "社会团体": "social_association", "民办非企业单位": "private_non_enterprise",
    "社会服务机构": "private_non_enterprise",  # the name for 民办非企业单位 since 2016
    "基金会": "foundation",
    "social_association": "social_association", "private_non_enterprise": "private_non_enterprise",
    "foundation": "foundation",
}
ORG_REGISTER_FLAGS = {"是": True, "否": False, "true": True, "false": False, "yes": True, "no": False,
                      "1": True, "0": False, "y": True, "n": False}
ORG_REGISTER_REQUIRED = ("org_type", "province", "founded_on", "engaged_international")


def org_register_utf8(path: Path, encoding: str | None = None) -> tuple[Path, str]:
    """The register as a UTF-8 file Polars can map: the file itself when it is UTF-8, else a
    transcoded temporary copy (GB18030, or the declared encoding), decoded in chunks."""
    import codecs
    import tempfile

    path = Path(path)
    with open(path, "rb") as fh:
        if b"\x00" in fh.read(4096):
            raise InputError(path, "binary content where text was expected", hint="is this really a CSV?")
    candidates = [encoding] if encoding else ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            decoder = codecs.getincrementaldecoder(enc)()
        except LookupError as exc:
            raise InputError(path, f"unknown encoding {enc!r}") from exc
        try:
            with open(path, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 22), b""):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        if enc.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
            return path, "utf-8"
        decoder = codecs.getincrementaldecoder(enc)()
        with open(path, "rb") as src, tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as dst:
            for chunk in iter(lambda: src.read(1 << 22), b""):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        return Path(dst.name), enc
    raise InputError(path, f"cannot be decoded as {' or '.join(candidates)}",
                     hint="save it as UTF-8, or declare its encoding")


def _org_register_notes(path: Path) -> int:
    """How many leading `#` note lines the file has."""
    n = 0
    with open(path, "rb") as fh:
        for line in fh:
            if not line.lstrip(b"\xef\xbb\xbf").startswith(b"#"):
                break
            n += 1
    return n


def org_register_read(path: Path, *, encoding: str | None = None) -> pl.DataFrame:
    """Every cell as text under our column names, with `source_row` (the file's line number)."""
    path = Path(path)
    utf8, _ = org_register_utf8(path, encoding)
    try:
        notes = _org_register_notes(utf8)
        with open(utf8, "rb") as fh:
            for _ in range(notes):
                fh.readline()
            header = fh.readline().decode("utf-8", "replace")
        separator = "\t" if header.count("\t") > header.count(",") else ","
        try:
            df = pl.read_csv(utf8, separator=separator, skip_lines=notes, infer_schema=False,
                             quote_char='"', truncate_ragged_lines=False, raise_if_empty=True)
        except (pl.exceptions.PolarsError, OSError) as exc:
            raise InputError(path, f"not a well-formed table: {exc}".splitlines()[0]) from exc
    finally:
        if utf8 != path:
            utf8.unlink(missing_ok=True)
    names = {c: c.strip().lstrip("\ufeff") for c in df.columns}
    lookup = {h: ours for ours, heads in ORG_REGISTER_COLUMNS.items() for h in heads}
    rename = {c: lookup[n] for c, n in names.items() if n in lookup}
    missing = [heads[0] for ours, heads in ORG_REGISTER_COLUMNS.items() if ours not in rename.values()]
    if missing:
        raise InputError(path, f"missing column(s) {', '.join(missing)}", column=missing[0],
                         hint="expected the columns " + ", ".join(h[0] for h in ORG_REGISTER_COLUMNS.values()))
    return (df.select([pl.col(c).alias(ours) for c, ours in rename.items()])
            .select(list(ORG_REGISTER_COLUMNS))
            .with_row_index("source_row", offset=notes + 2)
            .with_columns(pl.col("source_row").cast(pl.Int64)))


def org_register_parse(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw, typed): raw is every cell as text; typed has org_type in our words, a date and a flag."""
    path = Path(path)
    raw = org_register_read(path, encoding=encoding)
    if raw.height == 0:
        raise InputError(path, "the register has a header but no organizations")

    # Stripped inside each expression rather than in a stripped copy of the whole frame: at a million
    # rows that copy alone is hundreds of MB.
    def cell(col: str) -> pl.Expr:
        return pl.col(col).str.strip_chars()

    for col in ORG_REGISTER_REQUIRED:
        _first_bad(raw, path, col, cell(col).is_not_null() & (cell(col) != ""), "a required value is blank")
    org_type = cell("org_type").replace_strict(ORG_REGISTER_TYPES, default=None)
    _first_bad(raw, path, "org_type", org_type.is_not_null(),
               "unknown organization type; use 社会团体, 民办非企业单位 (社会服务机构) or 基金会")
    founded = (cell("founded_on").str.replace_all("[/年月.]", "-").str.replace("日$", "")
               .str.to_date("%Y-%m-%d", strict=False))
    _first_bad(raw, path, "founded_on", founded.is_not_null(), "a date must be written YYYY-MM-DD")
    flag = cell("engaged_international").str.to_lowercase().replace_strict(ORG_REGISTER_FLAGS, default=None,
                                                                         return_dtype=pl.Boolean)
    _first_bad(raw, path, "engaged_international", flag.is_not_null(), "the international flag must be 是 or 否")
    typed = raw.select(
        pl.when(cell("credit_code") != "").then(cell("credit_code")).alias("credit_code"),
        cell("name"), org_type.alias("org_type"), cell("registering_authority"), cell("province"),
        founded.alias("founded_on"), cell("business_scope"), flag.alias("engaged_international"),
        pl.col("source_row"),
    )
    return raw, typed


def org_register_load(con, snapshot) -> int:
    """Parse a register snapshot and load it into raw.org_register and staging.org_register in one
    transaction. Returns rows loaded, 0 when the same bytes are already in the warehouse."""
    from . import warehouse

    if warehouse.loaded_sha256(con, snapshot.snapshot_id) == snapshot.sha256:
        return 0
    raw, typed = org_register_parse(snapshot.path, encoding=(getattr(snapshot, "options", None) or {}).get("encoding"))
    return warehouse.load_snapshot(con, snapshot, raw, typed)


# Loaders look parsers up in PARSERS; a version of this module without that table dispatches to
# org_register_load itself.
if "PARSERS" in globals():
    PARSERS["org_register"] = org_register_parse
