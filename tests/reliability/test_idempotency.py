"""Idempotency: the annual pipeline run twice (`ngobrief run`, what `make run` runs) on the same
outputs folder gives the same content in every warehouse table and byte-identical PDFs.

To stay fast it briefs one year (2013) in both languages; the load, validation and rendering code
paths are those of a full run. Only the columns listed in _procs.RUN_METADATA may differ (when and by
which run a row was written); the audit tables are logs, so the second run adds its own rows, and
those rows must equal the first run's in everything but those columns."""

from __future__ import annotations

import duckdb
import pytest

from ._procs import RUN_METADATA, checksums, cli, cli_env, file_sha256

RUN = ["run", "--year", "2013", "--lang", "en", "--lang", "zh"]
LOGS = ("audit.validation_runs", "audit.validation_results", "audit.briefs")


def _when(table: str) -> str:
    return "written_at" if table == "audit.briefs" else "run_at"


def _latest(path, table: str):
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT max({_when(table)}) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


def _rows(path, table: str, after=None) -> list[tuple]:
    """The rows of an audit log written after `after` (all when None), without the run metadata columns."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        cols = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name || '.' || table_name = ? "
            "ORDER BY column_index", [table]).fetchall() if c not in RUN_METADATA[table]]
        select = ", ".join(f'"{c}"' for c in cols)
        rows = con.execute(f"SELECT {select} FROM {table} WHERE ? IS NULL OR {_when(table)} > ?",
                           [after, after]).fetchall()
        return sorted(rows, key=repr)
    finally:
        con.close()


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("twice") / "outputs"
    env = cli_env(outputs)
    first = cli(*RUN, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    wh, briefs = outputs / "warehouse.duckdb", sorted((outputs / "briefs").glob("*.pdf"))
    after_first = {"tables": checksums(wh), "pdfs": {p.name: file_sha256(p) for p in briefs},
                   "runs": {t: _rows(wh, t) for t in LOGS}, "latest": {t: _latest(wh, t) for t in LOGS}}
    second = cli(*RUN, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    return {"first": after_first, "wh": wh, "outputs": outputs, "stdout": (first.stdout, second.stdout)}


def test_running_twice_leaves_every_data_table_as_the_first_run_left_it(twice):
    first, second = twice["first"]["tables"], checksums(twice["wh"])
    assert set(first) == set(second)
    data = [t for t in first if t not in LOGS]
    assert len(data) >= 10 and {"raw.snapshots", "staging.observations", "raw.register_foundations"} <= set(data)
    assert {t: second[t] for t in data} == {t: first[t] for t in data}


@pytest.mark.parametrize("table", LOGS)
def test_the_second_run_logs_the_same_rows_as_the_first(twice, table):
    again = _rows(twice["wh"], table, after=twice["first"]["latest"][table])
    assert again == twice["first"]["runs"][table] and again


def test_running_twice_writes_byte_identical_pdfs(twice):
    first = twice["first"]["pdfs"]
    assert sorted(first) == ["ngobrief-2013-en.pdf", "ngobrief-2013-zh.pdf"]
    assert {p.name: file_sha256(p) for p in sorted((twice["outputs"] / "briefs").glob("*.pdf"))} == first
