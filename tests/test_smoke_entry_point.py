"""The success path of every command, through the installed `ngobrief` console script in a process of
its own (as a user types it), not through `cli.main()` in the test process: the safety net under the
refactoring of the brief and ingest stages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ngobrief import config

from local_server import WIDE_GB


def console_script() -> Path:
    """The `ngobrief` script pip installed beside this interpreter (the venv's bin/)."""
    script = Path(sys.executable).parent / "ngobrief"
    if not script.is_file():
        found = shutil.which("ngobrief")
        assert found, "the ngobrief console script is not installed: run `make install`"
        script = Path(found)
    return script


@pytest.fixture(scope="module")
def smoke(tmp_path_factory):
    """A data folder, an outputs folder and a warehouse of their own, and a runner for the script.

    The runner starts in a folder that is not the project, with the environment a user has (the test
    process's own settings are not passed on, except the telemetry switches and these folders)."""
    root = tmp_path_factory.mktemp("smoke")
    data = root / "data"
    shutil.copytree(config.DATA_DIR, data)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NGOBRIEF_", "PYTEST", "PREFECT_"))}
    env.update(NGOBRIEF_DATA=str(data), NGOBRIEF_OUTPUTS=str(root / "outputs"), DO_NOT_TRACK="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_HOME=str(root / "prefect"))
    cwd = root / "elsewhere"
    cwd.mkdir()

    def ngobrief(*args, timeout: float = 300, **more_env: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(console_script()), *map(str, args)], capture_output=True, text=True,
                              env={**env, **more_env}, cwd=cwd, timeout=timeout)

    ngobrief.root, ngobrief.warehouse = root, root / "outputs" / "warehouse.duckdb"
    res = ngobrief("pull")
    assert res.returncode == 0, res.stderr
    # a pull only stages a build copy; the commands that read (validate, metrics, brief, warehouse)
    # read the published edition, which a run publishes
    res = ngobrief("run", "--year", "2013", "--lang", "en", timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    return ngobrief


def ok(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 0, f"exit {res.returncode}\nstdout: {res.stdout[-2000:]}\nstderr: {res.stderr[-2000:]}"
    return res.stdout


def test_pull_loads_every_bundled_snapshot(smoke):
    out = ok(smoke("pull"))
    assert "observations" in out and "ricf_2013" in out and "survey_priorities" in out


def test_pull_file_adds_a_source_from_a_local_file(smoke, tmp_path):
    f = tmp_path / "table.csv"
    f.write_bytes(WIDE_GB)
    out = ok(smoke("pull", "smoke-table", "--file", f, "--publisher", "P", "--title", "T", "--published", "2023"))
    assert "smoke-table" in out and "rows loaded" in out


def test_validate_runs_the_suites_and_writes_its_report(smoke):
    out = ok(smoke("validate"))
    assert "report: " in out and "error(s)" in out
    assert Path(out.split("report: ")[1].splitlines()[0]).is_file()


def test_metrics_prints_participation_as_csv(smoke):
    out = ok(smoke("metrics", "--format", "csv"))
    assert out.splitlines()[0].startswith("year,") and len(out.splitlines()) > 1


def test_brief_writes_a_pdf(smoke, tmp_path):
    out = ok(smoke("brief", "--year", "2013", "--out", tmp_path / "b.pdf"))
    assert (tmp_path / "b.pdf").read_bytes()[:5] == b"%PDF-" and "pages" in out


def test_sources_lists_sources_and_snapshots(smoke):
    listing = json.loads(ok(smoke("sources", "--format", "json")))
    assert listing["sources"] and listing["snapshots"]


def test_warehouse_tables_lists_the_marts(smoke):
    assert "marts" in ok(smoke("warehouse", "tables"))


def test_warehouse_describe_names_the_defining_file(smoke):
    assert "sql/marts/participation.sql" in ok(smoke("warehouse", "describe", "marts.participation"))


def test_warehouse_sql_answers_a_query(smoke):
    rows = json.loads(ok(smoke("warehouse", "sql", "SELECT count(*) AS n FROM marts.participation", "-f", "json")))
    assert rows[0]["n"] > 0


def test_warehouse_export_writes_a_csv(smoke, tmp_path):
    ok(smoke("warehouse", "export", "marts.participation", "--to", tmp_path / "p.csv"))
    assert (tmp_path / "p.csv").read_text(encoding="utf-8-sig").startswith("year,")


def test_warehouse_lineage_reaches_the_snapshot(smoke):
    items = json.loads(ok(smoke("warehouse", "lineage", "--year", "2012", "--org-type", "all", "-f", "json")))
    assert items and "snapshot" in json.dumps(items)


def test_run_writes_the_brief_of_a_year(smoke):
    # last: the flow holds the warehouse for its whole run (it has a Prefect server of its own)
    out = ok(smoke("run", "--year", "2013", "--lang", "en", timeout=600))
    assert "brief: " in out and Path(out.split("brief: ")[1].splitlines()[0]).is_file()


def _pdf_workers() -> set[int]:
    """The PDF worker processes alive on this machine (ngobrief.pdf_worker)."""
    found = set()
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if b"ngobrief.pdf_worker" in (d / "cmdline").read_bytes():
                    found.add(int(d.name))
            except OSError:
                pass
    return found


def test_brief_writes_the_same_pdf_with_its_worker_as_without(smoke, tmp_path):
    with_worker, alone = tmp_path / "worker.pdf", tmp_path / "alone.pdf"
    ok(smoke("brief", "--year", "2013", "--lang", "zh", "--out", with_worker))
    ok(smoke("brief", "--year", "2013", "--lang", "zh", "--out", alone, NGOBRIEF_PDF_WORKER="0"))
    assert with_worker.read_bytes() == alone.read_bytes()


def test_a_brief_that_needs_no_pdf_leaves_no_worker_behind(smoke):
    before = _pdf_workers()
    res = smoke("brief", "--year", "1899", "--lang", "en")
    assert res.returncode != 0 and "1899" in res.stderr
    assert _pdf_workers() - before == set()
