"""A national register of social organizations (社会组织登记): one row per registered organization, as a
register export lists them. Hundreds of thousands to millions of rows, so DuckDB reads, types and
checks it (no per-row Python), and the file is decoded without being held as Python text. A load
reads it straight into the warehouse (`stage`); `parse` hands back frames like every layout.

Leading lines starting with `#` are notes (e.g. a SYNTHETIC label) and are skipped; row numbers stay
the file's line numbers. Structure, encoding and the values the register is grouped by (type,
province, founding date, the international flag) must be readable, else InputError; codes, repeats
and plausibility are left to validation (expectations/marts_org_register_by_group.json)."""

from __future__ import annotations

import codecs
import csv
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl

from ...errors import InputError
from .. import contract
from ..checks import today
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
    """Read and checked by DuckDB (no per-cell Python at register size), handed back as frames."""
    with _on_disk(source) as path:
        raw, typed, header = _in_memory(path, source.encoding)
    drift = _CONTRACT.resolve(header, str(path), None).drift()
    return Parsed(raw, typed, encoding=source.encoding, notes=contract.drift_lines(drift), drift=drift)


def stage(con, source: Source) -> "Staged":
    """Read `source` with DuckDB into a temporary table of `con` (the warehouse's connection), checked
    as a parse checks it: a load then inserts from it, with no frame in between (ingest.load)."""
    with _on_disk(source) as path:
        header = _incoming(con, path, source.encoding)
    drift = _CONTRACT.resolve(header, str(path), None).drift()
    return Staged(f"SELECT * FROM {INCOMING}", TYPED, source.encoding, contract.drift_lines(drift), drift, con)


@contextmanager
def _on_disk(source: Source):
    """The source as a file: fetched bytes are written to a temporary one first (DuckDB reads a file,
    not a buffer), and errors name the file the user gave, not the temporary copy."""
    if isinstance(source.data, Path):
        yield source.data
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(source.name or "register.csv").name
        path.write_bytes(source.data)
        try:
            yield path
        except InputError as exc:
            raise InputError(source.name or "input", exc.message, row=exc.row, column=exc.column,
                             value=exc.value, hint=exc.hint) from None


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
    return _in_memory(path, encoding, typed=False)[0]


def org_register_parse(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw, typed): raw is every cell as text; typed has org_type in our words, a date and a flag."""
    return _in_memory(path, encoding)[:2]


def _in_memory(path: Path, encoding: str | None, typed: bool = True):
    """The register read and checked in an in-memory DuckDB, handed back as Polars frames (what a
    parse returns, e.g. for the parse cache); a load reads it straight into the warehouse (stage)."""
    con = duckdb.connect()
    try:
        header = _incoming(con, Path(path), encoding)
        return (con.sql(f"SELECT * FROM {INCOMING}").pl(), con.sql(TYPED).pl() if typed else None, header)
    finally:
        con.close()


@dataclass
class Staged:
    """A register read into a temporary table of the warehouse connection, checked, ready to be
    inserted by ngobrief.warehouse.write_snapshot: `raw` and `typed` are the queries that give the rows."""

    raw: str
    typed: str
    encoding: str | None
    notes: list[str]
    drift: pl.DataFrame
    con: object

    def close(self) -> None:
        self.con.execute(f"DROP VIEW IF EXISTS {INCOMING}; DROP TABLE IF EXISTS {INCOMING}_cells")


# The temporary view (over the table INCOMING_cells) a register is read into, on the connection reading it.
INCOMING = "org_register_incoming"
# Whitespace as Unicode's White_Space property has it, what the other layouts' strip_chars() strips
# (DuckDB's trim() alone strips only spaces).
_SPACE = "".join(chr(c) for c in (9, 10, 11, 12, 13, 32, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                                  0x2028, 0x2029, 0x202F, 0x205F, 0x3000))


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cell(col: str) -> str:
    """A cell stripped, inside each expression rather than in a stripped copy of the whole table.
    trim() with a set of characters costs ~0.8 s per million cells: only cells that start or end
    with one of them go through it (their first and last characters, `col[1]` and `col[-1]`, are
    code points)."""
    space = _lit(_SPACE)
    return (f"(CASE WHEN contains({space}, {col}[1]) OR contains({space}, {col}[-1]) "
            f"THEN trim({col}, {space}) ELSE {col} END)")


def _case(expr: str, mapping: dict, as_sql) -> str:
    return "CASE " + expr + " " + " ".join(f"WHEN {_lit(k)} THEN {as_sql(v)}" for k, v in mapping.items()) + " END"


_ORG_TYPE = _case(_cell("org_type"), ORG_REGISTER_TYPES, _lit)
# A date written YYYY-MM-DD is read as it is; only others have 年, 月, 日, / or . rewritten first.
_FOUNDED = (f"coalesce(try_strptime({_cell('founded_on')}, '%Y-%m-%d'), try_strptime(regexp_replace(regexp_replace("
            f"{_cell('founded_on')}, '[/年月.]', '-', 'g'), '日$', ''), '%Y-%m-%d'))::DATE")
_FLAG = _case(f"lower({_cell('engaged_international')})", ORG_REGISTER_FLAGS, lambda v: "true" if v else "false")
# What each register row must satisfy, in the order the first failure is reported: (column, check, message).
_CHECKS = [
    *[(col, f"{_cell(col)} <> ''", "a required value is blank") for col in ORG_REGISTER_REQUIRED],
    ("org_type", f"{_ORG_TYPE} IS NOT NULL",
     "unknown organization type; use 社会团体, 民办非企业单位 (社会服务机构) or 基金会"),
    ("founded_on", f"{_FOUNDED} IS NOT NULL", "a date must be written YYYY-MM-DD"),
    ("founded_on", f"{_FOUNDED} <= $today", "a founding date in the future"),
    ("engaged_international", f"{_FLAG} IS NOT NULL", "the international flag must be 是 or 否"),
]
TYPED = f"""SELECT CASE WHEN {_cell('credit_code')} <> '' THEN {_cell('credit_code')} END AS credit_code,
    {_cell('name')} AS name, {_ORG_TYPE} AS org_type, {_cell('registering_authority')} AS registering_authority,
    {_cell('province')} AS province, {_FOUNDED} AS founded_on, {_cell('business_scope')} AS business_scope,
    {_FLAG} AS engaged_international, source_row
FROM {INCOMING}"""


def _incoming(con, path: Path, encoding: str | None) -> list[str]:
    """Read the register at `path` into the temporary view INCOMING of `con`: every cell as text under
    our column names, with `source_row` (the file's line number); then check every row (_CHECKS) in
    one pass over the table. Returns the file's header as printed (for the drift report).

    A file with no declared encoding and no NUL byte is first read as UTF-8 by DuckDB, which refuses
    bytes that are not UTF-8 as it reads: decoding it in Python first (~0.25 s per million rows) is
    left to files that fail that way. They are read again after the block-by-block check below
    (org_register_utf8), which names the row, column and cell of bad bytes and transcodes GB18030."""
    if encoding is None and not _has_nul(path):
        try:
            notes, names = _read_utf8(con, path, path, strict=True)
        except (InputError, UnicodeDecodeError):
            pass
        else:
            return _checked(con, path, notes, names)
    utf8, _ = org_register_utf8(path, encoding)
    try:
        notes, names = _read_utf8(con, path, utf8)
    finally:
        if utf8 != path:
            utf8.unlink(missing_ok=True)
    return _checked(con, path, notes, names)


def _has_nul(path: Path) -> bool:
    with open(path, "rb") as fh:
        return any(b"\x00" in block for block in iter(lambda: fh.read(BLOCK), b""))


def _read_utf8(con, path: Path, utf8: Path, strict: bool = False) -> tuple[int, list[str]]:
    """Read the UTF-8 file `utf8` (the register `path`, or its transcoded copy) into INCOMING; its
    `#` note lines and header as printed."""
    notes = _org_register_notes(utf8)
    with open(utf8, "rb") as fh:
        for _ in range(notes):
            fh.readline()
        line = fh.readline().decode("utf-8", "strict" if strict else "replace").rstrip("\r\n")
    separator = "\t" if line.count("\t") > line.count(",") else ","
    cells = next(csv.reader([line], delimiter=separator), [])
    names = [c.strip().lstrip("\ufeff") for c in cells]
    lookup = {h: ours for ours, heads in ORG_REGISTER_COLUMNS.items() for h in heads}
    at = {lookup[n]: j for j, n in reversed(list(enumerate(names))) if n in lookup}
    missing = [heads[0] for ours, heads in ORG_REGISTER_COLUMNS.items() if ours not in at]
    if not line.strip():
        raise InputError(path, "not a well-formed table: the file has no header", row=notes + 1)
    if missing:
        unknown = [n for n in names if n not in lookup]
        renamed = f"; the header has {unknown[0]!r} instead (renamed?)" if unknown else ""
        raise InputError(path, f"missing column(s) {', '.join(missing)}{renamed}", row=notes + 1,
                         column=missing[0], value=unknown[0] if unknown else None,
                         hint="expected the columns " + ", ".join(h[0] for h in ORG_REGISTER_COLUMNS.values()))
    columns = "{" + ", ".join(f"'c{j}': 'VARCHAR'" for j in range(len(names))) + "}"
    # Row numbers are the cells table's rowid: DuckDB keeps the order it reads rows in, and numbering
    # them with row_number() instead would funnel the parallel read through one thread.
    try:
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE {INCOMING}_cells AS
            SELECT {', '.join(f'c{at[ours]} AS {ours}' for ours in ORG_REGISTER_COLUMNS)}
            FROM read_csv({_lit(str(utf8))}, header = false, skip = {notes + 1}, delim = {_lit(separator)},
                          quote = '"', escape = '"', columns = {columns}, auto_detect = false,
                          strict_mode = true, null_padding = false, ignore_errors = false);
            CREATE OR REPLACE TEMP VIEW {INCOMING} AS
            SELECT (rowid + {notes + 2})::BIGINT AS source_row, * FROM {INCOMING}_cells""")
    except duckdb.Error as exc:
        raise InputError(path, f"not a well-formed table: {exc}".splitlines()[0]) from exc
    return notes, names


def _checked(con, path: Path, notes: int, names: list[str]) -> list[str]:
    """Refuse an empty register, and the first row failing each of _CHECKS (in their order)."""
    if con.execute(f"SELECT count(*) FROM {INCOMING}").fetchall()[0][0] == 0:
        raise InputError(path, "the register has a header but no organizations", row=notes + 1)
    passed = con.execute("SELECT " + ", ".join(f"coalesce(bool_and(coalesce({ok}, false)), true)"
                                               for _, ok, _ in _CHECKS) + f" FROM {INCOMING}",
                         {"today": today()} if any("$today" in ok for _, ok, _ in _CHECKS) else None).fetchall()[0]
    for (col, ok, message), good in zip(_CHECKS, passed):
        if not good:  # the first row that fails it, with the cell as printed
            row, value = con.execute(f"SELECT source_row, {col} FROM {INCOMING} WHERE NOT coalesce({ok}, false) "
                                     "ORDER BY source_row LIMIT 1", {"today": today()} if "$today" in ok else None
                                     ).fetchall()[0]
            raise InputError(path, message, row=row, column=col, value=value)
    return names


# --------------------------------------------------------------------------------------------------
# Personal fields. The readers above keep only the columns they know, so a register's personal and
# contact columns never reach the warehouse. A snapshot file keeps the bytes as fetched, though, and
# data/ is committed: `ngobrief pull` refuses a register that has such columns (pull.py), naming
# them, so that none is ever stored (docs/sources.md, "Personal fields").
