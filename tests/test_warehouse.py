"""Loads are idempotent and atomic; every object comes from sql/."""

import pytest

from ngobrief import pull, warehouse
from ngobrief.ingest import Parsed
from ngobrief.ingest.layouts.long_csv import parse_long_csv
from ngobrief.ingest.load import load_snapshot


def _counts(con):
    return {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
            for t in ("raw.observations", "staging.observations", "raw.snapshots", "raw.survey_priorities")}


def test_loading_twice_gives_the_same_rows(empty_warehouse):
    con = empty_warehouse
    snaps = pull.bundled_snapshots()
    first = [load_snapshot(con, s).rows for s in snaps]
    before = con.sql("SELECT * FROM staging.observations ORDER BY snapshot_id, source_row").fetchall()
    second = [load_snapshot(con, s).rows for s in snaps]
    assert sum(first) == 90 + 12 + 3344 + 79 and sum(second) == 0  # observations, survey, RICF register, verified
    assert con.sql("SELECT * FROM staging.observations ORDER BY snapshot_id, source_row").fetchall() == before


def test_a_failed_load_leaves_the_warehouse_as_it_was(empty_warehouse, monkeypatch):
    con = empty_warehouse
    snaps = pull.bundled_snapshots()
    for s in snaps:
        load_snapshot(con, s)
    before = _counts(con)
    obs = next(s for s in snaps if s.snapshot_id == "observations")
    raw, typed = parse_long_csv(obs.path)
    changed = type(obs)(**{**obs.__dict__, "sha256": "0" * 64})
    broken = typed.with_columns(typed["year"].cast(str).alias("source_row"))  # cannot be inserted
    with pytest.raises(Exception):
        load_snapshot(con, changed, Parsed(raw, broken))
    assert _counts(con) == before
    assert warehouse.loaded_sha256(con, "observations") == obs.sha256


def test_every_table_and_view_has_a_comment(con):
    rows = con.sql("""
        SELECT schema_name, table_name, comment FROM duckdb_tables() WHERE NOT internal
        UNION ALL SELECT schema_name, view_name, comment FROM duckdb_views()
        WHERE NOT internal AND schema_name IN ('raw', 'staging', 'marts', 'audit')""").fetchall()
    assert len(rows) >= 10
    assert [r for r in rows if not r[2]] == []


def test_a_view_may_read_a_view_whose_file_sorts_after_it(tmp_path, monkeypatch):
    from ngobrief import config

    sql = tmp_path / "sql"
    (sql / "marts").mkdir(parents=True)
    (sql / "schemas.sql").write_text("CREATE SCHEMA IF NOT EXISTS marts;")
    (sql / "marts" / "a_reader.sql").write_text("CREATE OR REPLACE VIEW marts.a_reader AS SELECT x + 1 AS y FROM marts.z_base;")
    (sql / "marts" / "z_base.sql").write_text("CREATE OR REPLACE VIEW marts.z_base AS SELECT 41 AS x;")
    monkeypatch.setattr(config, "SQL_DIR", sql)
    monkeypatch.setattr(config, "SQL_LAYERS", ("schemas.sql", "marts"))
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.create(con)
    assert con.sql("SELECT y FROM marts.a_reader").fetchall() == [(42,)]
    con.close()


def _own_sql(tmp_path, monkeypatch, answer: int):
    from ngobrief import config

    sql = tmp_path / "sql"
    (sql / "marts").mkdir(parents=True, exist_ok=True)
    (sql / "audit").mkdir(exist_ok=True)
    (sql / "schemas.sql").write_text("CREATE SCHEMA IF NOT EXISTS marts; CREATE SCHEMA IF NOT EXISTS audit;")
    (sql / "audit" / "schema_digest.sql").write_bytes((config.ROOT / "sql" / "audit" / "schema_digest.sql").read_bytes())
    (sql / "marts" / "answer.sql").write_text(f"CREATE OR REPLACE VIEW marts.answer AS SELECT {answer} AS x;")
    monkeypatch.setattr(config, "SQL_DIR", sql)
    monkeypatch.setattr(config, "SQL_LAYERS", ("schemas.sql", "audit", "marts"))


def test_create_is_skipped_only_while_sql_and_every_object_are_as_last_created(tmp_path, monkeypatch):
    _own_sql(tmp_path, monkeypatch, 41)
    con = warehouse.connect(tmp_path / "w.duckdb")
    warehouse.create(con)
    first = con.sql("SELECT digest, created_at FROM audit.schema_digest").fetchall()
    assert first[0][0] == warehouse.sql_digest()
    warehouse.create(con)   # same sql/, nothing dropped: not created again
    assert con.sql("SELECT digest, created_at FROM audit.schema_digest").fetchall() == first
    con.execute("DROP VIEW marts.answer")   # an object gone: created again
    warehouse.create(con)
    assert con.sql("SELECT x FROM marts.answer").fetchall() == [(41,)]
    _own_sql(tmp_path, monkeypatch, 42)     # sql/ changed: created again from it
    warehouse.create(con)
    assert con.sql("SELECT x FROM marts.answer").fetchall() == [(42,)]
    assert con.sql("SELECT digest FROM audit.schema_digest").fetchall() == [(warehouse.sql_digest(),)]
    con.close()
