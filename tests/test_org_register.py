"""A national register of social organizations: read by DuckDB, loaded in one transaction, counted by
province, type and founding year, and checked on those groups. The register here is the SYNTHETIC
one from bench/synthetic_org_register.py, generated small for each test run (never committed)."""

import csv
import re
import importlib.util
import sys

import polars as pl
import pytest

from ngobrief import config, pipeline, pull, warehouse
from ngobrief.ingest.layouts.org_register import org_register_parse
from ngobrief.ingest.load import load_snapshot
from ngobrief.errors import InputError

HEADER = "统一社会信用代码,社会组织名称,社会组织类型,登记管理机关,所在省份,成立登记日期,业务范围,国际交流合作\n"


def _generator():
    spec = importlib.util.spec_from_file_location("synthetic_org_register",
                                                  config.ROOT / "bench" / "synthetic_org_register.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def _load(register, tmp_path):
    manifest = {"snapshots": {"org_register_synthetic": {
        "file": register.path.name, "sha256": register.sha256, "parser": "org_register",
        "origin": "SYNTHETIC: bench/synthetic_org_register.py"}}}
    path = tmp_path / "w.duckdb"
    loaded = pipeline.load_stage(pull.bundled_snapshots(manifest, register.path.parent), path)
    return path, loaded


def _file_rows(path):
    with open(path, encoding="utf-8") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return list(csv.DictReader(lines))


@pytest.fixture(scope="module")
def clean_register(tmp_path_factory):
    return _generator().generate(2000, seed=7, out_dir=tmp_path_factory.mktemp("reg"), defect_rate=0)


def test_synthetic_register_is_labelled_and_the_same_for_the_same_seed(clean_register, tmp_path):
    again = _generator().generate(2000, seed=7, out_dir=tmp_path, defect_rate=0)
    assert again.sha256 == clean_register.sha256
    assert "SYNTHETIC" in clean_register.path.name
    assert clean_register.path.read_text(encoding="utf-8").startswith("# SYNTHETIC")
    rows = _file_rows(clean_register.path)
    assert len(rows) == 2000 and len({r["所在省份"] for r in rows}) == 31
    years = {int(r["成立登记日期"][:4]) for r in rows}
    assert min(years) >= 1980 and max(years) <= 2024


def test_register_counts_by_province_type_and_year_match_the_file(clean_register, tmp_path):
    path, loaded = _load(clean_register, tmp_path)
    assert loaded == {"org_register_synthetic": 2000}
    con = warehouse.connect(path, read_only=True)
    mart = warehouse.query(con, "SELECT * FROM marts.org_register_by_group")
    con.close()
    rows = _file_rows(clean_register.path)
    types = {"社会团体": "social_association", "民办非企业单位": "private_non_enterprise",
             "社会服务机构": "private_non_enterprise", "基金会": "foundation"}
    expected = (pl.DataFrame({"province": [r["所在省份"] for r in rows],
                              "org_type": [types[r["社会组织类型"]] for r in rows],
                              "founding_year": [int(r["成立登记日期"][:4]) for r in rows],
                              "engaged": [r["国际交流合作"] == "是" for r in rows]})
                .group_by("province", "org_type", "founding_year")
                .agg(pl.len().alias("registered"), pl.col("engaged").sum().alias("engaged_international")))
    got = mart.select("province", "org_type", "founding_year", "registered", "engaged_international")
    key = ["province", "org_type", "founding_year"]
    assert got.sort(key).cast({"founding_year": pl.Int64, "registered": pl.Int64,
                               "engaged_international": pl.Int64}).equals(
        expected.sort(key).cast({"founding_year": pl.Int64, "registered": pl.Int64,
                                 "engaged_international": pl.Int64}))
    assert mart["registered"].sum() == 2000
    assert mart["credit_code_repeated"].sum() == mart["credit_code_malformed"].sum() == 0


def test_register_loaded_twice_is_loaded_once(clean_register, tmp_path):
    path, _ = _load(clean_register, tmp_path)
    _, again = _load(clean_register, tmp_path)
    con = warehouse.connect(path)
    snapshot = pull.bundled_snapshots({"snapshots": {"org_register_synthetic": {
        "file": clean_register.path.name, "sha256": clean_register.sha256, "parser": "org_register"}}},
        clean_register.path.parent)[0]
    direct = load_snapshot(con, snapshot).rows
    n = con.sql("SELECT count(*) FROM staging.org_register").fetchall()[0][0]
    raw = con.sql("SELECT count(*) FROM raw.org_register").fetchall()[0][0]
    con.close()
    assert again == {"org_register_synthetic": 0} and direct == 0 and n == raw == 2000


def test_repeated_and_malformed_credit_codes_are_found_on_the_groups(tmp_path):
    register = _generator().generate(2000, seed=11, out_dir=tmp_path, defect_rate=0.005)
    path, _ = _load(register, tmp_path)
    run = pipeline.validate_stage(path)
    failed = {f.description: f for f in run.findings if f.suite == "marts_org_register_by_group" and not f.success}
    repeated = next(f for d, f in failed.items() if "two register rows" in d)
    malformed = next(f for d, f in failed.items() if "18 characters" in d)
    assert repeated.severity == "error" and malformed.severity == "warning"
    rows = _file_rows(register.path)
    codes = [r["统一社会信用代码"] for r in rows]
    repeated_groups = {(r["所在省份"], r["成立登记日期"][:4]) for r in rows if codes.count(r["统一社会信用代码"]) > 1}
    assert {(g["province"], str(g["founding_year"])) for g in repeated.unexpected_rows} == repeated_groups
    digit = {"社会团体": "1", "民办非企业单位": "2", "社会服务机构": "2", "基金会": "3"}
    pattern = re.compile(r"5[1-9][0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}")
    bad = [r for r in rows if not (pattern.fullmatch(r["统一社会信用代码"])
                                   and r["统一社会信用代码"][1] == digit[r["社会组织类型"]])]
    assert bad and {(g["province"], str(g["founding_year"])) for g in malformed.unexpected_rows} == {
        (r["所在省份"], r["成立登记日期"][:4]) for r in bad}
    con = warehouse.connect(path, read_only=True)
    counted = con.sql("""SELECT sum(credit_code_malformed), sum(credit_code_repeated)
                         FROM marts.org_register_by_group""").fetchall()[0]
    con.close()
    assert counted == (len(bad), sum(1 for c in codes if codes.count(c) > 1))


def test_clean_register_passes_every_register_check(clean_register, tmp_path):
    path, _ = _load(clean_register, tmp_path)
    run = pipeline.validate_stage(path)
    register = [f for f in run.findings if f.suite == "marts_org_register_by_group"]
    assert register and all(f.success for f in register)


def test_bad_founding_date_names_file_line_column_and_value(tmp_path):
    f = tmp_path / "register.csv"
    f.write_text("# a note line\n" + HEADER
                 + "511100000000000001,甲协会,社会团体,北京市民政局,北京市,2001-03-04,教育,否\n"
                 + "511100000000000002,乙协会,社会团体,北京市民政局,北京市,2001-02-30,教育,否\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        org_register_parse(f)
    assert (err.value.row, err.value.column, err.value.value) == (4, "founded_on", "2001-02-30")
    assert str(f) in str(err.value)


def test_unknown_type_and_missing_column_are_refused(tmp_path):
    f = tmp_path / "register.csv"
    f.write_text(HEADER + "511100000000000001,甲,协会,北京市民政局,北京市,2001-03-04,教育,否\n", encoding="utf-8")
    with pytest.raises(InputError, match="unknown organization type") as err:
        org_register_parse(f)
    assert err.value.row == 2 and err.value.value == "协会"
    g = tmp_path / "short.csv"
    g.write_text("统一社会信用代码,社会组织名称\n5111,甲\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing column"):
        org_register_parse(g)


def test_gb18030_register_reads_like_utf8_and_new_name_counts_as_private_non_enterprise(tmp_path, monkeypatch):
    import tempfile

    (tmp_path / "scratch").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "scratch"))
    text = (HEADER + "522100000000000001,丙服务中心,社会服务机构,辽宁省民政厅,辽宁省,2018/7/1,养老,是\n"
            + "531100000000000002,丁基金会,基金会,民政部,北京市,1995年3月2日,助学,否\n")
    u, g = tmp_path / "u.csv", tmp_path / "g.csv"
    u.write_text(text, encoding="utf-8")
    g.write_bytes(text.encode("gb18030"))
    _, typed_u = org_register_parse(u)
    _, typed_g = org_register_parse(g)
    assert typed_u.equals(typed_g)
    assert typed_u["org_type"].to_list() == ["private_non_enterprise", "foundation"]
    assert typed_u["engaged_international"].to_list() == [True, False]
    assert [str(d) for d in typed_u["founded_on"]] == ["2018-07-01", "1995-03-02"]
    assert not list((tmp_path / "scratch").iterdir())  # the transcoded copy is removed


def test_a_register_is_pulled_with_the_command_and_a_bad_type_is_refused_by_file_row_and_value(tmp_path, monkeypatch):
    import shutil
    import subprocess

    data = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, data)
    reg = _generator().generate(500, 7, tmp_path)
    env = {**__import__("os").environ, "NGOBRIEF_DATA": str(data), "NGOBRIEF_OUTPUTS": str(tmp_path / "out")}
    cmd = [sys.executable, "-m", "ngobrief.cli", "pull"]
    ok = subprocess.run([*cmd, "synthetic-register", "--file", str(reg.path), "--parser", "org_register",
                         "--publisher", "SYNTHETIC", "--title", "test register"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert "500 rows loaded" in ok.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "X,甲,社会团体,民政部,Beijing,2001-01-01,,否\nY,乙,俱乐部,民政部,Beijing,2001-01-01,,否\n",
                   encoding="utf-8")
    res = subprocess.run([*cmd, "bad-register", "--file", str(bad), "--parser", "org_register"],
                         capture_output=True, text=True, env=env)
    assert res.returncode == 2
    assert f"file {bad}" in res.stderr and "row 3" in res.stderr and "'org_type'" in res.stderr and "俱乐部" in res.stderr
