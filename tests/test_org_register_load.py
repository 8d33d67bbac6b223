"""Loading a register straight into the warehouse (DuckDB reads it; no frames in between) stores what a
parse hands back, and its groups are counted once, in the load's transaction, for the bytes loaded.
The registers are the SYNTHETIC ones from bench/synthetic_org_register.py, generated small."""

import polars as pl
import pytest

from ngobrief import pipeline, pull, warehouse
from ngobrief.errors import InputError
from ngobrief.ingest import layout, snapshot_source
from ngobrief.ingest.load import load_snapshot
from test_org_register import HEADER, _generator

RAW_ORDER = "ORDER BY source_row"


def _snapshot(path, sha256, sid="register", encoding=None):
    entry = {"file": path.name, "sha256": sha256, "parser": "org_register", "origin": "SYNTHETIC: test"}
    if encoding:
        entry["encoding"] = encoding
    return pull.bundled_snapshots({"snapshots": {sid: entry}}, path.parent)[0]


def _groups(con):
    return con.sql("""SELECT snapshot_id, sum(registered)::BIGINT, sum(credit_code_repeated)::BIGINT, count(*)
                      FROM marts.org_register_by_group GROUP BY ALL ORDER BY ALL""").fetchall()


@pytest.fixture
def con(tmp_path):
    path = tmp_path / "w.duckdb"
    pipeline.prepare_stage(path)
    c = warehouse.connect(path)
    yield c
    c.close()


def test_the_load_stores_the_rows_a_parse_hands_back(con, tmp_path):
    reg = _generator().generate(1200, seed=5, out_dir=tmp_path, defect_rate=0.01)
    snap = _snapshot(reg.path, reg.sha256)
    parsed = layout("org_register").parse(snapshot_source(snap))
    assert load_snapshot(con, snap).rows == 1200
    raw = con.sql(f"SELECT * EXCLUDE (snapshot_id) FROM raw.org_register {RAW_ORDER}").pl()
    typed = con.sql(f"SELECT * EXCLUDE (snapshot_id) FROM staging.org_register {RAW_ORDER}").pl()
    assert raw.select(parsed.raw.columns).equals(parsed.raw)
    assert typed.select(parsed.typed.columns).equals(parsed.typed)
    assert raw["source_row"].to_list() == list(range(3, 1203))  # a # note line, the header, then rows
    # the frames, stored as a flow stores a cached parse, give the same rows and groups
    assert load_snapshot(con, _snapshot(reg.path, reg.sha256, "from_frames"), parsed).rows == 1200
    both = con.sql("""SELECT * EXCLUDE (snapshot_id) FROM staging.org_register WHERE snapshot_id = 'register'
                      EXCEPT ALL SELECT * EXCLUDE (snapshot_id) FROM staging.org_register
                      WHERE snapshot_id = 'from_frames'""").fetchall()
    assert both == []
    g = _groups(con)
    assert [x[0] for x in g] == ["from_frames", "register"] and g[0][1:] == g[1][1:]


def test_a_gb18030_register_loads_the_same_rows_as_its_utf8_copy(con, tmp_path):
    text = (HEADER + "522100000000000001,丙服务中心,社会服务机构,辽宁省民政厅,辽宁省,2018/7/1,养老,是\n"
            + "531100000000000002,丁基金会,基金会,民政部,北京市,1995年3月2日,助学,否\n")
    u, g = tmp_path / "u.csv", tmp_path / "g.csv"
    u.write_text(text, encoding="utf-8")
    g.write_bytes(text.encode("gb18030"))
    for sid, f in (("utf8", u), ("gbk", g)):
        load_snapshot(con, _snapshot(f, pull.sha256_of(f), sid))
    rows = con.sql("""SELECT snapshot_id, * EXCLUDE (snapshot_id) FROM staging.org_register
                      ORDER BY snapshot_id, source_row""").pl()
    by = rows.partition_by("snapshot_id", as_dict=True, include_key=False)
    assert by[("gbk",)].equals(by[("utf8",)])
    assert by[("gbk",)]["org_type"].to_list() == ["private_non_enterprise", "foundation"]


def test_a_bad_row_stops_the_load_by_file_row_column_and_value_and_nothing_is_written(con, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "511100000000000001,甲协会,社会团体,北京市民政局,北京市,2001-03-04,教育,否\n",
                    encoding="utf-8")
    load_snapshot(con, _snapshot(good, pull.sha256_of(good)))
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "511100000000000001,甲协会,社会团体,北京市民政局,北京市,2001-03-04,教育,否\n"
                   + "511100000000000002,乙协会,社会团体,北京市民政局,北京市,2001-03-04,教育,也许\n",
                   encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_snapshot(con, _snapshot(bad, pull.sha256_of(bad)))
    e = err.value
    assert (e.row, e.column, e.value) == (3, "engaged_international", "也许") and "bad.csv" in str(e.file)
    assert con.sql("SELECT count(*) FROM staging.org_register").fetchall() == [(1,)]
    assert _groups(con) == [("register", 1, 0, 1)]                       # the first bytes' groups stay


def test_a_snapshot_loaded_again_from_other_bytes_is_counted_from_those_bytes(con, tmp_path):
    gen = _generator()
    first = gen.generate(900, seed=1, out_dir=tmp_path, defect_rate=0)
    second = gen.generate(400, seed=2, out_dir=tmp_path, defect_rate=0)
    load_snapshot(con, _snapshot(first.path, first.sha256))
    assert [g[:2] for g in _groups(con)] == [("register", 900)]
    load_snapshot(con, _snapshot(second.path, second.sha256))
    assert [g[:2] for g in _groups(con)] == [("register", 400)]
    assert con.sql("SELECT DISTINCT sha256 FROM staging.org_register_groups").fetchall() == [(second.sha256,)]


def test_groups_missing_from_an_older_warehouse_are_counted_when_its_tables_are_created(con, tmp_path):
    reg = _generator().generate(800, seed=3, out_dir=tmp_path, defect_rate=0.01)
    load_snapshot(con, _snapshot(reg.path, reg.sha256))
    before = _groups(con)
    con.execute("DROP VIEW marts.org_register_by_group; DROP TABLE staging.org_register_groups")
    warehouse.create(con)
    assert _groups(con) == before and before[0][1] == 800


def test_a_snapshot_removed_from_the_warehouse_leaves_no_groups(con, tmp_path):
    gen = _generator()
    reg = gen.generate(500, seed=4, out_dir=tmp_path, defect_rate=0)
    load_snapshot(con, _snapshot(reg.path, reg.sha256))
    for table in ("raw.org_register", "staging.org_register", "raw.snapshots"):  # as editions.py removes one
        con.execute(f"DELETE FROM {table} WHERE snapshot_id = 'register'")
    assert _groups(con) == []
    other = gen.generate(300, seed=6, out_dir=tmp_path, defect_rate=0)
    load_snapshot(con, _snapshot(other.path, other.sha256, "other"))      # the next load drops them
    assert con.sql("SELECT DISTINCT snapshot_id FROM staging.org_register_groups").fetchall() == [("other",)]


def test_groups_counted_under_another_code_rule_are_counted_again(con, tmp_path):
    gen = _generator()
    first = gen.generate(600, seed=8, out_dir=tmp_path, defect_rate=0.02)
    load_snapshot(con, _snapshot(first.path, first.sha256, "first"))
    before = _groups(con)
    con.execute("UPDATE staging.org_register_groups SET rules = 'an older rule', credit_code_malformed = 0")
    other = gen.generate(300, seed=9, out_dir=tmp_path, defect_rate=0)
    load_snapshot(con, _snapshot(other.path, other.sha256, "other"))
    assert [g for g in _groups(con) if g[0] == "first"] == before
    malformed = con.sql("""SELECT sum(credit_code_malformed) FROM marts.org_register_by_group
                           WHERE snapshot_id = 'first'""").fetchall()[0][0]
    assert malformed > 0 and con.sql("SELECT count(DISTINCT rules) FROM staging.org_register_groups").fetchall() == [(1,)]


def test_counts_per_group_match_the_rows_of_every_snapshot(con, tmp_path):
    gen = _generator()
    for i, seed in enumerate((21, 22)):
        reg = gen.generate(700, seed=seed, out_dir=tmp_path, defect_rate=0.01)
        load_snapshot(con, _snapshot(reg.path, reg.sha256, f"y{i}"))
    by_rows = con.sql("""SELECT snapshot_id, province, org_type, year(founded_on) AS founding_year, count(*) AS n,
                                count(*) FILTER (WHERE engaged_international) AS engaged
                         FROM staging.org_register GROUP BY ALL ORDER BY ALL""").pl()
    by_groups = con.sql("""SELECT snapshot_id, province, org_type, founding_year, registered AS n,
                                  engaged_international AS engaged
                           FROM marts.org_register_by_group ORDER BY ALL""").pl()
    assert by_groups.cast({"founding_year": pl.Int64}).equals(by_rows.cast({"founding_year": pl.Int64}))
