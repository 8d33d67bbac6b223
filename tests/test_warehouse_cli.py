"""`ngobrief warehouse tables|describe|sql|export|lineage`: what a researcher sees when checking a
figure, that their queries cannot change the warehouse, and that other tools can open the file."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pytest

from ngobrief import cli, pull, warehouse


@pytest.fixture(scope="module")
def wh_path(built_warehouse, tmp_path_factory) -> Path:
    """A copy of the built warehouse, so that these tests share no open database with others."""
    path = tmp_path_factory.mktemp("inspect") / "warehouse.duckdb"
    shutil.copy(built_warehouse, path)
    return path


def run(capsys, monkeypatch, *args) -> tuple[int, str, str]:
    """The command line in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["ngobrief", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


def counts(path) -> dict[str, int]:
    con = warehouse.connect(path, read_only=True)
    try:
        return {t: con.sql(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("raw.sources", "raw.observations", "staging.observations", "audit.validation_results")}
    finally:
        con.close()


# --- users' own tools ----------------------------------------------------------------------------

def test_a_new_warehouse_is_written_in_the_duckdb_1_4_storage_format(wh_path):
    con = warehouse.connect(wh_path, read_only=True)
    try:
        assert warehouse.storage_version(con) == "v1.4.0+"
    finally:
        con.close()


def test_the_duckdb_1_5_shell_opens_the_warehouse_and_reads_a_view(wh_path):
    shell = Path(sys.executable).parent / "duckdb"
    if not shell.exists():
        pytest.fail("the DuckDB 1.5 shell (duckdb-cli, a test dependency) is missing: "
                    "pip install -c constraints.txt -e '.[test]'")
    version = subprocess.run([str(shell), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith("v1.5.")
    res = subprocess.run(
        [str(shell), "-readonly", "-csv", str(wh_path), "-c",
         "SELECT org_type, engaged_international, registered, round(participation_pct, 4) AS pct "
         "FROM marts.participation WHERE year = 2012 AND period = 'year_end' ORDER BY org_type"],
        capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout)))
    assert {r["org_type"]: (float(r["engaged_international"]), float(r["registered"]), float(r["pct"]))
            for r in rows} == {
        "all": (556, 499000, 0.1114), "foundation": (8, 3029, 0.2641),
        "private_non_enterprise": (49, 225000, 0.0218), "social_association": (499, 271000, 0.1841)}


HARLEQUIN_CHECK = """
import json, sys
from harlequin_duckdb.adapter import DuckDbAdapter
con = DuckDbAdapter(conn_str=(sys.argv[1],), read_only=True, no_init=True).connect()
[db] = con.get_catalog().items
schemas = {s.label: s for s in db.fetch_children()}
views = {r.label: r for r in schemas["marts"].fetch_children()}
columns = [c.label for c in views["participation"].fetch_children()]
rows = con.execute("SELECT org_type, engaged_international FROM marts.participation "
                   "WHERE year = 2012 ORDER BY org_type").fetchall().to_pylist()
print(json.dumps({"schemas": sorted(schemas), "views": sorted(views), "columns": columns, "rows": rows}))
"""


def test_harlequin_opens_the_warehouse_read_only_and_browses_its_catalog(wh_path):
    """The `tui` extra: Harlequin's DuckDB adapter with the pinned DuckDB (own process: own config)."""
    res = subprocess.run([sys.executable, "-c", HARLEQUIN_CHECK, str(wh_path)], capture_output=True, text=True,
                         timeout=120)
    if "No module named 'harlequin" in res.stderr:
        pytest.fail("Harlequin (the `tui` extra) is missing: pip install -c constraints.txt -e '.[test,tui]'")
    assert res.returncode == 0, res.stderr[-2000:]
    seen = json.loads(res.stdout)
    assert {"raw", "staging", "marts", "audit"} <= set(seen["schemas"])
    assert {"figures", "participation"} <= set(seen["views"])
    assert "participation_ratio" in seen["columns"]
    assert [(r["org_type"], r["engaged_international"]) for r in seen["rows"]] == [
        ("all", 556), ("foundation", 8), ("private_non_enterprise", 49), ("social_association", 499)]


# --- tables and describe -------------------------------------------------------------------------

def test_tables_lists_every_table_and_view_with_its_row_count_and_description(wh_path, capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "warehouse", "tables", "--format", "json", "-w", str(wh_path))
    assert code == 0
    listed = {f"{r['schema']}.{r['name']}": r for r in json.loads(out)}
    assert {"raw.observations", "raw.snapshots", "raw.sources", "staging.observations", "staging.sources",
            "marts.figures", "marts.participation", "audit.validation_results", "audit.briefs"} <= set(listed)
    for name, n in counts(wh_path).items():
        assert listed[name]["rows"] == n
    assert listed["marts.participation"]["kind"] == "view"
    assert listed["raw.snapshots"]["description"].startswith("Provenance of every loaded snapshot file")
    assert all(r["description"] for r in listed.values())


def test_tables_as_text_says_which_duckdb_opens_the_file(wh_path, capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "warehouse", "tables", "-w", str(wh_path))
    assert code == 0
    assert out.splitlines()[0].split() == ["schema", "name", "kind", "rows", "description"]
    assert out.rstrip().endswith("storage format v1.4.0+: DuckDB 1.4.0 or later opens this file")


def test_describe_shows_columns_types_key_and_defining_file(wh_path, capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "warehouse", "describe", "raw.observations", "-w", str(wh_path))
    assert code == 0
    assert "key: primary key (snapshot_id, source_row)" in out
    assert "defined in sql/raw/observations.sql" in out
    assert any(line.split()[:3] == ["source_row", "BIGINT", "not"] for line in out.splitlines())
    code, out, _ = run(capsys, monkeypatch, "warehouse", "describe", "participation", "-f", "json", "-w", str(wh_path))
    d = json.loads(out)
    assert (d["name"], d["kind"]) == ("marts.participation", "view")
    assert {"participation_ratio", "engaged_source_id", "registered_source_id"} <= {c["column"] for c in d["columns"]}


def test_describe_of_an_unknown_or_ambiguous_name_says_what_exists(wh_path, capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "warehouse", "describe", "partic", "-w", str(wh_path))
    assert code == 2 and "did you mean marts.participation" in err and "Traceback" not in err
    code, _, err = run(capsys, monkeypatch, "warehouse", "describe", "observations", "-w", str(wh_path))
    assert code == 2 and "raw.observations, staging.observations" in err


# --- sql -----------------------------------------------------------------------------------------

QUERY_2012 = ("SELECT org_type, engaged_international, registered, participation_ratio, source_ids "
              "FROM marts.participation WHERE year = 2012 AND period = 'year_end' ORDER BY org_type")


def test_sql_gives_the_same_rows_in_every_format(wh_path, capsys, monkeypatch):
    results = {f: run(capsys, monkeypatch, "warehouse", "sql", QUERY_2012, "--format", f, "-w", str(wh_path))
               for f in ("table", "csv", "json", "markdown")}
    assert {f: r[0] for f, r in results.items()} == dict.fromkeys(results, 0)
    as_json = json.loads(results["json"][1])
    as_csv = list(csv.DictReader(io.StringIO(results["csv"][1])))
    assert [r["org_type"] for r in as_json] == [r["org_type"] for r in as_csv] == [
        "all", "foundation", "private_non_enterprise", "social_association"]
    foundation = as_json[1]
    assert foundation["participation_ratio"] == pytest.approx(8 / 3029)
    assert float(as_csv[1]["participation_ratio"]) == foundation["participation_ratio"]  # every digit kept
    assert json.loads(as_csv[1]["source_ids"]) == foundation["source_ids"] == ["huang-cango", "mca-2012-bulletin"]
    md = results["markdown"][1].splitlines()
    assert md[0] == "| org_type | engaged_international | registered | participation_ratio | source_ids |"
    assert md[1].startswith("|---|---:|") and md[3].startswith("| foundation | 8 | 3029 | 0.00264114 |")
    table = results["table"][1].splitlines()
    assert table[3].split()[:3] == ["foundation", "8", "3029"] and table[-1] == "(4 rows)"


@pytest.mark.parametrize("statement", [
    "DELETE FROM raw.sources",
    "UPDATE staging.observations SET value = 0",
    "DROP VIEW marts.participation",
    "CREATE TABLE marts.mine AS SELECT 1 AS x",
    "INSERT INTO raw.sources (source_id) VALUES ('made-up')",
    "COMMENT ON TABLE raw.sources IS 'changed'",
])
def test_sql_refuses_a_write_with_exit_2_and_changes_nothing(wh_path, capsys, monkeypatch, statement):
    before = counts(wh_path)
    code, out, err = run(capsys, monkeypatch, "warehouse", "sql", statement, "-w", str(wh_path))
    assert code == 2 and out == ""
    assert "read-only" in err and "refused" in err and "Traceback" not in err
    assert counts(wh_path) == before


def test_sql_cannot_write_or_attach_files(wh_path, tmp_path, capsys, monkeypatch):
    target = tmp_path / "leak.csv"
    for statement in (f"COPY raw.sources TO '{target}'", f"ATTACH '{tmp_path / 'other.duckdb'}' AS other",
                      "SET enable_external_access = true"):
        code, _, err = run(capsys, monkeypatch, "warehouse", "sql", statement, "-w", str(wh_path))
        assert code == 2 and "Traceback" not in err, statement
    assert list(tmp_path.iterdir()) == []


def test_sql_with_a_mistake_shows_duckdbs_message_without_a_trace(wh_path, capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "warehouse", "sql", "SELECT * FROM marts.nope", "-w", str(wh_path))
    assert code == 2 and "nope" in err
    assert "Traceback" not in err


# --- export --------------------------------------------------------------------------------------

RISKY = ("SELECT * FROM (VALUES ('=1+1', '+41', '-2+3', '@SUM(A1)', 'plain', '49.9万', -2.5)) "
         "AS t(eq, plus, minus, at_sign, plain, wan, number)")


def test_export_of_a_view_to_parquet_keeps_every_value_and_type(wh_path, tmp_path, capsys, monkeypatch):
    to = tmp_path / "participation.parquet"
    code, out, _ = run(capsys, monkeypatch, "warehouse", "export", "marts.participation", "--to", str(to), "-w", str(wh_path))
    assert code == 0 and "from marts.participation" in out
    con = warehouse.connect(wh_path, read_only=True)
    try:
        expected = con.sql("SELECT * FROM marts.participation").pl()
    finally:
        con.close()
    got = pl.read_parquet(to)
    assert got.schema == expected.schema
    assert got.sort("year", "as_of", "org_type").equals(expected.sort("year", "as_of", "org_type"))


def test_export_to_csv_keeps_formula_like_text_as_text(wh_path, tmp_path, capsys, monkeypatch):
    to = tmp_path / "risky.csv"
    code, _, _ = run(capsys, monkeypatch, "warehouse", "export", RISKY, "--to", str(to), "-w", str(wh_path))
    assert code == 0
    raw = to.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 mark: spreadsheets then read 49.9万 correctly
    row = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))[0]
    assert row == {"eq": "'=1+1", "plus": "'+41", "minus": "'-2+3", "at_sign": "'@SUM(A1)", "plain": "plain",
                   "wan": "49.9万", "number": "-2.5"}


def test_export_to_xlsx_stores_formula_like_text_as_quoted_text_cells(wh_path, tmp_path, capsys, monkeypatch):
    from openpyxl import load_workbook

    to = tmp_path / "risky.xlsx"
    code, _, _ = run(capsys, monkeypatch, "warehouse", "export", RISKY, "--to", str(to), "-w", str(wh_path))
    assert code == 0
    with zipfile.ZipFile(to) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet  # no cell holds a formula
    ws = load_workbook(to).active
    header = [c.value for c in ws[1]]
    cells = dict(zip(header, ws[2]))
    for name, text in (("eq", "=1+1"), ("plus", "+41"), ("minus", "-2+3"), ("at_sign", "@SUM(A1)")):
        assert (cells[name].value, cells[name].data_type, cells[name].quotePrefix) == (text, "s", True), name
    assert (cells["wan"].value, cells["wan"].quotePrefix) == ("49.9万", False)
    assert (cells["number"].value, cells["number"].data_type) == (-2.5, "n")


def test_export_of_the_lineage_tables_to_xlsx_reads_back(wh_path, tmp_path, capsys, monkeypatch):
    from openpyxl import load_workbook

    to = tmp_path / "figures.xlsx"
    code, _, _ = run(capsys, monkeypatch, "warehouse", "export", "marts.figures", "--to", str(to), "-w", str(wh_path))
    assert code == 0
    ws = load_workbook(to).active
    rows = list(ws.iter_rows(values_only=True))
    assert ws.title == "marts.figures" and len(rows) - 1 == counts_of(wh_path, "marts.figures")
    header = rows[0]
    first = dict(zip(header, rows[1]))
    assert json.loads(first["all_source_ids"])  # lists become JSON text


def counts_of(path, table) -> int:
    con = warehouse.connect(path, read_only=True)
    try:
        return con.sql(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    finally:
        con.close()


def test_export_names_the_formats_it_writes_and_leaves_no_file_on_error(wh_path, tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "warehouse", "export", "marts.figures", "--to", str(tmp_path / "f.txt"),
                       "-w", str(wh_path))
    assert code == 2 and ".parquet, .csv, .xlsx" in err
    code, _, err = run(capsys, monkeypatch, "warehouse", "export", "SELECT nope FROM marts.figures", "--to",
                       str(tmp_path / "f.csv"), "-w", str(wh_path))
    assert code == 2 and "nope" in err
    assert list(tmp_path.iterdir()) == []


# --- lineage -------------------------------------------------------------------------------------

def lineage_json(capsys, monkeypatch, wh_path, *args):
    code, out, err = run(capsys, monkeypatch, "warehouse", "lineage", *args, "--format", "json", "-w", str(wh_path))
    assert code == 0, err
    return json.loads(out)


def test_lineage_of_a_participation_ratio_reaches_raw_rows_snapshot_and_sources(wh_path, capsys, monkeypatch):
    [item] = lineage_json(capsys, monkeypatch, wh_path, "--year", "2012", "--org-type", "foundation")
    assert item["figure"]["value"] == pytest.approx(8 / 3029)
    assert item["figure"]["period"] == "year_end"
    inputs = {i["measure"]: i for i in item["inputs"]}
    assert {m: (i["value"], i["source_id"]) for m, i in inputs.items()} == {
        "engaged_international": (8, "mca-2012-bulletin"), "registered": (3029, "mca-2012-bulletin"),
        "published_share_pct": (0.26, "huang-cango")}
    engaged = inputs["engaged_international"]["observations"][0]
    manifest = pull.read_manifest()["snapshots"]["observations"]
    assert engaged["chosen"] and engaged["snapshot"]["sha256"] == manifest["sha256"]
    assert engaged["snapshot"]["file_on_disk"] == "matches sha256"
    assert engaged["raw"]["value"] == "8" and engaged["raw"]["note"] == "涉外基金会"
    assert engaged["source"]["publisher"] == "Ministry of Civil Affairs"
    # the row named is the row in the snapshot file (header = row 1)
    lines = (pull.bundled_snapshots()[0].path.read_text(encoding="utf-8").splitlines())
    assert lines[engaged["staging"]["source_row"] - 1].startswith("2012,year_end,2012-12-31,engaged_international,foundation,8,")


def test_lineage_lists_every_source_that_printed_a_figure_chosen_one_first(wh_path, capsys, monkeypatch):
    [item] = lineage_json(capsys, monkeypatch, wh_path, "--year", "2012", "--org-type", "all", "--measure", "registered")
    [figure] = item["inputs"]
    assert figure["n_sources"] == 2
    assert [(o["chosen"], o["source"]["source_id"], o["staging"]["as_published"]) for o in figure["observations"]] == [
        (True, "mca-2012-bulletin", "49.9万"), (False, "huang-cango", "499,000")]
    assert [o["staging"]["half_unit"] for o in figure["observations"]] == [500, 0.5]


def test_lineage_keeps_quarterly_and_year_end_figures_apart(wh_path, capsys, monkeypatch):
    items = lineage_json(capsys, monkeypatch, wh_path, "--year", "2012", "--org-type", "foundation",
                         "--measure", "registered")
    assert [(i["figure"]["period"], i["figure"]["value"]) for i in items] == [("Q3", 2961), ("year_end", 3029)]
    [only] = lineage_json(capsys, monkeypatch, wh_path, "--year", "2012", "--org-type", "foundation",
                          "--measure", "registered", "--period", "Q3")
    assert only["figure"]["as_of"] == "2012-09-30"


def test_lineage_as_text_names_file_row_and_sha256(wh_path, capsys, monkeypatch):
    code, out, _ = run(capsys, monkeypatch, "warehouse", "lineage", "--year", "2012", "--org-type", "all",
                       "--measure", "registered", "-w", str(wh_path))
    sha = pull.read_manifest()["snapshots"]["observations"]["sha256"]
    assert code == 0
    assert "registered = 499000 (printed '49.9万'), chosen source mca-2012-bulletin; 2 sources printed this figure" in out
    assert f"data/snapshots/observations.csv row 24 (header = 1), sha256 {sha}" in out
    assert "    also   huang-cango (priority" in out


def test_lineage_of_a_figure_that_does_not_exist_says_what_does(wh_path, capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "warehouse", "lineage", "--year", "2012", "--org-type", "foundation",
                       "--measure", "employees", "-w", str(wh_path))
    assert code == 2 and "there is: engaged_international, published_share_pct, registered" in err
    code, _, err = run(capsys, monkeypatch, "warehouse", "lineage", "--year", "1990", "--org-type", "all",
                       "-w", str(wh_path))
    assert code == 2 and "no figure for 1990" in err and "2012" in err


# --- locks and missing files ---------------------------------------------------------------------

def test_a_read_while_another_process_writes_names_the_process_holding_the_lock(wh_path, tmp_path):
    path = tmp_path / "busy.duckdb"
    shutil.copy(wh_path, path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, duckdb\ncon = duckdb.connect(sys.argv[1])\nprint('holding', flush=True)\n"
         "sys.stdin.read()", str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        res = subprocess.run([sys.executable, "-m", "ngobrief.cli", "warehouse", "tables", "-w", str(path)],
                             capture_output=True, text=True, timeout=120)
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert res.returncode == 3
    assert f"is locked by another process: PID {holder.pid}, `python" in res.stderr
    assert "import sys, duckdb" in res.stderr  # the holder's command line, on one line
    assert "Traceback" not in res.stderr and res.stdout == ""


def test_lock_holder_without_a_pid_in_duckdbs_message_says_so():
    assert warehouse.lock_holder('IO Error: Could not set lock on file "w.duckdb"') == "DuckDB does not say which one"
    assert warehouse.lock_holder(
        'Conflicting lock is held in /usr/bin/duckdb (PID 999999999). See also') == "PID 999999999, `/usr/bin/duckdb`"


def test_a_missing_warehouse_is_a_usage_error_not_a_busy_one(tmp_path, capsys, monkeypatch):
    code, _, err = run(capsys, monkeypatch, "warehouse", "tables", "-w", str(tmp_path / "none.duckdb"))
    assert code == 2 and "no warehouse at" in err and "ngobrief run" in err
    assert not (tmp_path / "none.duckdb").exists()
