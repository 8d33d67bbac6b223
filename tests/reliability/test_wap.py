"""Write-audit-publish: readers holding the published warehouse never block a run and never see half
of one; a failing audit publishes nothing; a kill at any point leaves one whole edition
(docs/warehouse.md, "Editions")."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ngobrief import config, editions

from ._procs import ROOT, checksums, cli, cli_env, file_sha256

DUCKDB_SHELL = Path(sys.executable).parent / "duckdb"   # duckdb-cli 1.5, from the test extra


def revised_observations(data: Path, tmp: Path) -> Path:
    """The bundled observations with one figure of the best-priority source revised (+7)."""
    rows = list(csv.DictReader(io.StringIO((data / "snapshots" / "observations.csv").read_text(encoding="utf-8"))))
    r = next(r for r in rows if r["source_id"] == "mca-2016-bulletin" and r["measure"] == "registered")
    r["value"] = r["as_published"] = str(int(float(r["value"])) + 7)
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path = tmp / "observations-revised.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def edition_of(path: Path) -> str:
    """The edition id a new reader (a new process) sees in the file."""
    code = "import duckdb,sys; print(duckdb.connect(sys.argv[1], read_only=True).sql('SELECT edition_id FROM audit.edition').fetchall()[0][0])"
    return subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


def assert_one_whole_edition(wh: Path) -> str:
    """The path opens as an edition the manifest lists, with exactly its recorded table checksums."""
    ident = edition_of(wh)
    recorded = editions.entry(editions.read_manifest(wh), ident)
    assert checksums(wh, exclude={}) == recorded["tables"]
    return ident


# --- readers during a run ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Edition 1 by `ngobrief run --year 2013`; then a revised figure is pulled, and a second run goes
    while a DuckDB shell and a Python read-only connection hold the published file; then a third run
    with nothing changed."""
    tmp = tmp_path_factory.mktemp("wap-readers")
    data = tmp / "data"
    shutil.copytree(config.DATA_DIR, data)
    out = tmp / "outputs"
    env = cli_env(out, NGOBRIEF_DATA=data)
    wh = out / "warehouse.duckdb"
    first = cli("run", "--year", "2013", "--lang", "en", env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    edition_1 = edition_of(wh)
    pulled = cli("pull", "observations", "--file", revised_observations(data, tmp), env=env)
    assert pulled.returncode == 0, pulled.stderr[-3000:]

    shell = subprocess.Popen([str(DUCKDB_SHELL), "-readonly", str(wh)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    reader = duckdb.connect(str(wh), read_only=True)
    try:
        assert reader.sql("SELECT edition_id FROM audit.edition").fetchall() == [(edition_1,)]
        second = cli("run", "--year", "2013", "--lang", "en", env=env)
        reader_sees = reader.sql("SELECT edition_id, (SELECT count(*) FROM marts.figures) FROM audit.edition").fetchall()
        shell_out, shell_err = shell.communicate("SELECT 'edition:' || edition_id FROM audit.edition;\n", timeout=60)
    finally:
        reader.close()
        if shell.poll() is None:
            shell.kill()
    edition_2 = edition_of(wh)
    pdf = out / "briefs" / "ngobrief-2013-en.pdf"
    pdf_2 = pdf.read_bytes()
    third = cli("run", "--year", "2013", "--lang", "en", env=env)
    return {"wh": wh, "out": out, "env": env, "first": first, "second": second, "third": third,
            "edition_1": edition_1, "edition_2": edition_2, "reader_sees": reader_sees,
            "shell_out": shell_out, "shell_err": shell_err, "pdf": pdf, "pdf_2": pdf_2,
            "edition_3": edition_of(wh)}


def test_a_run_publishes_while_a_duckdb_shell_and_a_python_reader_hold_the_published_file(runs):
    assert runs["second"].returncode == 0, runs["second"].stderr[-3000:]
    assert "edition 2" in runs["second"].stdout and "published" in runs["second"].stdout
    assert runs["edition_2"] != runs["edition_1"]


def test_the_open_readers_keep_answering_on_the_old_edition(runs):
    (ident, figures), = runs["reader_sees"]
    assert ident == runs["edition_1"] and figures > 0
    assert f"edition:{runs['edition_1']}" in runs["shell_out"], runs["shell_err"]


def test_a_reader_opened_afterwards_sees_the_new_edition_whole(runs):
    assert assert_one_whole_edition(runs["wh"]) == runs["edition_2"]


def test_a_rerun_with_nothing_changed_makes_no_new_edition_and_the_same_pdf(runs):
    third = runs["third"]
    assert third.returncode == 0, third.stderr[-3000:]
    assert "inputs unchanged, no new edition" in third.stdout
    assert runs["edition_3"] == runs["edition_2"]
    assert [e["number"] for e in editions.read_manifest(runs["wh"])["editions"]] == [1, 2]
    assert runs["pdf"].read_bytes() == runs["pdf_2"]


def test_each_pdf_names_its_edition_in_its_metadata_and_the_record_of_briefs(runs):
    from pypdf import PdfReader

    meta = PdfReader(runs["pdf"]).metadata
    assert meta["/ngobriefedition"] == f"2 {runs['edition_2']}"
    written = editions.briefs_written(runs["wh"])
    assert {b["edition"] for b in written if b["path"] == str(runs["pdf"])} == {runs["edition_1"], runs["edition_2"]}
    manifest = editions.read_manifest(runs["wh"])
    assert str(runs["pdf"]) in editions.entry(manifest, "2")["briefs"]
    assert editions.entry(manifest, "2")["flow_run_id"]


def test_the_brief_says_what_changed_since_the_last_edition(runs):
    text = subprocess.run(["pdftotext", str(runs["pdf"]), "-"], capture_output=True, text=True, check=True).stdout
    assert "Since the last edition" in text
    assert f"edition 2 ({runs['edition_2']})" in text and "1 revised" in " ".join(text.split())


# --- a failing audit ---------------------------------------------------------------------------------

BAD_SUBTOTAL = ("year,period,as_of,measure,org_type,value,as_published,unit,source_id,note\n"
                "2013,year_end,2013-12-31,registered,all,1000,1000,organizations,bad-subtotal,\n"
                "2013,year_end,2013-12-31,registered,social_association,2000,2000,organizations,bad-subtotal,\n")


def test_a_failing_audit_publishes_nothing_keeps_the_build_and_withdraw_lets_the_next_run_publish(tmp_path, data_copy):
    from ngobrief import publishing

    out = tmp_path / "outputs"
    env = cli_env(out, NGOBRIEF_DATA=data_copy)
    wh = out / "warehouse.duckdb"
    first = publishing.refresh(wh)          # edition 1, without Prefect
    before = file_sha256(wh)
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_SUBTOTAL, encoding="utf-8")
    pulled = cli("pull", "bad-subtotal", "--file", bad, "--publisher", "A publisher", "--title", "A table", env=env)
    assert pulled.returncode == 0, pulled.stderr[-3000:]

    failed = cli("run", "--year", "2013", "--lang", "en", env=env)
    assert failed.returncode == 1, failed.stderr[-3000:]
    assert file_sha256(wh) == before and edition_of(wh) == first.edition
    assert "nothing published" in failed.stderr and "marts_check_subtotals" in failed.stderr
    kept = next((out / "editions" / "builds").glob("failed-*.duckdb"))
    assert f"--warehouse {kept}" in failed.stderr
    inspect = cli("warehouse", "sql", "SELECT count(*) FROM staging.observations WHERE source_id = 'bad-subtotal'",
                  "--warehouse", kept, env=env)
    assert inspect.returncode == 0 and "2" in inspect.stdout

    withdrawn = cli("withdraw", "bad-subtotal", env=env)
    assert withdrawn.returncode == 0 and "withdrew snapshot bad-subtotal" in withdrawn.stdout
    again = cli("run", "--year", "2013", "--lang", "en", env=env)
    assert again.returncode == 0, again.stderr[-3000:]
    # a new edition (the pulled source document stays in the manifest), without the withdrawn rows
    assert "edition 2 (" in again.stdout and edition_of(wh) != first.edition
    held = cli("warehouse", "sql", "SELECT count(*) AS n FROM staging.observations WHERE source_id = 'bad-subtotal'",
               "--format", "csv", env=env)
    assert held.returncode == 0 and held.stdout.split() == ["n", "0"]


def test_validate_audits_the_published_edition_read_only_and_makes_no_edition(tmp_path, data_copy):
    from ngobrief import publishing

    out = tmp_path / "outputs"
    wh = out / "warehouse.duckdb"
    publishing.refresh(wh)
    before, manifest = file_sha256(wh), editions.read_manifest(wh)
    reader = duckdb.connect(str(wh), read_only=True)   # a reader holding it does not stop the audit
    try:
        done = cli("validate", env=cli_env(out, NGOBRIEF_DATA=data_copy))
    finally:
        reader.close()
    assert done.returncode == 0, done.stderr[-3000:]
    assert file_sha256(wh) == before and editions.read_manifest(wh) == manifest
    assert (out / "editions" / "validation.jsonl").read_text(encoding="utf-8").count("\n") == 1


# --- SIGKILL during build and publish ----------------------------------------------------------------

@pytest.fixture(scope="module")
def edition_1(tmp_path_factory):
    """Edition 1 published, and a revised figure in the data: the next build makes edition 2."""
    tmp = tmp_path_factory.mktemp("wap-kill")
    data = tmp / "data"
    shutil.copytree(config.DATA_DIR, data)
    out = tmp / "outputs"
    env = cli_env(out, NGOBRIEF_DATA=data)
    done = subprocess.run([sys.executable, "-c", REFRESH, str(out / "warehouse.duckdb")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    pulled = cli("pull", "observations", "--file", revised_observations(data, tmp), env=env)
    assert pulled.returncode == 0, pulled.stderr[-3000:]
    return {"out": out, "data": data}


REFRESH = "import sys; from ngobrief import publishing; print(publishing.refresh(sys.argv[1]).edition)"
POINTS = ["build-copied", "loaded", "validated", "edition-kept", "manifest-written", "renamed"]


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_any_point_leaves_one_whole_edition_and_the_next_run_publishes(edition_1, tmp_path, point):
    out = tmp_path / "outputs"
    shutil.copytree(edition_1["out"], out)
    wh = out / "warehouse.duckdb"
    old = edition_of(wh)
    marker = tmp_path / "reached"
    env = cli_env(out, NGOBRIEF_DATA=edition_1["data"], NGOBRIEF_PAUSE_AT=point, NGOBRIEF_PAUSE_AT_FILE=marker)
    proc = subprocess.Popen([sys.executable, "-c", REFRESH, str(wh)], env=env, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 300
        while not marker.exists():
            assert proc.poll() is None, proc.communicate()[1][-3000:]
            assert time.monotonic() < deadline, f"never reached {point}"
            time.sleep(0.1)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
    after = assert_one_whole_edition(wh)
    assert after == old if point in POINTS[:5] else after != old

    env.pop("NGOBRIEF_PAUSE_AT")
    done = subprocess.run([sys.executable, "-c", REFRESH, str(wh)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    new = assert_one_whole_edition(wh)
    assert new != old and editions.read_manifest(wh)["published"] == new
    assert not list((out / "editions" / "builds").glob("build-*"))   # the killed build is cleaned up
    # the manifest lists exactly the kept files
    assert sorted(p.name for p in (out / "editions").glob("edition-*.duckdb")) == sorted(
        e["file"] for e in editions.read_manifest(wh)["editions"])
