"""Privacy: the personal and contact fields of a register (names of people, phones, e-mail, ID
numbers, addresses) never reach the warehouse, and `ngobrief pull` never stores a register file that
holds them (it refuses it, naming the columns to delete).

tests/test_register.py proves the RICF parser drops its personal columns into raw and staging tables;
here every table AND view (marts, audit, validation results) of a warehouse loaded with both register
layouts carrying personal columns is checked, and the snapshot store is checked too."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from pathlib import Path

import pytest
import tomlkit

from ngobrief import config, ingest, pipeline, pull, warehouse
from ngobrief.ingest.layouts.org_register import ORG_REGISTER_COLUMNS
from ngobrief.ingest.layouts.ricf_tsv import RICF_FIELDS, RICF_PERSONAL
from ngobrief.ingest.personal import is_personal_header, personal_columns

# A national register export (org_register layout) with the columns an export may add about people.
ORG_HEADER = ["统一社会信用代码", "社会组织名称", "社会组织类型", "登记管理机关", "所在省份", "成立登记日期",
              "业务范围", "国际交流合作"]
ORG_PERSONAL = {"法定代表人": "隐私测试甲", "联系电话": "13900000123", "电子邮箱": "privacy-test@example.invalid",
                "身份证号码": "11010119900307001X", "住所": "测试市隐私路99号", "负责人姓名": "隐私测试乙"}
ORG_ROWS = [
    ["51110000MJ0000001A", "隐私测试协会", "社会团体", "民政部", "北京市", "2001-03-04", "教育", "是"],
    ["52110000MJ0000002B", "隐私测试服务中心", "民办非企业单位", "北京市民政局", "北京市", "2010-05-06", "养老", "否"],
    ["53310000MJ0000003C", "隐私测试基金会", "基金会", "上海市民政局", "上海市", "2015-07-08", "助学", "否"],
]
# The original RICF layout: Chinese names above the codes, the personal columns among them.
RICF_PERSONAL_VALUES = {"ba_add": "隐私路一号测试楼", "ba_zip": "100999", "ba_gis": "[39.123, 116.456]",
                        "ba_wb": "http://privacy-test.example.invalid", "ba_chr": "理事长隐私丙",
                        "ba_sec": "秘书长隐私丁", "ba_cpn": "联系人隐私戊", "ba_cpp": "隐私联络专员",
                        "ba_phn": "010-99990001", "ba_fax": "010-99990002", "ba_eml": "ricf-privacy@example.invalid"}
PERSONAL_VALUES = [*ORG_PERSONAL.values(), *RICF_PERSONAL_VALUES.values()]
PERSONAL_HEADERS = [*ORG_PERSONAL, *RICF_PERSONAL, *RICF_PERSONAL.values()]


def org_register_text(personal: bool = True) -> str:
    header = ORG_HEADER + (list(ORG_PERSONAL) if personal else [])
    rows = [r + (list(ORG_PERSONAL.values()) if personal else []) for r in ORG_ROWS]
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def ricf_original_text(n: int = 60) -> str:
    bundled = config.DATA_DIR / "snapshots" / "ricf_2013_foundations.tsv"
    with open(bundled, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))[:n]
    columns = {**RICF_FIELDS, **RICF_PERSONAL}
    lines = ["\t".join(columns.values()), "\t".join(columns)]
    lines += ["\t".join(r[code] if code in r else RICF_PERSONAL_VALUES[code] for code in columns) for r in rows]
    return "\n".join(lines) + "\n"


def _put(data: Path, manifest, sid: str, file: str, text: str, parser: str, source_id: str | None) -> None:
    path = data / file
    path.write_text(text, encoding="utf-8")
    entry = {"file": file, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "parser": parser}
    if source_id:
        entry["source_id"] = source_id
    manifest["snapshots"][sid] = entry


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """A warehouse loaded (the bundled-snapshot path, which does not refuse) from a data folder whose
    register files carry personal columns, then validated: the readers alone must keep them out."""
    root = tmp_path_factory.mktemp("privacy")
    data = root / "data"
    shutil.copytree(config.DATA_DIR, data)
    manifest = tomlkit.parse((data / "sources.toml").read_text(encoding="utf-8"))
    _put(data, manifest, "ricf_2013", "snapshots/ricf-original.tsv", ricf_original_text(), "ricf_tsv", "ricf")
    _put(data, manifest, "org_register_personal", "snapshots/org-register-personal.csv", org_register_text(),
         "org_register", None)
    (data / "sources.toml").write_text(tomlkit.dumps(manifest), encoding="utf-8")
    path = root / "warehouse.duckdb"
    results = {r.snapshot_id: r for r in pull.load_bundled(path, data / "sources.toml", data)}
    assert results["org_register_personal"].rows_loaded == len(ORG_ROWS)
    assert results["ricf_2013"].rows_loaded == 60
    pipeline.validate_stage(path)
    con = warehouse.connect(path, read_only=True)
    yield con
    con.close()


def _relations(con) -> list[tuple[str, str]]:
    return con.execute("""
        SELECT schema_name, table_name FROM duckdb_tables() WHERE NOT internal
        UNION ALL
        SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal AND schema_name <> 'information_schema'
              AND schema_name <> 'pg_catalog'
        ORDER BY 1, 2""").fetchall()


def test_no_table_or_view_has_a_personal_column(loaded):
    relations = _relations(loaded)
    assert ("staging", "org_register") in relations and ("marts", "register_foundations_by_group") in relations
    columns = {f"{s}.{t}": [r[0] for r in loaded.execute(f'DESCRIBE "{s}"."{t}"').fetchall()] for s, t in relations}
    personal = {rel: [c for c in cols if c in PERSONAL_HEADERS or is_personal_header(c)]
                for rel, cols in columns.items()}
    assert {rel: cols for rel, cols in personal.items() if cols} == {}
    assert len(columns) >= 30


def test_no_personal_value_is_in_any_table_or_view(loaded):
    found = {}
    for schema, name in _relations(loaded):
        text = "\n".join(r[0] for r in loaded.execute(f'SELECT t::VARCHAR FROM "{schema}"."{name}" AS t').fetchall())
        hits = [v for v in PERSONAL_VALUES if v in text]
        if hits:
            found[f"{schema}.{name}"] = hits
    assert found == {}
    # the scan does see the register rows the personal values stood beside
    names = {r[0] for r in loaded.execute("SELECT name FROM staging.org_register").fetchall()}
    assert names == {r[1] for r in ORG_ROWS}


def test_the_personal_header_rule_keeps_every_field_the_readers_use():
    used = [*RICF_FIELDS, *RICF_FIELDS.values(),
            *[h for heads in ORG_REGISTER_COLUMNS.values() for h in heads]]
    assert [h for h in used if is_personal_header(h)] == []
    assert [h for h in PERSONAL_HEADERS if not is_personal_header(h)] == []


def test_no_bundled_register_snapshot_holds_a_personal_column():
    manifest = pull.read_manifest(config.ROOT / "data" / "sources.toml")
    registers = {sid: e for sid, e in manifest["snapshots"].items() if ingest.registry()[e["parser"]].screen_header_rows}
    assert registers
    for sid, e in registers.items():
        assert personal_columns((config.ROOT / "data" / e["file"]).read_bytes(), e["parser"]) == [], sid


# ---- `ngobrief pull` never stores a register with personal columns -------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_pull_refuses_an_org_register_with_personal_columns(data_copy, files_under, run_cli, tmp_path, encoding):
    f = tmp_path / "register.csv"
    f.write_bytes(org_register_text().encode(encoding))
    before = files_under(data_copy)
    wh = tmp_path / "wh.duckdb"
    code, _, err = run_cli("pull", "privacy-register", "--file", str(f), "--parser", "org_register",
                           "--publisher", "test", "--title", "test", "--warehouse", str(wh))
    assert code == 2
    assert f"file {f}" in err and "personal or contact columns" in err and "delete these columns" in err
    assert all(h in err for h in ORG_PERSONAL), err
    assert [v for v in ORG_PERSONAL.values() if v in err] == []      # the message names columns, never values
    assert files_under(data_copy) == before and not wh.exists()            # no snapshot, no manifest entry, no load


def test_pull_refuses_the_original_ricf_layout_with_its_personal_columns(data_copy, files_under, run_cli, tmp_path):
    f = tmp_path / "2013_basic.tsv"
    f.write_text(ricf_original_text(5), encoding="utf-8")
    before = files_under(data_copy)
    code, _, err = run_cli("pull", "ricf-original", "--file", str(f), "--warehouse",
                           str(tmp_path / "wh.duckdb"))
    assert code == 2 and "personal or contact columns" in err
    assert all(code_ in err for code_ in ("ba_chr", "ba_cpn", "ba_phn", "ba_eml", "ba_add"))
    assert [v for v in RICF_PERSONAL_VALUES.values() if v in err] == []
    assert files_under(data_copy) == before


def test_pull_stores_the_register_once_the_personal_columns_are_deleted(data_copy, files_under, run_cli, tmp_path):
    f = tmp_path / "register.csv"
    f.write_text(org_register_text(personal=False), encoding="utf-8")
    code, out, err = run_cli("pull", "privacy-register", "--file", str(f), "--parser", "org_register",
                             "--publisher", "test", "--title", "test", "--warehouse", str(tmp_path / "wh.duckdb"))
    assert code == 0, err
    assert f"{len(ORG_ROWS)} rows loaded" in out
    stored = list((data_copy / "snapshots" / "privacy-register").iterdir())
    assert len(stored) == 1 and personal_columns(stored[0].read_bytes(), "org_register") == []
    assert stored[0].read_bytes() == f.read_bytes()
