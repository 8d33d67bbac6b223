"""Reading source files: CSV, TSV or XLSX; UTF-8, UTF-16 or GB18030, checked block by block. Every
format becomes a Table of text cells with the row numbers a spreadsheet shows; every error about bytes
names the file, row, column and cell.

Rows are numbered as a spreadsheet shows them: in a file whose first line is the header, the header
is row 1 and the first figure row 2."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import polars as pl

from ..errors import InputError


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
    drift: pl.DataFrame | None = None          # columns new, missing or renamed against the contract


_CJK = re.compile("[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


def header_line(data: bytes, skip_notes: bool = False) -> tuple[int, bytes]:
    """The first line of a text file (after `#` note lines if asked), as (its start, its bytes)."""
    start = 0
    while True:
        end = data.find(b"\n", start)
        line = data[start: end if end >= 0 else len(data)]
        if not (skip_notes and line.lstrip(b"\xef\xbb\xbf").startswith(b"#")) or end < 0:
            return start, line.rstrip(b"\r")
        start = end + 1


def decode_any(raw: bytes, encodings=None) -> str | None:
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
    header_at, header = header_line(data, skip_notes)
    sep = b"\t" if header.count(b"\t") > header.count(b",") else b","
    start = data.rfind(b"\n", 0, pos) + 1
    end = data.find(b"\n", pos)
    line = data[start: end if end >= 0 else len(data)].rstrip(b"\r")
    row = data.count(b"\n", 0, start) + 1
    j = data.count(sep, start, pos)
    cells = line.split(sep)
    cell = cells[j] if j < len(cells) else b""
    names = header.split(sep)
    column = (decode_any(names[j], ("utf-8-sig",) if binary else ("utf-8-sig", "gb18030")) or ""
              if start > header_at and j < len(names) else "").strip()
    value = decode_any(cell) or cell.decode("utf-8", "replace")
    return row, column or f"#{j + 1}", value[:60] + ("…" if len(value) > 60 else "")


def _bytes_error(name: str, data: bytes, pos: int, message: str, hint: str | None = None,
                 binary: bool = False) -> InputError:
    row, column, value = cell_at(data, pos, binary=binary)
    return InputError(name, message, row=row, column=column, value=value, hint=hint)


def _mixed(prefix: bytes) -> bool:
    """Text before the first byte that is not UTF-8 holds Chinese written as UTF-8: the file mixes
    encodings (a GB18030 file that happens to start with a valid UTF-8 sequence does not count)."""
    return bool(_CJK.search(prefix.decode("utf-8", "ignore")))


BLOCK = 1 << 22   # bytes decoded at a time when checking an encoding


def _blocks(data: bytes):
    return (data[off:off + BLOCK] for off in range(0, len(data), BLOCK))


def first_undecodable(blocks, encoding: str) -> tuple[int, bool] | None:
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
        if (bad := first_undecodable(_blocks(data), encoding)) is not None:
            raise _bytes_error(name, data, bad[0], f"cannot be decoded as {encoding} (byte "
                               f"{data[bad[0]:bad[0] + 1]!r})",
                               hint="declare the encoding the file is in, or leave --encoding out")
        if not codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")) and (nul := data.find(b"\x00")) >= 0:
            raise _bytes_error(name, data, nul, "binary content (a NUL byte) where text was expected", binary=True)
        return encoding.lower()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        if (bad := first_undecodable(_blocks(data), "utf-16")) is not None:
            raise InputError(name, f"starts with a UTF-16 mark but is not UTF-16 from byte {bad[0]}")
        return "utf-16"
    nul = data.find(b"\x00")
    if nul >= 0:
        raise _bytes_error(name, data, nul, "binary content (a NUL byte) where text was expected",
                           hint="is this really a CSV? XLSX workbooks are read as such", binary=True)
    if data.startswith(b"\xef\xbb\xbf"):
        if (bad := first_undecodable(_blocks(data), "utf-8")) is not None:
            raise _bytes_error(name, data, bad[0], "starts with a UTF-8 mark but this row is not UTF-8 "
                               "(mixed encodings)", hint="save the whole file in one encoding")
        return "utf-8-sig"
    bad = first_undecodable(_blocks(data), "utf-8")
    if bad is None:
        return "utf-8"
    if bad[1]:
        raise _bytes_error(name, data, bad[0], "mixed encodings: the rows above are UTF-8, this one is not",
                           hint="save the whole file in one encoding")
    if (bad := first_undecodable(_blocks(data), "gb18030")) is not None:
        raise _bytes_error(name, data, bad[0], "neither UTF-8 nor GB18030 text",
                           hint="save it as UTF-8, or declare its encoding")
    return "gb18030"


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
                             row=n, column=norm_header(first[j]) if n > 1 and first and j < len(first) else f"#{j + 1}",
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
    if isinstance(v, dt.datetime) and v.time() != dt.time():
        return v.isoformat(sep=" ")
    if isinstance(v, dt.date):
        d = v.date() if isinstance(v, dt.datetime) else v
        return _date_as_formatted(d, cell.number_format or "") or d.isoformat()
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


_DATE_TOKENS = re.compile(r'"[^"]*"|\\.|y+|m+|d+|[^ymd"\\]+')


def _date_as_formatted(d: dt.date, number_format: str) -> str | None:
    """A date cell as its number format shows it (m/d/yyyy -> 7/31/2007, yyyy"年"mm"月"dd"日" ->
    2007年07月31日), so that a typed date reads as the same text as a CSV of the same sheet; None for a
    format with times or anything else not a plain date."""
    out = []
    for t in _DATE_TOKENS.findall(number_format.split(";")[0].lower()):
        if t.startswith('"'):
            out.append(t[1:-1])
        elif t.startswith("\\"):
            out.append(t[1:])
        elif t[0] == "y":
            out.append(f"{d.year:04d}" if len(t) > 2 else f"{d.year % 100:02d}")
        elif t[0] in "md" and len(t) <= 2:
            n = d.month if t[0] == "m" else d.day
            out.append(f"{n:02d}" if len(t) == 2 else str(n))
        elif any(c.isalpha() for c in t) or t[0] in "md":
            return None
        else:
            out.append(t)
    return "".join(out) or None


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


def norm_header(text: str) -> str:
    # headers keep their printed form (社会组织（万个）); matching normalizes them separately (_key)
    return text.strip().lstrip("\ufeff").strip()


_FRAME_BLOCK = 1 << 14   # rows collected as Python lists before they become a frame


def text_frame(table: Table, header_at: int = 0, columns=None) -> tuple[list[str], pl.DataFrame]:
    """The rows after `table.rows[header_at]` as a frame of text cells named by that header row,
    plus `source_row`. Only `columns` (default: all) are kept. A row with more cells than the header
    is malformed; so is a row of a text file with fewer."""
    header_no, header_cells = table.rows[header_at]
    header = [norm_header(c) for c in header_cells]
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


@dataclass
class Source:
    """A file to parse, from a path or fetched bytes, with the read options its manifest entry records.
    Its cells are read once, when a layout first asks for them."""

    data: Path | bytes
    name: str
    encoding: str | None = None
    sheet: str | None = None
    source_id: str | None = None
    options: dict = field(default_factory=dict)     # layout options (measure, period, unit)
    overrides: dict | None = None                   # the source's contract aliases (data/sources.toml)
    _table: Table | None = field(default=None, repr=False)

    def table(self) -> Table:
        if self._table is None:
            self._table = read_cells(self.data, name=self.name, encoding=self.encoding, sheet=self.sheet)
        return self._table
