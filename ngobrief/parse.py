"""Read source files (CSV, TSV or XLSX; UTF-8, UTF-16 or GB18030) into typed Polars frames, keeping
every figure as it was published, with the precision it was printed with.

Rows are numbered as a spreadsheet shows them: in a file whose first line is the header, the header
is row 1 and the first figure row 2. Every error names the file, row, column and value at fault."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import polars as pl

from .errors import InputError

MISSING = {"", "--", "—", "——", "-", "–", "...", "…", "n/a", "NA", "N/A", "－－", "－"}

# Unit words that scale a printed figure; 万 = 10^4 and 亿 = 10^8.
MULTIPLIERS = {
    "": Decimal(1), "元": Decimal(1), "%": Decimal(1),
    "万": Decimal(10) ** 4, "万元": Decimal(10) ** 4,
    "亿": Decimal(10) ** 8, "亿元": Decimal(10) ** 8,
    "million": Decimal(10) ** 6, "billion": Decimal(10) ** 9,
}
# A count word after the number (49.9万个, 3029家, 613.3万人) names what is counted; it does not scale.
_PUBLISHED = re.compile(
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)\s*"
    r"(?P<unit>万元|万|亿元|亿|million|billion|%|元)?\s*(?:个|家|人|名)?$"
)

PERIODS = ("year_end", "Q1", "Q2", "Q3", "Q4", "as_of")
LONG_COLUMNS = ("year", "period", "as_of", "measure", "org_type", "value",
                "as_published", "unit", "source_id", "note")
OBSERVATION_COLUMNS = ("year", "period", "as_of", "measure", "org_type", "value", "as_published",
                       "half_unit", "unit", "source_id", "note", "source_row", "source_column")


@dataclass(frozen=True)
class Published:
    """A figure as printed: its value and half a unit of its last printed digit."""

    value: float
    half_unit: float
    unit: str


def parse_published(text: str | None) -> Published | None:
    """`49.9万` -> 499000 ± 500; `3,029` -> 3029 ± 0.5; `0.11%` -> 0.11 ± 0.005; `--` -> None.

    Full-width digits and commas (３，０２９) read as their ASCII forms."""
    if text is None:
        return None
    s = unicodedata.normalize("NFKC", str(text)).strip()
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


def is_missing(text: str | None) -> bool:
    return text is None or unicodedata.normalize("NFKC", str(text)).strip() in MISSING


# --------------------------------------------------------------------------------------------------
# Reading cells: every format becomes a Table of text cells with spreadsheet row numbers.

@dataclass
class Table:
    """Every non-blank row of one file (or sheet) as text cells, with the row number a spreadsheet shows."""

    name: str                                   # the file as errors name it
    rows: "list[tuple[int, list[str]]] | Rows"  # a text file's rows are walked again from its bytes (Rows)
    encoding: str | None = None                 # how the text was decoded (None for XLSX)
    sheet: str | None = None                    # the sheet read (XLSX only)
    ragged_ok: bool = False                     # XLSX rows may stop early: missing cells are blank


@dataclass
class Parsed:
    """What a layout parser made of a file: raw text cells, typed rows, and what it noticed."""

    raw: pl.DataFrame
    typed: pl.DataFrame
    encoding: str | None = None
    sheet: str | None = None
    notes: list[str] = field(default_factory=list)


_CJK = re.compile("[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def _header_line(data: bytes, skip_notes: bool = False) -> tuple[int, bytes]:
    """The first line of a text file (after `#` note lines if asked), as (its start, its bytes)."""
    start = 0
    while True:
        end = data.find(b"\n", start)
        line = data[start: end if end >= 0 else len(data)]
        if not (skip_notes and line.lstrip(b"\xef\xbb\xbf").startswith(b"#")) or end < 0:
            return start, line.rstrip(b"\r")
        start = end + 1


def _decode_any(raw: bytes, encodings=None) -> str | None:
    """`raw` decoded by the first of `encodings` (default UTF-8, then GB18030) that reads it; else None."""
    for enc in encodings or ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except (UnicodeDecodeError, LookupError):
            pass
    return None


def cell_at(data: bytes, pos: int, *, skip_notes: bool = False, binary: bool = False) -> tuple[int, str, str]:
    """(row, column, cell) of byte `pos` of a text file, for errors about bytes that are not text: the
    row is the line number, the column its header (or #n), the cell shown with undecodable bytes as
    U+FFFD. Quoted separators are not told apart: the column is the one the line suggests. In a
    `binary` file the header is trusted only if it is UTF-8 (anything decodes as GB18030)."""
    header_at, header = _header_line(data, skip_notes)
    sep = b"\t" if header.count(b"\t") > header.count(b",") else b","
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    line = data[start: end if end >= 0 else len(data)].rstrip(b"\r")
    row = data.count(b"\n", 0, start) + 1
    j = data.count(sep, start, pos)
    cells = line.split(sep)
    cell = cells[j] if j < len(cells) else b""
    names = header.split(sep)
    column = (_decode_any(names[j], ("utf-8-sig",) if binary else ("utf-8-sig", "gb18030")) or ""
              if start > header_at and j < len(names) else "").strip()
    value = _decode_any(cell) or cell.decode("utf-8", "replace")
    return row, column or f"#{j + 1}", value[:60] + ("…" if len(value) > 60 else "")


def _bytes_error(name: str, data: bytes, pos: int, message: str, hint: str | None = None,
                 binary: bool = False) -> InputError:
    row, column, value = cell_at(data, pos, binary=binary)
    return InputError(name, message, row=row, column=column, value=value, hint=hint)


def _mixed(prefix: bytes) -> bool:
    """Text before the first byte that is not UTF-8 holds Chinese written as UTF-8: the file mixes
    encodings (a GB18030 file that happens to start with a valid UTF-8 sequence does not count)."""
    return bool(_CJK.search(prefix.decode("utf-8", "ignore")))


_BLOCK = 1 << 22   # bytes decoded at a time when checking an encoding


def _blocks(data: bytes):
    return (data[off:off + _BLOCK] for off in range(0, len(data), _BLOCK))


def _first_undecodable(blocks, encoding: str) -> tuple[int, bool] | None:
    """Where the bytes `blocks` yields (in order) stop being `encoding` (None if they are all
    `encoding`), and whether Chinese text decoded before that point. Decoded block by block: the
    text is never held whole."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, cjk = 0, False
    for block in blocks:
        pending = decoder.getstate()[0]       # bytes of a character cut at the end of the last block
        try:
            text = decoder.decode(block)
        except UnicodeDecodeError as exc:     # exc.start counts from the pending bytes
            return max(0, offset + exc.start - len(pending)), cjk or _mixed((pending + block)[:exc.start])
        cjk = cjk or bool(_CJK.search(text))
        offset += len(block)
    pending = decoder.getstate()[0]
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        return max(0, offset - len(pending) + exc.start), cjk
    return None


def detect_encoding(data: bytes, name: str, encoding: str | None = None) -> str:
    """The encoding to read `data` with: as declared, else by BOM (UTF-8, UTF-16), else UTF-8, else
    GB18030 (which covers GBK). A file whose rows are partly UTF-8 and partly something else, bytes
    that are no text, and a NUL byte anywhere are refused at their row, column and cell."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(name, f"unknown encoding {encoding!r}", hint="e.g. utf-8, gb18030, utf-16") from None
        if (bad := _first_undecodable(_blocks(data), encoding)) is not None:
            raise _bytes_error(name, data, bad[0], f"cannot be decoded as {encoding} (byte "
                               f"{data[bad[0]:bad[0] + 1]!r})",
                               hint="declare the encoding the file is in, or leave --encoding out")
        if not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")) and (nul := data.find(b"\x00")) >= 0:
            raise _bytes_error(name, data, nul, "binary content (a NUL byte) where text was expected", binary=True)
        return encoding.lower()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if (bad := _first_undecodable(_blocks(data), "utf-16")) is not None:
            raise InputError(name, f"starts with a UTF-16 mark but is not UTF-16 from byte {bad[0]}")
        return "utf-16"
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _bytes_error(name, data, nul, "binary content (a NUL byte) where text was expected",
                           hint="is this really a CSV? XLSX workbooks are read as such", binary=True)
    if data.startswith(b"\xef\xbb\xbf"):
        if (bad := _first_undecodable(_blocks(data), "utf-8")) is not None:
            raise _bytes_error(name, data, bad[0], "starts with a UTF-8 mark but this row is not UTF-8 "
                               "(mixed encodings)", hint="save the whole file in one encoding")
        return "utf-8-sig"
    bad = _first_undecodable(_blocks(data), "utf-8")
    if bad is None:
        return "utf-8"
    if bad[1]:
        raise _bytes_error(name, data, bad[0], "mixed encodings: the rows above are UTF-8, this one is not",
                           hint="save the whole file in one encoding")
    if (bad := _first_undecodable(_blocks(data), "gb18030")) is not None:
        raise _bytes_error(name, data, bad[0], "neither UTF-8 nor GB18030 text",
                           hint="save it as UTF-8, or declare its encoding")
    return "gb18030"


def decode_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """The text of `data` and the encoding it was read with (see detect_encoding)."""
    enc = detect_encoding(data, name, encoding)
    return data.decode(enc), enc


def read_text(path: Path, encoding: str | None = None) -> str:
    """A text file decoded as declared, else as UTF-8 (with or without BOM), UTF-16 or GB18030."""
    return decode_text(Path(path).read_bytes(), str(path), encoding)[0]


def _lines(data: bytes, encoding: str, newline: str):
    """The lines of a text file, decoded as they are read (a leading BOM dropped)."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline=newline)
    first = True
    for line in stream:
        if first:
            line, first = line.lstrip("\ufeff"), False
        yield line


def _sniff_separator(lines) -> str:
    first = next((ln for ln in lines if ln.strip()), "")
    return "\t" if first.count("\t") > first.count(",") else ","


def _text_rows(data: bytes, encoding: str, separator: str, name: str = "<data>"):
    """Every non-blank row of a text file as (row number, cells), parsed as it is walked."""
    if separator == "\t":
        # Tab-separated files are not quoted: a record is a line, whatever characters its cells hold.
        for i, line in enumerate(_lines(data, encoding, "\n"), start=1):
            rec = line[:-1] if line.endswith("\n") else line
            cells = (rec[:-1] if rec.endswith("\r") else rec).split("\t")
            if any(c.strip() for c in cells):
                yield i, cells
        return
    i = 0
    try:
        for rec in csv.reader(_lines(data, encoding, ""), delimiter=separator, strict=True):
            i += 1
            if any(c.strip() for c in rec):
                yield i, rec
        return
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            # the file ends inside a quoted cell: it was cut off (or a quote was never closed)
            first, cells, n = None, [], 0
            for n, cells in enumerate(csv.reader(_lines(data, encoding, ""), delimiter=separator), start=1):
                if first is None and any(c.strip() for c in cells):
                    first = cells
            j = len(cells) - 1
            raise InputError(name, "the file ends inside a quoted cell: truncated, or a quote is not closed",
                             row=n, column=_norm_header(first[j]) if n > 1 and first and j < len(first) else f"#{j + 1}",
                             value=cells[j][:60] if cells else "", hint="pull the complete file") from None
    # a stray quote inside a cell: read on leniently (as a character) after the rows already read
    for n, rec in enumerate(csv.reader(_lines(data, encoding, ""), delimiter=separator), start=1):
        if n > i and any(c.strip() for c in rec):
            yield n, rec


class Rows:
    """The non-blank rows of a text file, parsed again from its bytes each time they are walked, so
    that a large file is never held as Python lists of cells. The first rows asked for are kept."""

    def __init__(self, walk):
        self._walk, self._head, self._whole = walk, [], False

    def _fill(self, n: int) -> None:
        if len(self._head) < n and not self._whole:
            self._head = list(itertools.islice(self._walk(), n))
            self._whole = len(self._head) < n

    def __getitem__(self, i):
        if isinstance(i, slice):
            if (i.start or 0) >= 0 and i.stop is not None and i.stop >= 0:
                self._fill(i.stop)
                return self._head[i]
            return list(self)[i]
        if i < 0:
            return list(self)[i]
        self._fill(i + 1)
        return self._head[i]

    def __iter__(self):
        return iter(self._head) if self._whole else self._walk()

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __bool__(self) -> bool:
        self._fill(1)
        return bool(self._head)


def _xlsx_text(cell) -> str:
    """A cell as Excel shows it: numbers with the decimals of their format, percentages as 12.5%."""
    v = cell.value
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).upper()
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, (int, float)):
        fmt = (cell.number_format or "General").split(";")[0]
        m = re.search(r"0\.(0+)", fmt)
        decimals = len(m.group(1)) if m else None
        if "%" in fmt:
            return f"{Decimal(repr(float(v))) * 100:.{decimals or 0}f}%"
        if decimals is not None:
            return f"{float(v):.{decimals}f}"
        if isinstance(v, int) or float(v).is_integer():
            return str(int(v))
        return format(Decimal(repr(float(v))), "f")
    return str(v)


def _read_xlsx(data: bytes, name: str, sheet: str | None) -> Table:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged workbook
        raise InputError(name, f"not a readable XLSX workbook: {exc}") from None
    if sheet is None:
        ws = wb.worksheets[0]
    elif sheet in wb.sheetnames:
        ws = wb[sheet]
    else:
        raise InputError(name, f"no sheet named {sheet!r}", hint=f"sheets: {', '.join(wb.sheetnames)}")
    formulas = None
    rows = []
    for cells in ws.iter_rows():
        if any(c.value is None for c in cells) and formulas is None:
            # a formula whose result was never saved (a workbook written by a script) reads as empty:
            # that would be a false gap, so look for formulas behind the empty cells once
            formulas = openpyxl.load_workbook(io.BytesIO(data), data_only=False)[ws.title]
        for c in cells:
            f = formulas[c.coordinate].value if c.value is None and formulas is not None else None
            if isinstance(f, str) and f.startswith("="):
                raise InputError(name, "a formula without a saved result", row=c.row, column=c.coordinate,
                                 value=f, hint="open the workbook in Excel or LibreOffice, save it, pull again")
        texts = [_xlsx_text(c) for c in cells]
        while texts and texts[-1] == "":
            texts.pop()
        if any(t.strip() for t in texts):
            rows.append((cells[0].row, texts))
    return Table(name, rows, None, ws.title, ragged_ok=True)


def read_cells(source: Path | bytes, *, name: str | None = None, encoding: str | None = None,
               sheet: str | None = None, separator: str | None = None) -> Table:
    """Read a CSV, TSV or XLSX file (told apart by content, not by name) as text cells."""
    if isinstance(source, (bytes, bytearray)):
        data, name = bytes(source), name or "<data>"
    else:
        path = Path(source)
        name = name or str(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputError(name, "no such file") from None
        except IsADirectoryError:
            raise InputError(name, "is a folder, not a file") from None
    if not data or data.isspace():
        raise InputError(name, "the file is empty")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data, name, sheet)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise InputError(name, "an old-style .xls workbook", hint="save it as .xlsx or CSV and pull that")
    if sheet is not None:
        raise InputError(name, f"a sheet ({sheet!r}) was asked for, but this is a text file, not a workbook")
    enc = detect_encoding(data, name, encoding)
    sep = separator or _sniff_separator(_lines(data, enc, ""))
    rows = Rows(lambda: _text_rows(data, enc, sep, name))
    if not rows:
        raise InputError(name, "the file is empty")
    return Table(name, rows, enc)


def _norm_header(text: str) -> str:
    # headers keep their printed form (社会组织（万个）); matching normalizes them separately (_key)
    return text.strip().lstrip("\ufeff").strip()


_FRAME_BLOCK = 1 << 14   # rows collected as Python lists before they become a frame


def text_frame(table: Table, header_at: int = 0, columns=None) -> tuple[list[str], pl.DataFrame]:
    """The rows after `table.rows[header_at]` as a frame of text cells named by that header row,
    plus `source_row`. Only `columns` (default: all) are kept. A row with more cells than the header
    is malformed; so is a row of a text file with fewer."""
    header_no, header_cells = table.rows[header_at]
    header = [_norm_header(c) for c in header_cells]
    while header and header[-1] == "":
        header.pop()
    seen = {}
    for j, h in enumerate(header):
        if h == "":
            raise InputError(table.name, "a column has no header", row=header_no, column=f"#{j + 1}",
                             hint="name every column, or delete the empty one")
        if h in seen:
            raise InputError(table.name, f"two columns have the same header (#{seen[h] + 1} and #{j + 1})",
                             row=header_no, column=h)
        seen[h] = j
    keep = [h for h in header if columns is None or h in columns]
    idx = [seen[h] for h in keep]
    schema = {"source_row": pl.Int64, **{h: pl.Utf8 for h in keep}}
    frames = []
    data: dict[str, list] = {c: [] for c in schema}
    rows = iter(table.rows)
    for _ in range(header_at + 1):
        next(rows)
    for row_no, cells in rows:
        if len(data["source_row"]) >= _FRAME_BLOCK:   # a block of Python cells becomes Arrow text
            frames.append(pl.DataFrame(data, schema=schema))
            data = {c: [] for c in schema}
        if len(cells) > len(header):
            extra = next((j for j in range(len(header), len(cells)) if cells[j].strip()), None)
            if extra is not None:
                raise InputError(table.name, f"the row has {len(cells)} cells but the header only "
                                 f"{len(header)}: malformed row", row=row_no, column=f"#{extra + 1}",
                                 value=cells[extra], hint="a stray separator or an unquoted comma?")
        elif len(cells) < len(header) and not table.ragged_ok:
            raise InputError(table.name, f"the row has {len(cells)} cells but the header "
                             f"{len(header)}: malformed row", row=row_no, column=header[len(cells)],
                             value=cells[-1] if cells else "", hint="a missing separator?")
        data["source_row"].append(row_no)
        for h, j in zip(keep, idx):
            data[h].append(cells[j] if j < len(cells) else "")
    frames.append(pl.DataFrame(data, schema=schema))
    return header, pl.concat(frames, rechunk=False) if len(frames) > 1 else frames[0]


def read_table(path: Path, *, separator: str | None = None, encoding: str | None = None) -> pl.DataFrame:
    """Every cell as text, with `source_row` (the file's row number, header = 1)."""
    return text_frame(read_cells(path, encoding=encoding, separator=separator))[1]


def require_columns(df_or_header, path, columns, *, row: int | None = None, exact: bool = False) -> None:
    """Every column of `columns` is in the header (row `row`). A header the layout does not know is
    named as the likely rename of a missing column; with `exact`, an extra column is refused too
    (it would be dropped without a word)."""
    have = df_or_header.columns if isinstance(df_or_header, pl.DataFrame) else df_or_header
    missing = [c for c in columns if c not in have]
    unknown = [h for h in have if h not in columns and h != "source_row"]
    if missing:
        renamed = f"; the header has {unknown[0]!r} instead (renamed?)" if unknown else ""
        raise InputError(path, f"missing column(s) {', '.join(missing)}{renamed}", row=row,
                         column=missing[0], value=unknown[0] if unknown else None,
                         hint=f"expected columns: {', '.join(columns)}")
    if exact and unknown:
        raise InputError(path, "a column this layout does not have", row=row, column=unknown[0], value=unknown[0],
                         hint=f"expected columns: {', '.join(columns)}; delete or rename it")


def _today() -> dt.date:
    return dt.date.today()


def _check_year(df: pl.DataFrame, path, column: str, year: pl.Expr) -> None:
    """A figure for a year that has not begun is a typo (or a forecast, which is not a published figure)."""
    _first_bad(df, path, column, year.is_null() | (year <= _today().year),
               f"a year in the future (this is {_today().year})")


def _first_bad(df: pl.DataFrame, path, column: str, ok: pl.Expr, message: str, hint: str | None = None) -> None:
    bad = df.filter(~ok.fill_null(False))
    if bad.height:
        r = bad.row(0, named=True)
        raise InputError(path, message, row=r["source_row"], column=column, value=r[column], hint=hint)


def _strip(df: pl.DataFrame, columns) -> pl.DataFrame:
    """Cells trimmed; a column with nothing to trim is shared with `df`, not copied (large files)."""
    changed = [c for c in columns if df.select((pl.col(c).str.strip_chars() != pl.col(c)).any()).item()]
    return df.with_columns([pl.col(c).str.strip_chars() for c in changed]) if changed else df


def _blank_to_null(column: str) -> pl.Expr:
    return pl.when(pl.col(column).str.strip_chars() == "").then(None).otherwise(pl.col(column)).alias(column)


def drop_repeats(typed: pl.DataFrame, name: str, key: list[str], same: list[str],
                 shown: str | None = None) -> tuple[pl.DataFrame, list[str]]:
    """Keep a figure a file prints twice once (an exact repeat); refuse one it prints with two values.
    The error's sentence quotes the cells as printed (column `shown`, when given); its value is typed.
    Compared in Polars (a join on the key), not row by row in Python."""
    extra = [c for c in ["source_column", shown] if c and c in typed.columns and c not in key + same]
    df = typed.select("source_row", *extra, *key, *same).with_row_index("_i")
    firsts = df.group_by(key, maintain_order=True).agg(pl.all().first())
    later = (df.join(firsts.rename({c: f"{c}__first" for c in firsts.columns if c not in key}), on=key,
                     how="inner", nulls_equal=True, maintain_order="left")
             .filter(pl.col("_i") != pl.col("_i__first")))
    if later.height == 0:
        return typed, []
    differs = [pl.col(c).ne_missing(pl.col(f"{c}__first")) for c in same]
    conflict = later.filter(pl.any_horizontal(differs)).sort("_i")
    if conflict.height:
        r = conflict.row(0, named=True)
        col = next(c for c in same if (r[c] != r[f"{c}__first"]))
        show = shown if shown in r else col
        raise InputError(name, f"gives {r[show]!r} where row {r['source_row__first']} gives "
                         f"{r[f'{show}__first']!r} for the same {', '.join(key)}", row=r["source_row"],
                         column=r.get("source_column") or col, value=r[col],
                         hint="a file may print a figure once; put a second version in its own snapshot")
    notes = [f"row {r} repeats row {e}: kept once"
             for r, e in later.sort("_i").select("source_row", "source_row__first").iter_rows()]
    if "source_column" in typed.columns:
        gone = later.select("source_row", "source_column")
        typed = typed.join(gone, on=["source_row", "source_column"], how="anti", maintain_order="left")
    else:
        typed = typed.filter(~pl.col("source_row").is_in(later["source_row"].implode()))
    return typed, notes


# --------------------------------------------------------------------------------------------------
# The canonical long layout: one row per published figure.

def _figures(df: pl.DataFrame, name: str, value_col: str | None, published_col: str,
             column_name=None) -> tuple[list[float | None], list[float | None], list[str | None]]:
    values, halves, printed = [], [], []
    for r in df.iter_rows(named=True):
        pub_text = r[published_col]
        try:
            pub = parse_published(pub_text)
        except ValueError:
            raise InputError(name, "the figure as published cannot be read", row=r["source_row"],
                             column=column_name or published_col, value=pub_text,
                             hint="write digits with an optional 万, 亿, 万元, million or %") from None
        val = None
        if value_col is not None:
            try:
                val = parse_published(r[value_col])
            except ValueError:
                raise InputError(name, "not a number", row=r["source_row"], column=value_col,
                                 value=r[value_col]) from None
        if val is None and pub is None:
            values.append(None), halves.append(None), printed.append(None)
            continue
        values.append(val.value if val is not None else pub.value)
        halves.append(pub.half_unit if pub is not None else val.half_unit)
        printed.append(None if is_missing(pub_text) else pub_text.strip())
    return values, halves, printed


def _check_figure(name: str, row: int, column: str, text: str, value: float | None, percent: bool) -> None:
    """Published figures are counts, amounts or percentages: none is negative, no percentage above 100."""
    if value is None:
        return
    if value < 0:
        raise InputError(name, "a negative figure: counts, amounts and percentages are never below 0",
                         row=row, column=column, value=text)
    if percent and value > 100:
        raise InputError(name, "a percentage above 100", row=row, column=column, value=text)


def parse_long(table: Table) -> Parsed:
    """The canonical long layout (the columns of LONG_COLUMNS)."""
    name = table.name
    header, raw = text_frame(table)
    require_columns(header, name, LONG_COLUMNS, row=table.rows[0][0], exact=True)
    raw = raw.select(["source_row", *LONG_COLUMNS])
    df = _strip(raw, LONG_COLUMNS)
    if df.height == 0:
        raise InputError(name, "the file has a header but no figures", row=table.rows[0][0])
    for col in ("year", "period", "measure", "org_type", "source_id", "unit"):
        _first_bad(df, name, col, pl.col(col) != "", "a required value is blank")
    year = pl.col("year").cast(pl.Int32, strict=False)
    _first_bad(df, name, "year", year.is_not_null(), "a year must be a whole number such as 2012")
    _check_year(df, name, "year", year)
    _first_bad(df, name, "period", pl.col("period").is_in(PERIODS),
               f"unknown period; use one of {', '.join(PERIODS)}")
    as_of = pl.col("as_of").str.to_date("%Y-%m-%d", strict=False)
    _first_bad(df, name, "as_of", as_of.is_not_null(), "a date must be written YYYY-MM-DD")

    values, halves, printed = _figures(df, name, "value", "as_published")
    for r, v in zip(df.select("source_row", "value", "as_published", "unit").iter_rows(), values):
        _check_figure(name, r[0], "as_published" if is_missing(r[1]) else "value",
                      r[2] if is_missing(r[1]) else r[1], v, r[3] == "percent" or str(r[2]).strip().endswith("%"))
    typed = df.with_columns(
        year.alias("year"),
        as_of.alias("as_of"),
        pl.Series("value", values, dtype=pl.Float64),
        pl.Series("half_unit", halves, dtype=pl.Float64),
        pl.Series("as_published", printed, dtype=pl.Utf8),
        _blank_to_null("note"),
        pl.lit("as_published").alias("source_column"),
    )
    notes = [f"row {r} prints no figure (blank or --): kept in raw only"
             for r in typed.filter(pl.col("value").is_null())["source_row"]]
    typed = typed.filter(pl.col("value").is_not_null()).select(OBSERVATION_COLUMNS)
    typed, repeats = drop_repeats(typed, name, ["year", "period", "as_of", "measure", "org_type", "source_id"],
                                  ["value", "half_unit", "unit"], shown="as_published")
    return Parsed(raw, typed, table.encoding, table.sheet, notes + repeats)


def parse_long_csv(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The canonical long layout from a file. Returns (raw, typed): raw is every cell as text; typed
    has proper types and the published precision of each figure (`half_unit`)."""
    p = parse_long(read_cells(path, encoding=encoding))
    return p.raw, p.typed


# --------------------------------------------------------------------------------------------------
# A wide table: one row per year (or per year and measure), one column per org type.
# The mapping is documented in docs/sources.md; a test keeps the two in step.

YEAR_HEADERS = ("年份", "年度", "年", "year")
ORG_TYPE_HEADERS = {
    "all": ("社会组织", "社会组织总数", "社会组织合计", "合计", "总计", "总数", "all", "total",
            "social organizations", "social organisations"),
    "social_association": ("社会团体", "社团", "social_association", "social associations",
                           "social association"),
    "private_non_enterprise": ("民办非企业单位", "社会服务机构", "民非", "private_non_enterprise",
                               "private non-enterprise units", "private non-enterprise unit",
                               "social service organizations", "social service organisations"),
    "foundation": ("基金会", "foundation", "foundations"),
    "foundation_public": ("公募基金会", "公募", "foundation_public", "public foundations"),
    "foundation_nonpublic": ("非公募基金会", "非公募", "foundation_nonpublic", "non-public foundations"),
    "foundation_foreign_related": ("涉外基金会", "foundation_foreign_related"),
    "foundation_overseas_rep_office": ("境外基金会代表机构", "foundation_overseas_rep_office"),
}
OTHER_HEADERS = {
    "period": ("期间", "统计期", "统计期间", "period"),
    "as_of": ("截至日期", "截止日期", "统计截止日期", "日期", "as_of", "date"),
    "measure": ("指标", "measure"),
    "source_id": ("来源", "source_id", "source"),
    "note": ("备注", "说明", "注", "note", "notes"),
}
MEASURE_NAMES = {
    "registered": ("登记数", "登记数量", "单位数", "机构数", "数量", "registered"),
    "employees": ("职工人数", "从业人员", "吸纳就业", "employees"),
    "engaged_international": ("国际及其他涉外组织", "国际及其他涉外组织类", "涉外组织", "engaged_international"),
    "published_share_pct": ("占比", "比重", "published_share_pct"),
}
MEASURE_UNITS = {"registered": "organizations", "engaged_international": "organizations",
                 "employees": "persons", "published_share_pct": "percent"}
PERIOD_NAMES = {
    "year_end": ("年末", "年底", "全年", "year_end"),
    "Q1": ("一季度", "第一季度", "1季度", "Q1"), "Q2": ("二季度", "第二季度", "2季度", "Q2"),
    "Q3": ("三季度", "第三季度", "3季度", "Q3"), "Q4": ("四季度", "第四季度", "4季度", "Q4"),
    "as_of": ("as_of",),
}
PERIOD_ENDS = {"year_end": (12, 31), "Q1": (3, 31), "Q2": (6, 30), "Q3": (9, 30), "Q4": (12, 31)}

# `社会组织（万个）`: the part in brackets is the column's unit.
_HEADER_UNIT = re.compile(r"^(?P<name>.*?)\s*[(\[]\s*(?:单位\s*[:：]\s*)?(?P<mult>万|亿)?(?P<word>个|家|人|名|元)?\s*[)\]]$")
_PREAMBLE_UNIT = re.compile(r"单位\s*[:：]\s*(?P<mult>万|亿)?(?P<word>个|家|人|名|元)?")


def _key(text: str) -> str:
    return re.sub(r"[\s_]+", " ", unicodedata.normalize("NFKC", text)).strip().lower()


def _lookup(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    return {_key(alias): canonical for canonical, aliases in table.items() for alias in aliases}


_ORG_TYPES, _OTHERS = _lookup(ORG_TYPE_HEADERS), _lookup(OTHER_HEADERS)
_MEASURES, _PERIODS = _lookup(MEASURE_NAMES), _lookup(PERIOD_NAMES)
_YEARS = {_key(h) for h in YEAR_HEADERS}


def _split_header_unit(header: str) -> tuple[str, str | None]:
    m = _HEADER_UNIT.match(unicodedata.normalize("NFKC", header).strip())
    if not m:
        return header, None
    return m.group("name"), m.group("mult") or ""


def _is_wide_header(cells: list[str]) -> bool:
    keys = [_key(_split_header_unit(c)[0]) for c in cells]
    return any(k in _YEARS for k in keys) and any(k in _ORG_TYPES for k in keys)


def _parse_year(text: str) -> int | None:
    m = re.fullmatch(r"(\d{4})\s*年?(?:度)?", unicodedata.normalize("NFKC", text).strip())
    return int(m.group(1)) if m else None


def _parse_date(text: str) -> dt.date | None:
    s = unicodedata.normalize("NFKC", text).strip()
    m = (re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})", s)
         or re.fullmatch(r"(\d{4})年(\d{1,2})月(\d{1,2})日", s))
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def parse_wide(table: Table, *, source_id: str | None = None, measure: str | None = None,
               period: str | None = None, unit: str | None = None) -> Parsed:
    """A year × org-type table with English or Chinese headers (see docs/sources.md).

    Every figure is attributed to `source_id` unless a 来源/source_id column names another. A figure
    in a column headed `社会组织（万个）`, or under a `单位：万个` line above the header, is in 万."""
    name = table.name
    at = next((i for i, (_, cells) in enumerate(table.rows[:10]) if _is_wide_header(cells)), None)
    if at is None:
        raise InputError(name, "no header row with a year column (年份 / year) and an org-type column "
                         "(社会组织, 社会团体, 民办非企业单位, 社会服务机构, 基金会, ...) in the first 10 rows",
                         hint="see docs/sources.md for the headers that are understood")
    table_mult = None
    for _, cells in table.rows[:at]:
        for c in cells:
            if m := _PREAMBLE_UNIT.search(unicodedata.normalize("NFKC", c)):
                table_mult = m.group("mult") or ""
    header, frame = text_frame(table, at)
    header_row = table.rows[at][0]

    year_col, org_cols, other_cols = None, {}, {}
    for h in header:
        base, mult = _split_header_unit(h)
        k = _key(base)
        if k in _YEARS:
            year_col = h
        elif k in _ORG_TYPES:
            t = _ORG_TYPES[k]
            if t in org_cols.values():
                twin = next(c for c, v in org_cols.items() if v == t)
                raise InputError(name, f"columns {twin!r} and {h!r} both mean {t}", row=header_row, column=h)
            org_cols[h] = t
        elif k in _OTHERS:
            other_cols[_OTHERS[k]] = h
        else:
            raise InputError(name, "unknown column header", row=header_row, column=h, value=h,
                             hint="docs/sources.md lists the headers understood; rename or delete the column")
    column_mult = {h: (_split_header_unit(h)[1] if _split_header_unit(h)[1] is not None else table_mult)
                   for h in org_cols}
    df = _strip(frame, [c for c in frame.columns if c != "source_row"])

    measure_default = measure or "registered"
    period_default = period or "year_end"
    if period_default not in PERIODS:
        raise InputError(name, f"unknown period {period_default!r}; use one of {', '.join(PERIODS)}")
    rows = []
    for r in df.iter_rows(named=True):
        row_no = r["source_row"]
        year = _parse_year(r[year_col])
        if year is None:
            raise InputError(name, "a year must be a whole number such as 2012 (or 2012年)",
                             row=row_no, column=year_col, value=r[year_col])
        if year > _today().year:
            raise InputError(name, f"a year in the future (this is {_today().year})", row=row_no,
                             column=year_col, value=r[year_col])
        m = measure_default
        if "measure" in other_cols and r[other_cols["measure"]]:
            text = r[other_cols["measure"]]
            m = _MEASURES.get(_key(text))
            if m is None:
                raise InputError(name, "unknown measure", row=row_no, column=other_cols["measure"], value=text,
                                 hint=f"use one of {', '.join(MEASURE_NAMES)} or a name in docs/sources.md")
        p = period_default
        if "period" in other_cols and r[other_cols["period"]]:
            text = r[other_cols["period"]]
            p = _PERIODS.get(_key(text)) or _PERIODS.get(text.strip())
            if p is None:
                raise InputError(name, f"unknown period; use one of {', '.join(PERIODS)} or 年末, 一季度, ...",
                                 row=row_no, column=other_cols["period"], value=text)
        if "as_of" in other_cols and r[other_cols["as_of"]]:
            as_of = _parse_date(r[other_cols["as_of"]])
            if as_of is None:
                raise InputError(name, "a date must be written YYYY-MM-DD (or 2022年12月31日)", row=row_no,
                                 column=other_cols["as_of"], value=r[other_cols["as_of"]])
        elif p in PERIOD_ENDS:
            as_of = dt.date(year, *PERIOD_ENDS[p])
        else:
            raise InputError(name, "period as_of needs a date column (截至日期 / as_of)", row=row_no,
                             column=other_cols.get("period", year_col), value=p)
        sid = (r[other_cols["source_id"]] if "source_id" in other_cols else "") or source_id
        if not sid:
            raise InputError(name, "no source for the figures: give the table a 来源/source_id column, "
                             "or pull it under a source id", row=row_no, column=year_col)
        note = (r[other_cols["note"]] or None) if "note" in other_cols else None
        for h, org_type in org_cols.items():
            text = r[h]
            if is_missing(text):
                continue
            mult = column_mult[h]
            printed = text
            if mult:
                try:
                    own = parse_published(text)
                except ValueError:
                    own = None
                if own is not None and own.unit in ("万", "亿", "万元", "亿元"):
                    raise InputError(name, f"the cell has a unit of its own and its column is in {mult}",
                                     row=row_no, column=h, value=text)
                printed = f"{text}{mult}"
            try:
                pub = parse_published(printed)
            except ValueError:
                raise InputError(name, "not a published figure", row=row_no, column=h, value=text,
                                 hint="write digits with an optional 万, 亿, 万元, million or %, "
                                      "or -- for a figure not published") from None
            _check_figure(name, row_no, h, text, pub.value,
                          (unit or MEASURE_UNITS.get(m, "")) == "percent" or pub.unit == "%")
            rows.append((year, p, as_of, m, org_type, pub.value, printed, pub.half_unit,
                         unit or MEASURE_UNITS.get(m, "organizations"), sid, note, row_no, h))
    if not rows:
        raise InputError(name, "the table has no figures (every figure cell is blank or --)")
    typed = pl.DataFrame(rows, orient="row", schema={
        "year": pl.Int32, "period": pl.Utf8, "as_of": pl.Date, "measure": pl.Utf8, "org_type": pl.Utf8,
        "value": pl.Float64, "as_published": pl.Utf8, "half_unit": pl.Float64, "unit": pl.Utf8,
        "source_id": pl.Utf8, "note": pl.Utf8, "source_row": pl.Int64, "source_column": pl.Utf8})
    typed, notes = drop_repeats(typed, name, ["year", "period", "as_of", "measure", "org_type", "source_id"],
                                ["value", "half_unit", "unit"], shown="as_published")
    cells = [(row_no, j + 1, header[j] if row_no > header_row and j < len(header) else None, c)
             for row_no, cs in table.rows for j, c in enumerate(cs)]
    raw = pl.DataFrame(cells, orient="row", schema={"source_row": pl.Int64, "column_no": pl.Int32,
                                                    "column_name": pl.Utf8, "cell": pl.Utf8})
    return Parsed(raw, typed, table.encoding, table.sheet, notes)


# --------------------------------------------------------------------------------------------------
# The CANGO survey's sector priorities.

SURVEY_COLUMNS = ("rank", "sector_en", "sector_zh", "support_band", "support_pct", "source_id", "note")


def parse_survey(table: Table) -> Parsed:
    """The survey's sector priorities: rank order, support band and any published percentage."""
    name = table.name
    header, raw = text_frame(table)
    require_columns(header, name, SURVEY_COLUMNS, row=table.rows[0][0], exact=True)
    raw = raw.select(["source_row", *SURVEY_COLUMNS])
    df = _strip(raw, SURVEY_COLUMNS)
    if df.height == 0:
        raise InputError(name, "the file has a header but no priorities", row=table.rows[0][0])
    rank = pl.col("rank").cast(pl.Int32, strict=False)
    _first_bad(df, name, "rank", rank.is_not_null(), "a rank must be a whole number")
    _first_bad(df, name, "rank", rank >= 1, "a rank starts at 1")
    pct = pl.col("support_pct").cast(pl.Float64, strict=False)
    _first_bad(df, name, "support_pct", pct.is_not_null() | (pl.col("support_pct") == ""), "not a percentage")
    _first_bad(df, name, "support_pct", pct.is_null() | pct.is_between(0, 100), "a percentage must be within 0-100")
    typed = df.with_columns(rank.alias("rank"), pct.alias("support_pct"), _blank_to_null("note"))
    return Parsed(raw, typed.select(["source_row", *SURVEY_COLUMNS]), table.encoding, table.sheet)


def parse_survey_csv(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    p = parse_survey(read_cells(path, encoding=encoding))
    return p.raw, p.typed


# --------------------------------------------------------------------------------------------------
# The RICF foundation register (data/RICF_CODEBOOK.md). Only the codebook's fields are read: the
# names, contact details and address columns of the source file never leave the file.

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


def _register_header(table: Table) -> tuple[int, dict[str, str]]:
    """Which row holds the column codes, and how each kept code is spelled there.

    The original file has two header rows (Chinese field names, then codes); the bundled one only the
    codes; a hand export may have only the Chinese names."""
    by_zh = {zh: code for code, zh in {**RICF_FIELDS, **RICF_PERSONAL}.items()}
    for i, (_, cells) in enumerate(table.rows[:2]):
        names = [_norm_header(c) for c in cells]
        if "ricf_oid" in names:
            return i, {c: c for c in RICF_FIELDS}
        if "机构ID" in names and not (i + 1 < len(table.rows[:i + 2])
                                     and "ricf_oid" in [_norm_header(c) for c in table.rows[i + 1][1]]):
            return i, {c: RICF_FIELDS[c] for c in RICF_FIELDS if RICF_FIELDS[c] in by_zh}
    raise InputError(table.name, "not an RICF register: no ricf_oid (机构ID) column in the first two rows",
                     row=table.rows[0][0], hint="see data/RICF_CODEBOOK.md")


def parse_register(table: Table, *, source_id: str | None = None) -> Parsed:
    """The RICF foundation register: one row per foundation (see data/RICF_CODEBOOK.md)."""
    name = table.name
    at, spelled = _register_header(table)
    header = [_norm_header(c) for c in table.rows[at][1]]
    require_columns(header, name, list(spelled.values()), row=table.rows[at][0])
    dropped = sorted(set(header) - set(spelled.values()))
    _, frame = text_frame(table, at, columns=set(spelled.values()))
    raw = frame.rename({v: k for k, v in spelled.items()}).select(["source_row", *RICF_FIELDS])
    if raw.height == 0:
        raise InputError(name, "the register has a header but no foundations")

    def bad(r, code, message, hint=None):
        raise InputError(name, message, row=r["source_row"], column=spelled[code], value=r[code], hint=hint)

    out = []
    for r in raw.iter_rows(named=True):
        s = {k: (v.strip() if isinstance(v, str) else v) for k, v in r.items()}
        oid = s["ricf_oid"]
        if not (oid.isascii() and oid.isdigit()):
            bad(r, "ricf_oid", "an RICF organization id must be a whole number")
        year = _parse_year(s["ba_rdt"])
        if year is None:
            bad(r, "ba_rdt", "a record year must be a year such as 2013")
        if year > _today().year:
            bad(r, "ba_rdt", f"a record year in the future (this is {_today().year})")
        if not s["ba_cn"]:
            bad(r, "ba_cn", "a foundation needs its registered name")
        ntr = s["ba_ntr"]
        if ntr and ntr not in FOUNDATION_TYPES:
            bad(r, "ba_ntr", "unknown foundation type", hint="公募 or 非公募")
        rng = s["ba_rng"]
        if rng and rng not in SCOPES:
            bad(r, "ba_rng", "unknown foundation scope", hint="全国 or 地方")
        founded = None
        if not is_missing(s["ba_fdt"]):
            m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", s["ba_fdt"])
            try:
                founded = dt.date(int(m.group(3)), int(m.group(1)), int(m.group(2))) if m else _parse_date(s["ba_fdt"])
            except ValueError:
                founded = None
            if founded is None:
                bad(r, "ba_fdt", "a founding date must be written M/D/YYYY (or YYYY-MM-DD)")
            if founded > _today():
                bad(r, "ba_fdt", "a founding date in the future")
        try:
            endowment = parse_published(s["ba_fnd"])
        except ValueError:
            bad(r, "ba_fnd", "an endowment must be an amount such as 200万元 or 1,000万元")
        if endowment is not None and endowment.value < 0:
            bad(r, "ba_fnd", "a negative endowment")
        counts = {}
        for code, col in _COUNTS.items():
            if is_missing(s[code]):
                counts[col] = None
            elif s[code].isascii() and s[code].isdigit():
                counts[col] = int(s[code])
            else:
                bad(r, code, "a count must be a whole number")
        focus = _split_list(s["ba_fcs"]) if not is_missing(s["ba_fcs"]) else None
        tax = None
        if not is_missing(s["ba_tax"]):
            tax = [t for t in _split_list(s["ba_tax"]) if t != "无"]
        prv = s["ba_prv"] or None
        out.append({
            "record_year": year, "ricf_oid": int(oid), "name_zh": s["ba_cn"], "name_en": s["ba_en"] or None,
            "registration_no": s["ba_rid"] or None, "org_code": s["ba_org"] or None,
            "mission": s["ba_msn"] or None, "business_scope": s["ba_srv"] or None,
            "focus_areas": focus,
            "international_focus": None if focus is None else INTERNATIONAL_AFFAIRS in focus,
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
        })
    typed = pl.DataFrame(out, schema={
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
        "source_row": pl.Int64}).select(REGISTER_COLUMNS)
    cmp = typed.with_columns(pl.col("focus_areas", "tax_status").list.join("\x1f"))
    try:
        kept, notes = drop_repeats(cmp, name, ["ricf_oid"], [c for c in REGISTER_COLUMNS
                                                            if c not in ("ricf_oid", "source_row")])
    except InputError as exc:  # name the file's column and its cell as written, not the typed value
        code = _REGISTER_CODES.get(exc.column, exc.column)
        cell = raw.filter(pl.col("source_row") == exc.row)[code][0] if code in raw.columns else exc.value
        raise InputError(name, exc.message, row=exc.row, column=spelled.get(code, code), value=cell,
                         hint=exc.hint) from None
    typed = typed.filter(pl.col("source_row").is_in(kept["source_row"].to_list()))
    personal = [h for h in dropped if h in RICF_PERSONAL or h in RICF_PERSONAL.values()]
    unused = [h for h in dropped if h not in personal]
    if personal:
        notes.append(f"dropped personal and contact fields at ingest: {', '.join(personal)}")
    if unused:
        notes.append(f"dropped fields the codebook does not describe: {', '.join(unused)}")
    moved = typed.filter(pl.col("province") != pl.col("province_as_published"))
    for r in moved.select("source_row", "province_as_published", "province").iter_rows():
        notes.append(f"row {r[0]}: province {r[1]!r} written as {r[2]!r}, the register's spelling")
    return Parsed(raw, typed, table.encoding, table.sheet, notes)


# --------------------------------------------------------------------------------------------------
# Which parser reads which layout.

LAYOUTS = {"long_csv": "the canonical long layout (one row per figure)",
           "wide_table": "a year × org-type table with English or Chinese headers",
           "survey_csv": "the CANGO survey's sector priorities",
           "ricf_tsv": "the RICF foundation register",
           "org_register": "a national register of social organizations, one row per organization"}


def detect_parser(table: Table) -> str:
    """The layout a table is in, from its header."""
    first = [_norm_header(c) for c in table.rows[0][1]]
    second = [_norm_header(c) for c in table.rows[1][1]] if len(table.rows[:2]) > 1 else []
    # most of a layout's columns: that layout, so that the missing or renamed one is named
    if sum(c in first for c in LONG_COLUMNS) * 2 > len(LONG_COLUMNS):
        return "long_csv"
    if sum(c in first for c in SURVEY_COLUMNS) * 2 > len(SURVEY_COLUMNS):
        return "survey_csv"
    if "ricf_oid" in first or "机构ID" in first or "ricf_oid" in second:
        return "ricf_tsv"
    if any(_is_wide_header(cells) for _, cells in table.rows[:10]):
        return "wide_table"
    raise InputError(table.name, "cannot tell which layout this is", row=table.rows[0][0],
                     hint="expected the long layout (year, period, as_of, measure, org_type, value, ...), "
                          "a wide table with a 年份/year column, or the RICF register; or give --parser")


def parse_source(source: Path | bytes, *, parser: str | None = None, name: str | None = None,
                 encoding: str | None = None, sheet: str | None = None, source_id: str | None = None,
                 measure: str | None = None, period: str | None = None,
                 unit: str | None = None) -> tuple[str, Parsed]:
    """Read any supported file and parse it with `parser` (default: detected). Returns (parser, Parsed)."""
    if parser is not None and parser not in LAYOUTS:
        raise InputError(name or str(source), f"unknown parser {parser!r}", hint=f"one of {', '.join(LAYOUTS)}")
    if parser == "org_register":  # read by Polars end to end: no per-cell Python at register size
        if isinstance(source, Path):
            raw, typed = org_register_parse(source, encoding=encoding)
            return parser, Parsed(raw, typed, encoding=encoding)
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:  # fetched bytes: Polars maps a file, not a buffer
            path = Path(tmp) / Path(name or "register.csv").name
            path.write_bytes(source)
            try:
                raw, typed = org_register_parse(path, encoding=encoding)
            except InputError as exc:  # name the file the user gave, not the temporary copy
                raise InputError(name or "input", exc.message, row=exc.row, column=exc.column,
                                 value=exc.value, hint=exc.hint) from None
        return parser, Parsed(raw, typed, encoding=encoding)
    table = read_cells(source, name=name, encoding=encoding, sheet=sheet)
    parser = parser or detect_parser(table)
    if parser == "long_csv":
        return parser, parse_long(table)
    if parser == "survey_csv":
        return parser, parse_survey(table)
    if parser == "ricf_tsv":
        return parser, parse_register(table, source_id=source_id)
    return parser, parse_wide(table, source_id=source_id, measure=measure, period=period, unit=unit)


def parse_snapshot(snapshot) -> Parsed:
    """A snapshot from the manifest, read with the options its entry records."""
    o = snapshot.options
    _, parsed = parse_source(snapshot.path, parser=snapshot.parser, name=f"data/{snapshot.file}",
                             encoding=o.get("encoding"), sheet=o.get("sheet"), source_id=snapshot.source_id,
                             measure=o.get("measure"), period=o.get("period"), unit=o.get("unit"))
    return parsed


def load(con, snapshot) -> int:
    """Parse one snapshot and load it into raw and staging (all or nothing). Returns rows loaded,
    0 when the same bytes are already in the warehouse."""
    from . import warehouse

    if warehouse.loaded_sha256(con, snapshot.snapshot_id) == snapshot.sha256:
        return 0
    parsed = parse_snapshot(snapshot)
    return warehouse.load_snapshot(con, snapshot, parsed.raw, parsed.typed, encoding=parsed.encoding,
                                   sheet=parsed.sheet)


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
    header_at, header = _header_line(head, skip_notes=True)
    _, column, value = cell_at(header + b"\n" + data[line_start:], len(header) + 1 + at - line_start,
                               binary=binary)
    return InputError(path, message, row=line, column=column, value=value, hint=hint)


def _register_blocks(path: Path):
    """The bytes of a register file block by block; a NUL byte anywhere is refused at its row."""
    offset = 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            if (nul := block.find(b"\x00")) >= 0:
                raise _register_bytes_error(path, offset + nul, "binary content (a NUL byte) where text was expected",
                                            hint="is this really a CSV?", binary=True)
            offset += len(block)
            yield block


def org_register_utf8(path: Path, encoding: str | None = None) -> tuple[Path, str]:
    """The register as a UTF-8 file Polars can map: the file itself when it is UTF-8, else a
    transcoded temporary copy (GB18030, or the declared encoding), decoded in blocks. A NUL byte
    anywhere, or rows in two encodings, are refused at their row."""
    import tempfile

    path = Path(path)
    candidates = [encoding] if encoding else ["utf-8", "gb18030"]
    for enc in candidates:
        try:
            codecs.lookup(enc)
        except LookupError as exc:
            raise InputError(path, f"unknown encoding {enc!r}") from exc
        bad = _first_undecodable(_register_blocks(path), enc)
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
            .with_columns(pl.col("source_row").cast(pl.Int64)))


def org_register_parse(path: Path, *, encoding: str | None = None) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(raw, typed): raw is every cell as text; typed has org_type in our words, a date and a flag."""
    path = Path(path)
    raw = org_register_read(path, encoding=encoding)
    if raw.height == 0:
        raise InputError(path, "the register has a header but no organizations",
                         row=_org_register_notes(path) + 1)

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
    _first_bad(raw, path, "founded_on", founded <= _today(), "a founding date in the future")
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


# --------------------------------------------------------------------------------------------------
# Personal fields. The readers above keep only the columns they know, so a register's personal and
# contact columns never reach the warehouse. A snapshot file keeps the bytes as fetched, though, and
# data/ is committed: `ngobrief pull` refuses a register that has such columns (pull.py), naming
# them, so that none is ever stored (docs/sources.md, "Personal fields").

# Headers that name, contact or identify a person, or locate an office: Chinese by substring, English
# as words (so that "registering" is not "gis").
PERSONAL_HEADER = re.compile(
    r"姓名|法定代表人|法人代表|理事长|秘书长|会长|联系人|联系方式|电话|手机|传真|邮箱|身份证|证件号|护照|"
    r"地址|住所|住址|邮编|邮政编码|坐标|官网|网址|"
    r"(?<![a-z])(?:e-?mail|phone|mobile|tel|fax|address|contact|representative|chair(?:man|person)?|"
    r"secretary|id_?(?:no|number|card)|passport|post_?code|zip|website|gis|person(?:_?name)?)(?![a-z])",
    re.IGNORECASE)
REGISTER_LAYOUTS = ("ricf_tsv", "org_register")


def is_personal_header(header: str) -> bool:
    h = _norm_header(header)
    return h in RICF_PERSONAL or h in RICF_PERSONAL.values() or bool(PERSONAL_HEADER.search(h))


def personal_columns(data: bytes, parser: str, *, name: str | None = None, encoding: str | None = None,
                     sheet: str | None = None) -> list[str]:
    """The headers of a register file (layout `parser`) that are personal or contact fields, as
    printed. Only the header rows are looked at; an empty list for the other layouts."""
    if parser not in REGISTER_LAYOUTS:
        return []
    if data.startswith(b"PK\x03\x04"):      # a workbook: its first two rows
        headers = [c for _, cells in read_cells(data, name=name, sheet=sheet).rows[:2] for c in cells]
    else:                                    # the header line (RICF: the first two), never the whole file
        if parser == "org_register":
            lines = [_header_line(data, skip_notes=True)[1]]
        else:
            lines = [ln.rstrip(b"\r\n") for ln in itertools.islice((ln for ln in io.BytesIO(data) if ln.strip()), 2)]
        headers = []
        for line in lines:   # a line break byte is never part of a GB18030 character
            text = _decode_any(line, (encoding,) if encoding else None) or ""
            sep = "\t" if text.count("\t") > text.count(",") else ","
            headers += next(csv.reader([text], delimiter=sep), [])
    return list(dict.fromkeys(_norm_header(h) for h in headers if h and is_personal_header(h)))


def org_register_load(con, snapshot) -> int:
    """Load a register snapshot (raw.org_register, staging.org_register; one transaction): the same
    path as every other layout, named for callers that know they hold a register."""
    return load(con, snapshot)
