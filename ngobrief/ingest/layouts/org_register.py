"""A national register of social organizations (社会组织登记): one row per registered organization, as a
register export lists them. Hundreds of thousands to millions of rows, so this reader stays in Polars
end to end (no per-row Python) and decodes the file without holding it as Python text.

Leading lines starting with `#` are notes (e.g. a SYNTHETIC label) and are skipped; row numbers stay
the file's line numbers. Structure, encoding and the values the register is grouped by (type,
province, founding date, the international flag) must be readable, else InputError; codes, repeats
and plausibility are left to validation (expectations/marts_org_register_by_group.json)."""

from __future__ import annotations

import codecs
import tempfile
from pathlib import Path

import polars as pl

from ...errors import InputError
from .. import contract
from ..checks import first_bad, today
from ..read import BLOCK, Parsed, Source, cell_at, first_undecodable, header_line

NAME = "org_register"
DESCRIPTION = "a national register of social organizations, one row per organization"
TARGETS = ("raw.org_register", "staging.org_register")
DETECT_ORDER = None        # never told from the header: name it with --parser org_register
SCREEN_HEADER_ROWS = 1     # personal columns are looked for in the header line (after `#` notes)
# Counted per snapshot in the load's transaction: validation and the marts read the groups, not the rows.
DERIVED = ("staging/org_register_groups.sql",)


def detect(table) -> bool:
    return False


def parse(source: Source) -> Parsed:
    """Read by Polars end to end: no per-cell Python at register size. Fetched bytes are written to a
    temporary file first (Polars maps a file, not a buffer)."""
    if isinstance(source.data, Path):
        return _parsed(source.data, source.encoding)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(source.name or "register.csv").name
        path.write_bytes(source.data)
        try:
            return _parsed(path, source.encoding)
        except InputError as exc:  # name the file the user gave, not the temporary copy
            raise InputError(source.name or "input", exc.message, row=exc.row, column=exc.column,
                             value=exc.value, hint=exc.hint) from None


def _parsed(path: Path, encoding: str | None) -> Parsed:
    raw, typed, header = _parse(path, encoding)
    drift = _CONTRACT.resolve(header, str(path), None).drift()
    return Parsed(raw, typed, encoding=encoding, notes=contract.drift_lines(drift), drift=drift)


CONTRACT = Path(__file__).with_suffix(".toml")
_CONTRACT = contract.load(CONTRACT)
ORG_REGISTER_COLUMNS = {c.name: c.headers for c in _CONTRACT.columns.values()}  # ours: headers a register may use
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


def _window(path: Path, pos: int, size: int = 1 << 16) -> tuple[bytes, int]:
    """The bytes of `path` from the start of the file or `size` bytes before `pos` (cut at a line
    start), up to a line end after it; and where `pos` falls in them."""
    with open(path, "rb") as fh:
        begin = max(0, pos - size)
        fh.seek(begin)
        data = fh.read(pos - begin + size)
    if begin:
        cut = data.find(b"\n") + 1
        data, pos = data[cut:], pos - begin - cut
    return data, pos


def _register_bytes_error(path: Path, pos: int, message: str, hint: str | None = None,
                          binary: bool = False) -> InputError:
    """An error about byte `pos` of a register file, named by its line, column and cell: the row
    number is counted over the whole file, the header read from its top."""
    with open(path, "rb") as fh:
        head = fh.read(1 << 16)
        fh.seek(0)
        line = 1
        left = pos
        for chunk in iter(lambda: fh.read(min(1 << 22, left)) if left else b"", b""):
            line += chunk.count(b"\n")
            left -= len(chunk)
    data, at = _window(path, pos)
    line_start = data.rfind(b"\n", 0, at) + 1
    header_at, header = header_line(head, skip_notes=True)
    _, column, value = cell_at(header + b"\n" + data[line_start:], len(header) + 1 + at - line_start,
                               binary=binary)
    return InputError(path, message, row=line, column=column, value=value, hint=hint)


def _register_blocks(path: Path):
    """The bytes of a register file block by block; a NUL byte anywhere is refused at its row."""
    offset = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(BLOCK), b""):
            if (nul := block.find(b"\x00")) >= 0:
                raise _register_bytes_error(path, offset + nul, "binary content (a NUL byte) where text was expected",
                                            hint="is this really a CSV?", binary=True)
            offset += len(block)
            yield block


def org_register_utf8(path: Path, encoding: str | None = None) -> tuple[Path, str]:
    """The register as a UTF-8 file Polars can map: the file itself when it is UTF-8, else a
    transcoded temporary copy (GB18030, or the declared encoding), decoded in blocks. A NUL byte
    anywhere, or rows in two encodings, are refused at their row."""
    path = Path(path)
    candidates = [encoding] if encoding else ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            codecs.lookup(enc)
        except LookupError as exc:
            raise InputError(path, f"unknown encoding {enc!r}") from exc
        bad = first_undecodable(_register_blocks(path), enc)
        if bad is not None:
            pos, cjk = bad
            if encoding:
                raise _register_bytes_error(path, pos, f"cannot be decoded as {enc}",
                                            hint="declare the encoding the file is in, or leave --encoding out")
            if enc == "utf-8" and cjk:
                raise _register_bytes_error(path, pos, "mixed encodings: the rows above are UTF-8, this one is not",
                                            hint="save the whole file in one encoding")
            if enc == candidates[-1]:
                raise _register_bytes_error(path, pos, f"cannot be decoded as {' or '.join(candidates)}",
                                            hint="save it as UTF-8, or declare its encoding")
            continue
        if enc.replace("_", "-").lower() in ("utf-8", "utf8", "utf-8-sig"):
            return path, "utf-8"
        decoder = codecs.getincrementaldecoder(enc)()
        with tempfile.NamedTemporaryFile("wb", suffix=".csv", delete=False) as dst:
            for block in _register_blocks(path):
                dst.write(decoder.decode(block).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        return Path(dst.name), enc
    raise AssertionError("unreachable: the last candidate either decodes or raises")


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
    return _read(path, encoding)[0]


def _read(path: Path, encoding: str | None) -> tuple[pl.DataFrame, list[str]]:
    """org_register_read, and the file's header as printed (for the drift report)."""
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
        unknown = [n for n in names.values() if n not in lookup]
        renamed = f"; the header has {unknown[0]!r} instead (renamed?)" if unknown else ""
        raise InputError(path, f"missing column(s) {', '.join(missing)}{renamed}", row=notes + 1, column=missing[0],
                         value=unknown[0] if unknown else None,
                         hint="expected the columns " + ", ".join(h[0] for h in ORG_REGISTER_COLUMNS.values()))
    return (df.select([pl.col(c).alias(ours) for c, ours in rename.items()])
            .select(list(ORG_REGISTER_COLUMNS))
            .with_row_index("source_row", offset=notes + 2)
            .with_columns(pl.col("source_row").cast(pl.Int64))), list(names.values())


def org_register_parse(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw, typed): raw is every cell as text; typed has org_type in our words, a date and a flag."""
    return _parse(path, encoding)[:2]


def _parse(path: Path, encoding: str | None) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    path = Path(path)
    raw, header = _read(path, encoding)
    if raw.height == 0:
        raise InputError(path, "the register has a header but no organizations",
                         row=_org_register_notes(path) + 1)

    # Stripped inside each expression rather than in a stripped copy of the whole frame: at a million
    # rows that copy alone is hundreds of MB.
    def cell(col: str) -> pl.Expr:
        return pl.col(col).str.strip_chars()

    for col in ORG_REGISTER_REQUIRED:
        first_bad(raw, path, col, cell(col).is_not_null() & (cell(col) != ""), "a required value is blank")
    org_type = cell("org_type").replace_strict(ORG_REGISTER_TYPES, default=None)
    first_bad(raw, path, "org_type", org_type.is_not_null(),
               "unknown organization type; use 社会团体, 民办非企业单位 (社会服务机构) or 基金会")
    founded = (cell("founded_on").str.replace_all("[/年月.]", "-").str.replace("日$", "")
               .str.to_date("%Y-%m-%d", strict=False))
    first_bad(raw, path, "founded_on", founded.is_not_null(), "a date must be written YYYY-MM-DD")
    first_bad(raw, path, "founded_on", founded <= today(), "a founding date in the future")
    flag = cell("engaged_international").str.to_lowercase().replace_strict(ORG_REGISTER_FLAGS, default=None,
                                                                         return_dtype=pl.Boolean)
    first_bad(raw, path, "engaged_international", flag.is_not_null(), "the international flag must be 是 or 否")
    typed = raw.select(
        pl.when(cell("credit_code") != "").then(cell("credit_code")).alias("credit_code"),
        cell("name"), org_type.alias("org_type"), cell("registering_authority"), cell("province"),
        founded.alias("founded_on"), cell("business_scope"), flag.alias("engaged_international"),
        pl.col("source_row"),
    )
    return raw, typed, header


# --------------------------------------------------------------------------------------------------
# Personal fields. The readers above keep only the columns they know, so a register's personal and
# contact columns never reach the warehouse. A snapshot file keeps the bytes as fetched, though, and
# data/ is committed: `ngobrief pull` refuses a register that has such columns (pull.py), naming
# them, so that none is ever stored (docs/sources.md, "Personal fields").
