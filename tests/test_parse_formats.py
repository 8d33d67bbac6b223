"""The formats Chinese statistics come in: encodings, XLSX, wide tables with Chinese or English headers,
万/亿/万元 units with their printed precision, `--` and blanks as gaps, repeated and malformed rows.

Every fixture is generated here; the figures in them are ones the bundled sources published."""

import datetime as dt
import re
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from ngobrief import ingest
from ngobrief.ingest.layouts import ricf_tsv, wide_table
from ngobrief.errors import InputError
from ngobrief.ingest import parse_source
from ngobrief.ingest.published import parse_published
from ngobrief.ingest.read import read_cells

LONG_HEADER = "year,period,as_of,measure,org_type,value,as_published,unit,source_id,note\n"
# 2022 and 2021 year-end figures as the 2023 blue book printed them (bluebook-2023); it gives no 2021 total
# and no 2021 count of social associations here: those cells are gaps
WIDE_ZH = ("年份,社会组织（万个）,社会团体,社会服务机构,基金会,备注\n"
           "2022,89.13,37.01万,51.19万,9319,\n"
           "2021年,--,,52.19万,8877,社会服务机构 = social service organizations\n")


def _figure(typed, year, org_type):
    rows = typed.filter((pl.col("year") == year) & (pl.col("org_type") == org_type))
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_gb18030_wide_table_with_chinese_headers_and_wan_units(tmp_path):
    f = tmp_path / "bulletin.csv"
    f.write_bytes(WIDE_ZH.encode("gb18030"))
    parser, p = parse_source(f, source_id="bluebook-2023")
    assert parser == "wide_table" and p.encoding == "gb18030"
    total = _figure(p.typed, 2022, "all")
    # the column is in 万: 89.13 is stored as printed with its unit, 891,300 ± 50
    assert total["value"] == pytest.approx(891_300) and total["half_unit"] == pytest.approx(50)
    assert total["as_published"] == "89.13万" and total["source_column"] == "社会组织（万个）"
    sa = _figure(p.typed, 2022, "social_association")
    assert sa["value"] == pytest.approx(370_100) and sa["half_unit"] == pytest.approx(50)
    pne = _figure(p.typed, 2021, "private_non_enterprise")
    assert pne["value"] == pytest.approx(521_900) and pne["as_published"] == "52.19万"
    foundation = _figure(p.typed, 2022, "foundation")
    assert foundation["value"] == 9319 and foundation["half_unit"] == 0.5
    assert set(p.typed["measure"]) == {"registered"} and set(p.typed["period"]) == {"year_end"}
    assert str(_figure(p.typed, 2021, "foundation")["as_of"]) == "2021-12-31"
    assert _figure(p.typed, 2021, "private_non_enterprise")["note"] == "社会服务机构 = social service organizations"
    assert p.typed.filter(pl.col("year") == 2021)["org_type"].sort().to_list() == ["foundation", "private_non_enterprise"]
    assert set(p.typed["source_id"]) == {"bluebook-2023"}


def test_dash_and_blank_cells_are_gaps_not_zeros(tmp_path):
    f = tmp_path / "gaps.csv"
    f.write_text("year,all,social_association,foundation\n2022,--,,9319\n", encoding="utf-8")
    _, p = parse_source(f, source_id="bluebook-2023")
    assert p.typed["org_type"].to_list() == ["foundation"]
    # the gaps stay visible in raw, cell by cell
    cells = p.raw.filter(pl.col("source_row") == 2).sort("column_no")["cell"].to_list()
    assert cells == ["2022", "--", "", "9319"]


def test_utf8_bom_file_reads_its_first_header(tmp_path):
    f = tmp_path / "bom.csv"
    f.write_bytes(b"\xef\xbb\xbf" + (LONG_HEADER + "2012,year_end,2012-12-31,registered,all,,49.9万,organizations,"
                                     "mca-2012-bulletin,\n").encode("utf-8"))
    parser, p = parse_source(f)
    assert parser == "long_csv" and p.encoding == "utf-8-sig"
    assert p.typed["year"].to_list() == [2012] and p.typed["value"].to_list() == [499_000]


def test_declared_encoding_wins_over_detection(tmp_path):
    f = tmp_path / "gbk.csv"
    f.write_bytes(WIDE_ZH.encode("gbk"))
    _, p = parse_source(f, source_id="s", encoding="gbk")
    assert p.encoding == "gbk" and _figure(p.typed, 2022, "foundation")["value"] == 9319
    with pytest.raises(InputError, match="cannot be decoded as utf-8"):
        parse_source(f, source_id="s", encoding="utf-8")


def test_utf16_tab_separated_export_is_read(tmp_path):
    f = tmp_path / "unicode.txt"
    f.write_bytes(WIDE_ZH.replace(",", "\t").encode("utf-16"))
    _, p = parse_source(f, source_id="s")
    assert p.encoding == "utf-16" and _figure(p.typed, 2022, "social_association")["value"] == pytest.approx(370_100)


def test_english_headers_and_a_period_column(tmp_path):
    f = tmp_path / "q.csv"
    f.write_text("Year,Period,Social organizations,Social associations,Private non-enterprise units,Foundations\n"
                 "2020,Q3,\"888,517\",\"372,868\",\"503,391\",\"8,258\"\n", encoding="utf-8")
    _, p = parse_source(f, source_id="mca-2020q3-quarterly")
    row = _figure(p.typed, 2020, "all")
    assert row["period"] == "Q3" and str(row["as_of"]) == "2020-09-30"
    assert row["value"] == 888_517 and row["as_published"] == "888,517"


def test_chinese_period_and_measure_names_map_to_the_project_words(tmp_path):
    f = tmp_path / "m.csv"
    f.write_text("年份,期间,指标,社会组织\n2015,第四季度,登记数,65.8万\n2012,年末,职工人数,613.3万\n", encoding="utf-8")
    _, p = parse_source(f, source_id="s")
    q4 = p.typed.filter(pl.col("year") == 2015).row(0, named=True)
    assert (q4["period"], q4["measure"], q4["unit"], str(q4["as_of"])) == ("Q4", "registered", "organizations", "2015-12-31")
    emp = p.typed.filter(pl.col("year") == 2012).row(0, named=True)
    assert (emp["measure"], emp["unit"], emp["value"]) == ("employees", "persons", pytest.approx(6_133_000))


def test_title_rows_and_a_unit_line_above_the_header(tmp_path):
    f = tmp_path / "titled.csv"
    f.write_text("2022年社会组织统计,,\n单位：万个,,\n年份,社会组织,社会团体\n2022,89.13,37.01\n", encoding="utf-8")
    _, p = parse_source(f, source_id="s")
    assert _figure(p.typed, 2022, "all")["value"] == pytest.approx(891_300)
    assert _figure(p.typed, 2022, "social_association")["as_published"] == "37.01万"
    assert p.typed["source_row"].to_list() == [4, 4]


def _xlsx(path: Path, rows, sheet="Sheet1", formats=None, extra_sheet=None):
    wb = openpyxl.Workbook()
    if extra_sheet:
        wb.active.title = extra_sheet
        wb.active.append(["说明"])
        ws = wb.create_sheet(sheet)
    else:
        ws = wb.active
        ws.title = sheet
    for r in rows:
        ws.append(r)
    for coord, fmt in (formats or {}).items():
        ws[coord].number_format = fmt
    wb.save(path)


def test_xlsx_first_sheet_with_numbers_and_text_cells(tmp_path):
    f = tmp_path / "table.xlsx"
    _xlsx(f, [["年份", "社会组织", "社会团体", "基金会"], [2022, "89.13万", 370100, 9319], [2021, None, "--", 8877]])
    parser, p = parse_source(f, source_id="bluebook-2023")
    assert parser == "wide_table" and p.sheet == "Sheet1" and p.encoding is None
    assert _figure(p.typed, 2022, "foundation")["as_published"] == "9319"
    assert _figure(p.typed, 2022, "all")["value"] == pytest.approx(891_300)
    assert _figure(p.typed, 2022, "social_association")["half_unit"] == 0.5    # a number cell is exact
    assert p.typed.filter(pl.col("year") == 2021)["org_type"].to_list() == ["foundation"]


def test_xlsx_named_sheet_and_number_formats_keep_printed_decimals(tmp_path):
    f = tmp_path / "book.xlsx"
    _xlsx(f, [["year", "period", "as_of", "measure", "org_type", "value", "as_published", "unit", "source_id", "note"],
              [2013, "as_of", dt.datetime(2013, 10, 7), "published_share_pct", "foundation", None, 0.015, "percent",
               "huang-cango", None]],
          sheet="data", formats={"G2": "0.00%"}, extra_sheet="readme")
    with pytest.raises(InputError, match="missing column"):
        parse_source(f, parser="long_csv")   # the first sheet is the readme
    _, p = parse_source(f, sheet="data")
    row = p.typed.row(0, named=True)
    assert str(row["as_of"]) == "2013-10-07"
    assert row["as_published"] == "1.50%" and row["value"] == pytest.approx(1.5) and row["half_unit"] == pytest.approx(0.005)
    with pytest.raises(InputError, match="no sheet named 'nope'.*sheets: readme, data"):
        parse_source(f, sheet="nope")


def test_xlsx_long_layout_rows_are_numbered_as_excel_shows_them(tmp_path):
    f = tmp_path / "long.xlsx"
    _xlsx(f, [["year", "period", "as_of", "measure", "org_type", "value", "as_published", "unit", "source_id", "note"],
              [2012, "year_end", "2012-12-31", "registered", "all", None, "49.9万", "organizations", "mca-2012-bulletin", None],
              [],
              [2012, "year_end", "2012-12-31", "registered", "foundation", None, "五十", "organizations", "mca-2012-bulletin", None]])
    with pytest.raises(InputError) as e:
        parse_source(f)
    assert e.value.row == 4 and e.value.column == "as_published" and e.value.value == "五十"


def test_an_xlsx_formula_without_a_saved_result_is_not_read_as_a_gap(tmp_path):
    f = tmp_path / "formula.xlsx"
    _xlsx(f, [["年份", "社会团体", "基金会"], [2022, 370100, 9319], [2021, None, "=C2-442"]])
    with pytest.raises(InputError) as e:
        parse_source(f, source_id="s")
    assert (e.value.row, e.value.column, e.value.value) == (3, "C3", "=C2-442")


@pytest.mark.parametrize("text, value, half", [
    ("３，０２９", 3029, 0.5),            # full-width digits and comma
    ("49.9万个", 499_000, 500),           # a count word after the unit
    ("613.3万人", 6_133_000, 500),
    ("2000万元", 20_000_000, 5000),       # no thousands comma
    ("1,000万元", 10_000_000, 5000),
    ("1.2亿元", 120_000_000, 5_000_000),
])
def test_chinese_number_forms_keep_published_precision(text, value, half):
    p = parse_published(text)
    assert p.value == pytest.approx(value) and p.half_unit == pytest.approx(half)


def test_a_repeated_row_is_kept_once_and_reported(tmp_path):
    f = tmp_path / "dup.csv"
    line = "2022,year_end,2022-12-31,registered,foundation,9319,9319,organizations,bluebook-2023,\n"
    f.write_text(LONG_HEADER + line + line, encoding="utf-8")
    _, p = parse_source(f)
    assert p.typed.height == 1 and p.raw.height == 2       # raw keeps what the file holds
    assert p.notes == ["row 3 repeats row 2: kept once"]


def test_a_figure_printed_twice_with_two_values_is_refused(tmp_path):
    f = tmp_path / "clash.csv"
    f.write_text("年份,基金会\n2022,9319\n2022,9316\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        parse_source(f, source_id="s")
    assert (e.value.row, e.value.column, e.value.value) == (3, "基金会", 9316.0)
    assert "row 2" in str(e.value)


def test_a_malformed_row_is_named_with_its_stray_cell(tmp_path):
    f = tmp_path / "ragged.csv"
    f.write_text("年份,社会组织,基金会\n2022,89.13万,9319\n2021,90万,8877,oops\n", encoding="gb18030")
    with pytest.raises(InputError) as e:
        parse_source(f, source_id="s")
    msg = str(e.value)
    assert "ragged.csv" in msg and "row 3" in msg and "'#4'" in msg and "'oops'" in msg and "malformed" in msg


def test_a_short_row_is_malformed_too(tmp_path):
    f = tmp_path / "short.csv"
    f.write_text(LONG_HEADER + "2012,year_end,2012-12-31,registered,all\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 2, column 'value'.*malformed"):
        parse_source(f)


def test_an_unreadable_wide_cell_names_row_column_and_value(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("年份,社会组织,基金会\n2022,89.13万,9319\n2023,约90万,9711\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        parse_source(f, source_id="s")
    assert (e.value.file, e.value.row, e.value.column, e.value.value) == (str(f), 3, "社会组织", "约90万")


def test_an_unknown_header_is_refused_not_dropped(tmp_path):
    f = tmp_path / "extra.csv"
    f.write_text("年份,社会组织,社会福利机构\n2022,89.13万,1\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"row 1, column '社会福利机构'.*unknown column header"):
        parse_source(f, source_id="s")


def test_two_headers_meaning_one_org_type_are_refused(tmp_path):
    f = tmp_path / "twins.csv"
    f.write_text("年份,民办非企业单位,社会服务机构\n2016,36.1万,36.1万\n", encoding="utf-8")
    with pytest.raises(InputError, match="both mean private_non_enterprise"):
        parse_source(f, source_id="s")


def test_a_cell_with_its_own_unit_in_a_wan_column_is_refused(tmp_path):
    f = tmp_path / "double.csv"
    f.write_text("年份,社会组织（万个）\n2022,89.13万\n", encoding="utf-8")
    with pytest.raises(InputError, match="unit of its own"):
        parse_source(f, source_id="s")


def test_a_file_in_no_known_layout_says_what_was_expected(tmp_path):
    f = tmp_path / "what.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(InputError, match="cannot tell which layout"):
        parse_source(f)


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old-style .xls"),
    (b"PK\x03\x04 not really a workbook", "not a readable XLSX"),
    (b"\x00\x01\x02binary", "binary content"),
])
def test_files_that_are_not_tables_are_refused_clearly(tmp_path, content, message):
    f = tmp_path / "x.csv"
    f.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_cells(f)


def test_docs_list_every_header_and_name_the_parser_understands():
    doc = (Path(__file__).resolve().parent.parent / "docs" / "sources.md").read_text(encoding="utf-8")
    names = [*wide_table.YEAR_HEADERS]
    for table in (wide_table.ORG_TYPE_HEADERS, wide_table.OTHER_HEADERS, wide_table.MEASURE_NAMES, wide_table.PERIOD_NAMES):
        for canonical, aliases in table.items():
            names += [canonical, *aliases]
    names += list(ricf_tsv.FOUNDATION_TYPES) + list(ricf_tsv.SCOPES) + list(ingest.registry())
    missing = sorted({n for n in names if not re.search(re.escape(f"`{n}`"), doc)})
    assert missing == []
