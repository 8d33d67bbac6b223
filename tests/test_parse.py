"""Reading published figures: units, precision, and errors that name file, row, column and value."""

import pytest

from ngobrief.errors import InputError
from ngobrief.ingest.layouts.long_csv import parse_long_csv
from ngobrief.ingest.published import parse_published

HEADER = "year,period,as_of,measure,org_type,value,as_published,unit,source_id,note\n"


@pytest.mark.parametrize("text, value, half", [
    ("49.9万", 499_000, 500),
    ("81.74万", 817_400, 50),
    ("1061.8万", 10_618_000, 500),
    ("3,029", 3029, 0.5),
    ("499,000", 499_000, 0.5),
    ("0.11%", 0.11, 0.005),
    ("7.637 million", 7_637_000, 500),
    ("1,000万元", 10_000_000, 5000),
    ("2亿", 200_000_000, 50_000_000),
])
def test_wan_unit_keeps_published_precision(text, value, half):
    p = parse_published(text)
    assert p.value == pytest.approx(value)
    assert p.half_unit == pytest.approx(half)


@pytest.mark.parametrize("text", ["", "--", "  ", "—"])
def test_blank_and_dash_mean_missing(text):
    assert parse_published(text) is None


@pytest.mark.parametrize("text", ["二十一万", "12a", "1,00", "5 5"])
def test_unreadable_figures_are_refused(text):
    with pytest.raises(ValueError):
        parse_published(text)


def test_bundled_observations_parse_with_published_values():
    from ngobrief import config

    raw, typed = parse_long_csv(config.DATA_DIR / "snapshots" / "observations.csv")
    assert raw.height == typed.height == 90
    row = typed.filter((typed["year"] == 2012) & (typed["measure"] == "registered")
                       & (typed["org_type"] == "all") & (typed["source_id"] == "mca-2012-bulletin")).row(0, named=True)
    assert row["value"] == 499_000 and row["half_unit"] == 500 and row["as_published"] == "49.9万"
    assert typed["source_row"].min() == 2


def test_error_names_file_row_column_and_value(tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text(HEADER + "2012,year_end,2012-12-31,registered,all,499000,49.9万,organizations,s,\n"
                          "2013,year_end,2013-12-31,registered,all,,五十万,organizations,s,\n", encoding="utf-8")
    with pytest.raises(InputError) as e:
        parse_long_csv(f)
    msg = str(e.value)
    assert "bad.csv" in msg and "row 3" in msg and "'as_published'" in msg and "五十万" in msg


def test_missing_column_is_named(tmp_path):
    f = tmp_path / "cols.csv"
    f.write_text("year,period,as_of,measure,value\n2012,year_end,2012-12-31,registered,1\n", encoding="utf-8")
    with pytest.raises(InputError, match="org_type"):
        parse_long_csv(f)


def test_gb18030_file_is_decoded(tmp_path):
    f = tmp_path / "gbk.csv"
    f.write_bytes((HEADER + "2012,year_end,2012-12-31,registered,all,,49.9万,organizations,s,民政部\n").encode("gb18030"))
    _, typed = parse_long_csv(f)
    assert typed["value"][0] == 499_000 and typed["note"][0] == "民政部"


def test_unknown_period_is_refused(tmp_path):
    f = tmp_path / "p.csv"
    f.write_text(HEADER + "2012,annual,2012-12-31,registered,all,1,1,organizations,s,\n", encoding="utf-8")
    with pytest.raises(InputError, match="row 2.*'period'.*annual"):
        parse_long_csv(f)
