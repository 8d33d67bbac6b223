"""The RICF foundation register connector: personal fields never enter the warehouse, the codebook's
known messiness is read as documented, and the register marts count what the register says."""

import csv
import datetime as dt
import shutil
import sys

import polars as pl
import pytest

from ngobrief import cli, config, warehouse
from ngobrief.ingest import parse_source
from ngobrief.ingest.layouts.ricf_tsv import RICF_FIELDS, RICF_PERSONAL
from ngobrief.ingest.load import load_snapshot
from ngobrief.errors import InputError

BUNDLED = config.DATA_DIR / "snapshots" / "ricf_2013_foundations.tsv"

# The original RICF file (2013/2013_basic.tsv) has two header rows, Chinese names then codes, and 52
# columns, among them the people and contact details the project must never store.
ORIGINAL = [
    ("机构ID", "ricf_oid"), ("记录时间", "ba_rdt"), ("机构名称", "ba_cn"), ("机构英文名称", "ba_en"),
    ("登记证号", "ba_rid"), ("组织机构代码", "ba_org"), ("宗旨", "ba_msn"), ("业务范围", "ba_srv"),
    ("关注领域", "ba_fcs"), ("基金会类型", "ba_ntr"), ("基金会范围", "ba_rng"), ("登记部门", "ba_reg"),
    ("业务主管单位", "ba_sup"), ("成立时间", "ba_fdt"), ("原始基金数额", "ba_fnd"), ("基金会地址", "ba_add"),
    ("邮编", "ba_zip"), ("省份", "ba_prv"), ("城市", "ba_ct"), ("GIS位置坐标", "ba_gis"), ("机构官网", "ba_wb"),
    ("理事长", "ba_chr"), ("秘书长", "ba_sec"), ("对外联系人姓名", "ba_cpn"), ("联系人职务", "ba_cpp"),
    ("联系人固话", "ba_phn"), ("联系人传真", "ba_fax"), ("联系人电子邮箱", "ba_eml"),
    ("负责人中国家工作人员数", "ba_gvm"), ("负责人中担任过省部级工作人员数", "ba_pgv"), ("全职员工数量", "ba_nfe"),
    ("志愿者数量", "ba_nv"), ("评估等级", "ba_evl"), ("专项基金数", "ba_sf"), ("优惠资格类型", "ba_tax"),
    ("数据来源", "ba_src"), ("年报里所填理事数", "ba_bn"), ("年报里所填监事数", "ba_sn"), ("负责人数", "ba_mn"),
    ("分支机构数", "ba_brn"), ("代表机构数", "ba_rn"), ("举办刊物情况", "ba_pbl"), ("党员数", "ba_pm"),
    ("是否建立党组织", "ba_po"), ("年检情况", "ba_ai"), ("是否受到过行政处罚", "ba_ap"), ("人事管理制度", "ba_hr"),
    ("专职工作人员签订聘用合同人数", "ba_nc"), ("财政登记", "ba_fr"), ("税务登记机关", "ba_tr"),
    ("使用票据种类", "ba_rcp"), ("年度理事会会议次数", "ba_mt"),
]
# Made-up personal values: none of them may be found anywhere in the warehouse.
FAKE = {"ba_add": "测试路一号", "ba_zip": "100000", "ba_gis": "[39.9, 116.4]", "ba_wb": "http://example.org/f",
        "ba_chr": "理事长甲", "ba_sec": "秘书长乙", "ba_cpn": "联系人丙", "ba_cpp": "联络员",
        "ba_phn": "010-00000001", "ba_fax": "010-00000002", "ba_eml": "person@example.org"}

RAW_COLUMNS = ["snapshot_id", "source_row", "ricf_oid", "ba_rdt", "ba_cn", "ba_en", "ba_rid", "ba_org", "ba_msn",
               "ba_srv", "ba_fcs", "ba_ntr", "ba_rng", "ba_reg", "ba_sup", "ba_fdt", "ba_fnd", "ba_prv", "ba_ct",
               "ba_gvm", "ba_pgv", "ba_nfe", "ba_nv", "ba_evl", "ba_sf", "ba_tax"]
STAGING_COLUMNS = [
    "record_year", "ricf_oid", "name_zh", "name_en", "registration_no", "org_code", "mission", "business_scope",
    "focus_areas", "international_focus", "org_type", "foundation_type_as_published", "scope",
    "scope_as_published", "registering_authority", "supervisory_unit", "founded_on", "founded_as_published",
    "endowment_yuan", "endowment_as_published", "endowment_half_unit", "province", "province_as_published",
    "city", "leaders_state_employees", "leaders_former_senior_officials", "full_time_staff", "volunteers",
    "evaluation_grade", "special_funds", "tax_status", "source_id", "snapshot_id", "source_row"]


def _bundled_rows(n):
    with open(BUNDLED, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))
    return rows[:n]


def _original_layout_file(path, n=3):
    lines = ["\t".join(zh for zh, _ in ORIGINAL), "\t".join(code for _, code in ORIGINAL)]
    for r in _bundled_rows(n):
        lines.append("\t".join(r.get(code, FAKE.get(code, "")) for _, code in ORIGINAL))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_raw_and_staging_hold_only_the_codebook_fields(con):
    described = {t: [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()]
                 for t in ("raw.register_foundations", "staging.register_foundations")}
    assert described["raw.register_foundations"] == RAW_COLUMNS
    assert described["staging.register_foundations"] == STAGING_COLUMNS
    assert list(RICF_FIELDS) == RAW_COLUMNS[2:]
    for codes in described.values():
        assert not set(codes) & set(RICF_PERSONAL)


def test_original_layout_drops_personal_and_contact_fields_at_ingest(tmp_path):
    f = _original_layout_file(tmp_path / "2013_basic.tsv")
    parser, p = parse_source(f, source_id="ricf")
    assert parser == "ricf_tsv"
    assert p.raw.columns == ["source_row", *RAW_COLUMNS[2:]]
    assert p.typed.columns == [c for c in STAGING_COLUMNS if c != "snapshot_id"]
    assert p.typed["source_row"].to_list() == [3, 4, 5]       # two header rows above
    assert any("personal and contact fields" in n and "ba_phn" in n and "ba_chr" in n for n in p.notes)

    path = tmp_path / "wh.duckdb"
    c = warehouse.connect(path)
    warehouse.create(c)
    from ngobrief.pull import Snapshot

    snap = Snapshot("ricf_test", f, "x.tsv", "0" * 64, f.stat().st_size, parser, "file:2013_basic.tsv", "ricf")
    assert load_snapshot(c, snap, p).rows == 3
    tables = c.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal").fetchall()
    for schema, table in tables:
        text = "\n".join(r[0] for r in c.execute(f'SELECT t::VARCHAR FROM "{schema}"."{table}" AS t').fetchall())
        assert [v for v in FAKE.values() if v in text] == [], f"{schema}.{table}"
    assert c.execute("SELECT count(*) FROM staging.register_foundations").fetchall()[0][0] == 3
    c.close()


def test_a_register_with_only_chinese_headers_is_read_too(tmp_path):
    lines = ["\t".join(zh for zh, _ in ORIGINAL)]
    for r in _bundled_rows(2):
        lines.append("\t".join(r.get(code, FAKE.get(code, "")) for _, code in ORIGINAL))
    f = tmp_path / "zh.tsv"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _, p = parse_source(f, parser="ricf_tsv", source_id="ricf")
    assert p.typed["name_zh"].to_list() == [r["ba_cn"].strip() for r in _bundled_rows(2)]
    assert "ba_cpn" not in p.raw.columns


def _register(con):
    return con.sql("SELECT * FROM staging.register_foundations").pl()


def test_the_codebook_messiness_is_read_as_documented(con):
    reg = _register(con)
    assert reg.height == 3344 and reg["ricf_oid"].n_unique() == 3344
    # empty endowments are gaps (147 rows), endowments with or without a thousands comma are 万元
    assert reg["endowment_yuan"].null_count() == 147
    by_printed = dict(reg.select("endowment_as_published", "endowment_yuan").unique().iter_rows())
    assert by_printed["1,000万元"] == 10_000_000 and by_printed["2000万元"] == 20_000_000
    assert reg.filter(pl.col("endowment_as_published") == "200万元")["endowment_half_unit"].unique().to_list() == [5000]
    # evaluation grades of blanks or spaces are not grades
    assert reg["evaluation_grade"].null_count() == 1050 + 208 + 5
    assert set(reg["evaluation_grade"].drop_nulls()) == {"未参评", "1A", "2A", "3A", "4A", "5A"}
    # the one province written in Chinese takes the register's pinyin spelling; the printed label is kept
    gd = reg.filter(pl.col("province_as_published") == "广东省")
    assert gd.height == 1 and gd["province"][0] == "Guangdong Sheng"
    assert reg["province"].n_unique() == 31 and reg["province"].str.contains(r"^[A-Za-z ]+$").all()
    # names are trimmed
    assert (reg["name_zh"] == reg["name_zh"].str.strip_chars()).all()
    assert (reg["name_en"].drop_nulls() == reg["name_en"].drop_nulls().str.strip_chars()).all()
    # a trailing comma in a tax-status list leaves no empty item
    assert ["公益性捐赠税前扣除资格", "非营利组织免税资格"] in reg["tax_status"].to_list()
    assert not reg["tax_status"].drop_nulls().list.contains("").any()
    # founding dates are M/D/YYYY
    first = reg.filter(pl.col("ricf_oid") == 1).row(0, named=True)
    assert first["founded_on"] == dt.date(2007, 7, 31) and first["founded_as_published"] == "7/31/2007"
    assert reg["founded_on"].null_count() == 0
    # focus areas split on ， and , (and 、 ；), type and scope in the project's words
    vanke = reg.filter(pl.col("ricf_oid") == 3).row(0, named=True)
    assert vanke["focus_areas"] == ["安全救灾", "公共安全", "环境", "社区发展", "心理健康", "医疗救助"]
    assert (vanke["org_type"], vanke["scope"]) == ("foundation_nonpublic", "national")
    assert set(reg["org_type"]) == {"foundation_public", "foundation_nonpublic"}


def test_the_register_marts_count_types_scopes_provinces_and_international_focus(con):
    g = con.sql("SELECT * FROM marts.register_foundations_by_group").pl()

    def one(**where):
        rows = g.filter(pl.all_horizontal([pl.col(k) == v for k, v in where.items()]))
        assert rows.height == 1, where
        return rows.row(0, named=True)

    total = one(grouped_by="all")
    assert (total["foundations"], total["international_focus"]) == (3344, 50)
    assert total["international_focus_pct"] == pytest.approx(100 * 50 / 3344)
    assert "Scientific Data" in total["citation"] and total["source_id"] == "ricf"
    assert (one(grouped_by="org_type", org_type="foundation_public")["foundations"],
            one(grouped_by="org_type", org_type="foundation_nonpublic")["foundations"]) == (1310, 2034)
    assert (one(grouped_by="org_type", org_type="foundation_public")["international_focus"],
            one(grouped_by="org_type", org_type="foundation_nonpublic")["international_focus"]) == (32, 18)
    assert (one(grouped_by="scope", scope="national")["foundations"],
            one(grouped_by="scope", scope="local")["foundations"]) == (186, 3158)
    provinces = g.filter(pl.col("grouped_by") == "province")
    assert provinces.height == 31 and provinces["foundations"].sum() == 3344
    assert one(grouped_by="province", province="Guangdong Sheng")["foundations"] == 368 + 1
    finest = g.filter(pl.col("grouped_by") == "org_type, scope, province")
    assert finest["foundations"].sum() == 3344 and finest["international_focus"].sum() == 50
    assert g["citation"].null_count() == 0

    intl = con.sql("SELECT * FROM marts.register_international_foundations").pl()
    assert intl.height == 50 and intl["focus_areas"].list.contains("国际事务").all()
    assert intl["citation"].null_count() == 0


@pytest.mark.parametrize("code, bad, message", [
    ("ba_fdt", "13/45/2013", "founding date"),
    ("ba_ntr", "公益", "unknown foundation type"),
    ("ba_fnd", "约200万元", "endowment"),
    ("ba_nfe", "5人", "whole number"),
])
def test_an_unreadable_register_value_names_row_column_and_value(tmp_path, code, bad, message):
    rows = _bundled_rows(3)
    rows[1][code] = bad
    f = tmp_path / "bad.tsv"
    header = list(rows[0])
    f.write_text("\t".join(header) + "\n" + "".join("\t".join(r[h] for h in header) + "\n" for r in rows),
                 encoding="utf-8")
    with pytest.raises(InputError, match=message) as e:
        parse_source(f, source_id="ricf")
    assert (e.value.row, e.value.column, e.value.value) == (3, code, bad)


def test_pulling_the_register_shows_its_citation(tmp_path, monkeypatch, capsys):
    data = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, data)
    monkeypatch.setattr(config, "DATA_DIR", data)
    monkeypatch.setattr(config, "MANIFEST", data / "sources.toml")
    monkeypatch.setattr(sys, "argv", ["ngobrief", "pull", "ricf", "--warehouse", str(tmp_path / "wh.duckdb")])
    cli.main()
    out = capsys.readouterr().out
    assert "ricf_2013" in out and "3344 rows loaded" in out
    assert "register figures: cite Ma Ji, Wang Qun, Dong Chao, Li Huafang" in out and "Scientific Data" in out
    assert "'广东省' written as 'Guangdong Sheng'" in out
