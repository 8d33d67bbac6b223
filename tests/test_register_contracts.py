"""Next year's register without hand edits: the RICF layout's declared contract meets the 2014 and
2015 exports (renamed and missing columns, `0.0` counts, `None` cells, Chinese dates and provinces),
reports the schema drift, and never turns an unrecorded measure into zero. The files are made here,
shaped like the real exports; every name and value is invented (no personal data)."""

import datetime as dt
import shutil
import subprocess
import sys

import polars as pl
import pytest

from ngobrief import cli, config, ingest, metrics, pipeline, pull, warehouse
from ngobrief import brief as render
from ngobrief.errors import InputError
from ngobrief.ingest import parse_source
from ngobrief.ingest.load import load_snapshot

N = 30  # foundations in each made-up register: 12 public, 18 non-public

# The 2013 codebook's columns without focus (ba_fcs), scope (ba_rng), province and city; the newer
# 2014 export calls the id ricf_id, and its Chinese row says 数据年度 where 2013 said 记录时间.
COLUMNS_2014 = [("机构ID", "ricf_id"), ("数据年度", "ba_rdt"), ("机构名称", "ba_cn"), ("机构英文名称", "ba_en"),
                ("登记证号", "ba_rid"), ("组织机构代码", "ba_org"), ("宗旨", "ba_msn"), ("业务范围", "ba_srv"),
                ("基金会类型", "ba_ntr"), ("登记部门", "ba_reg"), ("业务主管单位", "ba_sup"), ("成立时间", "ba_fdt"),
                ("原始基金数额", "ba_fnd"), ("负责人中国家工作人员数", "ba_gvm"),
                ("负责人中担任过省部级工作人员数", "ba_pgv"), ("全职员工数量", "ba_nfe"), ("志愿者数量", "ba_nv"),
                ("评估等级", "ba_evl"), ("专项基金数", "ba_sf"), ("优惠资格类型", "ba_tax")]
# 2015: no focus and no scope; province and city in Chinese; a former-name column and 20 new ones.
NEW_2015 = [(f"新增字段{i}", f"ba_x{i:02d}") for i in range(1, 21)]
COLUMNS_2015 = ([("机构ID", "ricf_oid"), ("记录时间", "ba_rdt"), ("机构名称", "ba_cn"), ("曾用名", "ba_cnpst")]
                + COLUMNS_2014[3:9] + [("省份", "ba_prv"), ("城市", "ba_ct")] + COLUMNS_2014[9:] + NEW_2015)
PROVINCES_ZH = ["上海市", "北京市", "广东省", "江苏"]


def _value(code: str, i: int, year: int) -> str:
    """Foundation i's cell in column `code` of the `year` export, written as that export writes it."""
    return {
        "ricf_id": str(900000 + i), "ricf_oid": str(900000 + i), "ba_rdt": str(year),
        "ba_cn": f"测试基金会{i:03d}", "ba_en": "None" if i % 3 else f"Test Foundation {i}",
        "ba_rid": f"R{i:04d}", "ba_org": "None", "ba_msn": "None" if i % 2 else "资助测试项目",
        "ba_srv": "资助", "ba_ntr": "公募" if i < 12 else "非公募", "ba_reg": "民政部", "ba_sup": "None",
        "ba_fdt": f"2007年07月{i % 28 + 1:02d}日" if year == 2014 else f"7/{i % 28 + 1}/2007",
        "ba_fnd": "200万元", "ba_gvm": "0.0", "ba_pgv": "0.0", "ba_nfe": f"{i % 5}.0", "ba_nv": "None",
        "ba_evl": "未参评", "ba_sf": "0.0", "ba_tax": "无", "ba_cnpst": "None" if i % 4 else f"旧名{i}",
        "ba_prv": PROVINCES_ZH[i % 4], "ba_ct": "None",
    }.get(code, f"x{i}")


def _export(path, columns, year, encoding="utf-8", rows=N):
    lines = ["\t".join(zh for zh, _ in columns), "\t".join(code for _, code in columns)]
    lines += ["\t".join(_value(code, i, year) for _, code in columns) for i in range(rows)]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.fixture
def export_2014(tmp_path):
    return _export(tmp_path / "2014_basic.tsv", COLUMNS_2014, 2014)


@pytest.fixture
def export_2015(tmp_path):
    return _export(tmp_path / "2015_basic.tsv", COLUMNS_2015, 2015)


def _drift(parsed) -> dict[str, list]:
    d = parsed.drift
    return {kind: sorted(d.filter(pl.col("kind") == kind)["column_name"].to_list())
            for kind in ("new", "missing_optional", "renamed?")}


def test_the_2014_export_loads_without_hand_edits(export_2014):
    parser, p = parse_source(export_2014, source_id="ricf")
    t = p.typed
    assert parser == "ricf_tsv" and t.height == N
    assert t["record_year"].unique().to_list() == [2014]
    assert t["ricf_oid"].to_list() == [900000 + i for i in range(N)]
    assert t["org_type"].value_counts().sort("org_type").rows() == [("foundation_nonpublic", 18), ("foundation_public", 12)]
    assert t["founded_on"][0] == dt.date(2007, 7, 1) and t["founded_as_published"][0] == "2007年07月01日"
    assert t["leaders_state_employees"].to_list() == [0] * N              # 0.0 is a whole number
    assert t["full_time_staff"].to_list() == [i % 5 for i in range(N)]
    assert t["volunteers"].null_count() == N                               # None is missing, not text
    assert t["mission"].drop_nulls().to_list() == ["资助测试项目"] * 15 and t["org_code"].null_count() == N
    # the columns this export does not have are NULL, never 0 or False
    assert t["focus_areas"].null_count() == t["international_focus"].null_count() == N
    assert t["scope"].null_count() == t["province"].null_count() == t["city"].null_count() == N
    assert _drift(p) == {"new": [], "missing_optional": ["ba_ct", "ba_fcs", "ba_prv", "ba_rng"], "renamed?": []}
    assert "schema drift: optional columns missing (NULL): ba_fcs, ba_rng, ba_prv, ba_ct" in p.notes


def test_the_2015_export_loads_with_its_provinces_in_the_registers_spelling(export_2015):
    _, p = parse_source(export_2015, source_id="ricf")
    t = p.typed
    assert t.height == N and t["record_year"].unique().to_list() == [2015]
    assert t["founded_on"][1] == dt.date(2007, 7, 2)
    assert dict(t.select("province_as_published", "province").unique().iter_rows()) == {
        "上海市": "Shanghai Shi", "北京市": "Beijing Shi", "广东省": "Guangdong Sheng", "江苏": "Jiangsu Sheng"}
    drift = _drift(p)
    # the former-name column is new, and not offered as a rename of the missing city or focus columns
    assert drift["new"] == sorted(["ba_cnpst", *[code for _, code in NEW_2015]])
    assert drift["missing_optional"] == ["ba_fcs", "ba_rng"] and drift["renamed?"] == []
    assert not any("renamed?" in n for n in p.notes)


def test_a_new_header_like_a_missing_column_is_suggested_as_a_rename(tmp_path):
    cols = [(zh, "ba_fsc" if code == "ba_fcs" else code) for zh, code in COLUMNS_2015[:3]] + [("关注", "ba_fsc")]
    _, p = parse_source(_export(tmp_path / "f.tsv", cols, 2015), source_id="ricf")
    assert p.drift.filter(pl.col("kind") == "renamed?").rows() == [("renamed?", "ba_fcs", "ba_fsc")]
    # a required column that is missing is still refused, naming it (and the similar header)
    cols = [("机构ID", "ricf_oid"), ("记录时间", "ba_rdt"), ("名称", "ba_cnn")]
    with pytest.raises(InputError, match="missing required column") as e:
        parse_source(_export(tmp_path / "g.tsv", cols, 2015), parser="ricf_tsv", source_id="ricf")
    assert (e.value.column, e.value.value) == ("ba_cn", "ba_cnn")


def test_a_source_may_add_aliases_and_they_are_part_of_the_parse(tmp_path):
    cols = [("机构ID", "ricf_oid"), ("记录时间", "ba_rdt"), ("机构名称", "org_name")]
    f = _export(tmp_path / "h.tsv", cols, 2015)
    with pytest.raises(InputError, match="missing required column"):
        parse_source(f, parser="ricf_tsv", source_id="ricf")
    _, p = parse_source(f, parser="ricf_tsv", source_id="ricf", overrides={"aliases": {"ba_cn": ["org_name"]}})
    assert p.typed["name_zh"].to_list() == [f"x{i}" for i in range(N)]
    manifest = {"sources": {"ricf": {"contract": {"aliases": {"ba_cn": ["org_name"]}}}}}
    assert ingest.source_overrides("ricf", manifest) == {"aliases": {"ba_cn": ["org_name"]}}


def test_the_sources_aliases_and_the_contract_are_in_the_parse_cache_key(monkeypatch, tmp_path):
    snap = next(s for s in pipeline.pull_stage() if s.snapshot_id == "ricf_2013")
    key = pipeline.parse_cache_key(snap)
    monkeypatch.setattr(ingest, "source_overrides", lambda sid, manifest=None: {"aliases": {"ba_cn": ["n"]}})
    assert pipeline.parse_cache_key(snap) != key
    monkeypatch.undo()
    lay = ingest.layout("ricf_tsv")
    assert lay.module.CONTRACT in lay.code_files()
    edited = tmp_path / "ricf_tsv.toml"
    edited.write_text(lay.module.CONTRACT.read_text(encoding="utf-8") + "\n# an alias more\n", encoding="utf-8")
    monkeypatch.setattr(lay.module, "CONTRACT", edited)
    assert pipeline.parse_cache_key(snap) != key


@pytest.fixture
def with_later_registers(tmp_path, export_2014, export_2015):
    """The bundled data plus the 2014 and 2015 exports, pulled as a user would."""
    data = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, data)
    wh = tmp_path / "wh.duckdb"
    kw = dict(warehouse_path=wh, manifest_path=data / "sources.toml", data_dir=data)
    pull.load_bundled(**kw)
    results = [pull.pull_source(sid, file=f, parser="ricf_tsv", **kw)
               for sid, f in (("ricf_2014", export_2014), ("ricf_2015", export_2015))]
    return wh, results


def test_unknown_is_never_zero_in_the_register_marts(with_later_registers):
    wh, results = with_later_registers
    assert [r.rows_loaded for r in results] == [N, N]
    assert any("optional columns missing (NULL): ba_fcs" in n for n in results[0].notes)
    con = warehouse.connect(wh, read_only=True)
    try:
        m = metrics.register(con)
        focus = {r["record_year"]: r for r in m.filter(pl.col("measure") == "international_focus").to_dicts()}
        assert (focus[2013]["value"], focus[2013]["recorded"], focus[2013]["foundations"]) == (50, 3344, 3344)
        for year in (2014, 2015):
            assert (focus[year]["value"], focus[year]["recorded"], focus[year]["foundations"]) == (None, 0, N)
            assert focus[year]["pct_of_foundations"] is None
        by_group = metrics.register_foundations_by_group(con, 2015, "all").row(0, named=True)
        assert (by_group["international_focus"], by_group["international_focus_pct"], by_group["focus_recorded"]) == (None, None, 0)
        public = m.filter((pl.col("record_year") == 2014) & (pl.col("measure") == "foundation_public")).row(0, named=True)
        assert (public["value"], public["recorded"]) == (12, N)
        no_provinces = m.filter((pl.col("record_year") == 2014) & (pl.col("measure") == "province")).rows(named=True)
        assert [(r["province"], r["value"], r["recorded"]) for r in no_provinces] == [(None, None, 0)]
        drift = con.sql("SELECT snapshot_id, kind, count(*) FROM raw.schema_drift GROUP BY ALL ORDER BY ALL").fetchall()
        assert drift == [("ricf_2014", "missing_optional", 4), ("ricf_2015", "missing_optional", 2), ("ricf_2015", "new", 21)]
        # the brief's rule: a register that records the measure is never swapped for a later one that lacks it
        assert metrics.register_year(con, 2016) == 2013 and metrics.register_year(con, 2014) == 2013
        assert metrics.register_year(con, 2016, "foundations") == 2015
    finally:
        con.close()


def test_a_2016_brief_after_loading_them_shows_the_2013_register(with_later_registers, tmp_path):
    wh, _ = with_later_registers
    con = warehouse.connect(wh)
    try:
        reg = render.brief_context(con, 2016, "en")["register"]
        brief = render.render_brief(con, 2016, "en", out=tmp_path / "brief-2016.pdf")
    finally:
        con.close()
    assert "2013 register" in reg["title"]
    text = " ".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(brief.path), "-"], capture_output=True,
                                   text=True, check=True).stdout.split())
    assert "Of the 3,344 foundations in the 2013 register, 50 (1.50%) name international affairs" in text
    assert "0 (0.00%)" not in text and "2015 register" not in text


def test_the_register_metric_on_the_command_line(with_later_registers, capsys, monkeypatch):
    wh, _ = with_later_registers
    monkeypatch.setattr(sys, "argv", ["ngobrief", "metrics", "--metric", "register", "--year", "2014",
                                      "--format", "csv", "--warehouse", str(wh)])
    try:
        cli.main()
    except SystemExit as e:
        assert e.code in (0, None)
    out = capsys.readouterr().out
    assert "2014,international_focus,,,0,30" in out and "2014,foundation_public,,12,30,30" in out


def _xlsx(path, columns, year, typed: bool, bad_count=None):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append([zh for zh, _ in columns])
    ws.append([code for _, code in columns])
    for i in range(N):
        row = []
        for _, code in columns:
            text = _value(code, i, year)
            if typed and code in ("ba_gvm", "ba_pgv", "ba_nfe", "ba_sf"):
                row.append(float(text))
            elif typed and code in ("ricf_oid", "ba_rdt"):
                row.append(int(text))
            else:
                row.append(text)
        ws.append(row)
        if typed:
            fdt = [c for _, c in columns].index("ba_fdt") + 1
            cell = ws.cell(row=ws.max_row, column=fdt, value=dt.date(2007, 7, i % 28 + 1))
            cell.number_format = "m/d/yyyy"
    if bad_count is not None:
        ws.cell(row=bad_count[0], column=[c for _, c in columns].index(bad_count[1]) + 1, value=1.5)
    wb.save(path)
    return path


def test_tsv_gb18030_tsv_and_xlsx_give_identical_staging_rows(tmp_path):
    files = [_export(tmp_path / "u.tsv", COLUMNS_2015, 2015),
             _export(tmp_path / "g.tsv", COLUMNS_2015, 2015, encoding="gb18030"),
             _xlsx(tmp_path / "text.xlsx", COLUMNS_2015, 2015, typed=False),
             _xlsx(tmp_path / "typed.xlsx", COLUMNS_2015, 2015, typed=True)]
    typed = [parse_source(f, source_id="ricf")[1].typed for f in files]
    assert typed[0]["leaders_state_employees"].to_list() == [0] * N
    for other, f in zip(typed[1:], files[1:]):
        assert other.equals(typed[0]), f.name


def test_a_count_that_is_not_whole_is_refused_in_every_format(tmp_path):
    rows = _export(tmp_path / "ok.tsv", COLUMNS_2014, 2014).read_text(encoding="utf-8").splitlines()
    cells = rows[5].split("\t")
    cells[[c for _, c in COLUMNS_2014].index("ba_nfe")] = "1.5"
    rows[5] = "\t".join(cells)
    bad = tmp_path / "bad.tsv"
    bad.write_text("\n".join(rows) + "\n", encoding="utf-8")
    for f in (bad, _xlsx(tmp_path / "bad.xlsx", COLUMNS_2014, 2014, typed=True, bad_count=(6, "ba_nfe"))):
        with pytest.raises(InputError, match="whole number") as e:
            parse_source(f, parser="ricf_tsv", source_id="ricf")
        assert (e.value.row, e.value.column, e.value.value) == (6, "ba_nfe", "1.5"), f.name


def test_a_later_export_with_contact_columns_is_refused_before_anything_is_stored(tmp_path, export_2015):
    data = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, data)
    f = _export(tmp_path / "2015_contacts.tsv", COLUMNS_2015 + [("联系人电话", "ba_tel")], 2015)
    before = (data / "sources.toml").read_bytes()
    with pytest.raises(InputError, match="personal or contact columns"):
        pull.pull_source("ricf_2015", file=f, parser="ricf_tsv", warehouse_path=tmp_path / "wh.duckdb",
                         manifest_path=data / "sources.toml", data_dir=data)
    assert (data / "sources.toml").read_bytes() == before
    assert not (data / "snapshots" / "ricf_2015").exists()
