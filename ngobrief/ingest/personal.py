"""Personal fields. The layouts keep only the columns they know, so a register's personal and contact
columns never reach the warehouse. A snapshot file keeps the bytes as fetched, though, and data/ is
committed: `ngobrief pull` refuses a register that has such columns, naming them, so that none is ever
stored (docs/sources.md, "Personal fields"). A layout whose files may carry them says how many header
rows to look in (SCREEN_HEADER_ROWS) and may name its own personal columns (PERSONAL)."""

from __future__ import annotations

import csv
import io
import itertools
import re

from .read import decode_any, header_line, norm_header, read_cells

# Headers that name, contact or identify a person, or locate an office: Chinese by substring, English
# as words (so that "registering" is not "gis").
PERSONAL_HEADER = re.compile(
    r"姓名|法定代表人|法人代表|理事长|秘书长|会长|联系人|联系方式|电话|手机|传真|邮箱|身份证|证件号|护照|"
    r"地址|住所|住址|邮编|邮政编码|坐标|官网|网址|"
    r"(?<![a-z])(?:e-?mail|phone|mobile|tel|fax|address|contact|representative|chair(?:man|person)?|"
    r"secretary|id_?(?:no|number|card)|passport|post_?code|zip|website|gis|person(?:_?name)?)(?![a-z])",
    re.IGNORECASE)


def is_personal_header(header: str) -> bool:
    from . import registry

    h = norm_header(header)
    return any(h in layout.personal for layout in registry().values()) or bool(PERSONAL_HEADER.search(h))


def personal_columns(data: bytes, parser: str, *, name: str | None = None, encoding: str | None = None,
                     sheet: str | None = None) -> list[str]:
    """The headers of a file in layout `parser` that are personal or contact fields, as printed. Only
    the header rows are looked at; an empty list for a layout that is not screened."""
    from . import registry

    rows = registry()[parser].screen_header_rows if parser in registry() else 0
    if not rows:
        return []
    if data.startswith(b"PK\x03\x04"):      # a workbook: its first two rows
        headers = [c for _, cells in read_cells(data, name=name, sheet=sheet).rows[:2] for c in cells]
    else:                                    # the header lines, never the whole file
        if rows == 1:
            lines = [header_line(data, skip_notes=True)[1]]
        else:
            lines = [ln.rstrip(b"\r\n") for ln in itertools.islice((ln for ln in io.BytesIO(data) if ln.strip()), rows)]
        headers = []
        for line in lines:   # a line break byte is never part of a GB18030 character
            text = decode_any(line, (encoding,) if encoding else None) or ""
            sep = "\t" if text.count("\t") > text.count(",") else ","
            headers += next(csv.reader([text], delimiter=sep), [])
    return list(dict.fromkeys(norm_header(h) for h in headers if h and is_personal_header(h)))
