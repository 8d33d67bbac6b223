"""Operating the annual schedule without a server: the plan of a run (which writes nothing and names
exactly the briefs the run then writes), `status` (the next run from prefect.yaml's cron, overdue
sources against a fixed day, its exit code), freshness per source series, and a run log free of the
known-harmless WeasyPrint CSS warnings while a real CSS error still shows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import sys
from pathlib import Path

import pytest

from ngobrief import cli, freshness, status, validate
from ngobrief.brief.pdf import write_pdf

ROOT = Path(__file__).resolve().parent.parent


def _tree_sha256(*folders: Path) -> dict[str, str]:
    """sha256 of every file under the folders (path → digest), and the folders' file lists with it."""
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for f in folders if f.exists() for p in sorted(f.rglob("*")) if p.is_file()}


@pytest.fixture
def outputs(tmp_path, monkeypatch, built_warehouse):
    """A project outputs folder holding a built warehouse, with the Prefect home inside it (as `make` sets it)."""
    out = tmp_path / "outputs"
    out.mkdir()
    shutil.copy(built_warehouse, out / "warehouse.duckdb")
    monkeypatch.setenv("NGOBRIEF_OUTPUTS", str(out))
    monkeypatch.setenv("PREFECT_HOME", str(out / "prefect"))
    (out / "prefect").mkdir()
    return out


def _cli(monkeypatch, capsys, *args) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["ngobrief", *map(str, args)])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def _planned_briefs(text: str) -> set[str]:
    return {line.split()[1] for line in text.splitlines() if line.strip().startswith(("new ", "replace "))}


def test_plan_writes_nothing_under_outputs_or_data(outputs, monkeypatch, capsys):
    (outputs / "briefs").mkdir()
    (outputs / "briefs" / "ngobrief-2012-en.pdf").write_bytes(b"%PDF- an earlier brief")
    before = _tree_sha256(outputs, ROOT / "data")
    code, out, err = _cli(monkeypatch, capsys, "run", "--plan")
    assert code == 0, err
    assert _tree_sha256(outputs, ROOT / "data") == before
    assert not (outputs / "warehouse.duckdb.lock").exists()
    assert "replace  " + str(outputs / "briefs" / "ngobrief-2012-en.pdf") in out
    assert "new      " + str(outputs / "briefs" / "ngobrief-2016-zh.pdf") in out
    assert "observations         unchanged" in out and f"suites that would run ({len(validate.suite_files())})" in out


def test_plan_on_a_new_warehouse_says_what_would_be_parsed_and_creates_nothing(tmp_path, monkeypatch, capsys):
    out_dir = tmp_path / "fresh"
    monkeypatch.setenv("NGOBRIEF_OUTPUTS", str(out_dir))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "no-cache"))
    code, out, err = _cli(monkeypatch, capsys, "run", "--plan", "--year", "2012", "--lang", "en")
    assert code == 0, err
    assert not out_dir.exists()
    assert "(would be created)" in out and "parse (cache miss) and load" in out
    assert _planned_briefs(out) == {str(out_dir / "briefs" / "ngobrief-2012-en.pdf")}


def test_plan_lists_exactly_the_briefs_the_run_then_writes_and_that_an_error_publishes_nothing(
        outputs, blocking_suite, monkeypatch, capsys, caplog):
    code, plan_out, err = _cli(monkeypatch, capsys, "run", "--plan")
    assert code == 0, err
    # write-audit-publish: an error-level finding (about 2013) publishes no edition, so no brief of any year
    blocked = next(l for l in plan_out.splitlines() if l.strip().startswith("nothing published"))
    assert "test: 2013 is blocked" in blocked and "year=2013" in blocked
    planned = _planned_briefs(plan_out)
    assert planned == set()

    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), caplog.at_level(logging.WARNING, logger="weasyprint"):
        code, run_out, err = _cli(monkeypatch, capsys, "run")
    # The run log: four briefs rendered, none of great_tables' known-harmless CSS warnings in it.
    css = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    assert not [m for m in css if m.startswith("Ignored `overflow-")], css
    assert code == 1, err          # a blocked year: exit 1, as `ngobrief run` documents
    written = {line.split("brief: ", 1)[1] for line in run_out.splitlines() if line.startswith("brief: ")}
    assert written == planned == {str(p) for p in (outputs / "briefs").glob("*.pdf")}
    assert "nothing published" in err and "test: 2013 is blocked" in err


SHANGHAI = dt.timezone(dt.timedelta(hours=8))


def test_next_run_comes_from_the_cron_in_prefect_yaml():
    sched = status.schedule()
    assert sched == {"cron": "0 9 1 8 *", "timezone": "Asia/Shanghai"}
    nxt = status.next_from_cron(dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.timezone.utc), **sched)
    assert nxt == dt.datetime(2027, 8, 1, 9, 0, tzinfo=SHANGHAI)
    # 1 August 09:00 Shanghai is 01:00 UTC: a minute before it, the run is still ahead that same day
    just_before = status.next_from_cron(dt.datetime(2027, 8, 1, 0, 59, tzinfo=dt.timezone.utc), **sched)
    assert just_before == dt.datetime(2027, 8, 1, 9, 0, tzinfo=SHANGHAI)


MANIFEST = {
    "sources": {"b-2022": {"published": "2023-08-04"}, "b-2023": {"published": "2024-07-20"},
                "q-2024q3": {"published": "2024-11-02"}, "yb": {"published": "2024"}},
    "series": {"bulletin": {"cadence": "annual", "expected": "08-15", "grace_days": 30, "sources": ["b-2022", "b-2023"]},
               "quarterly": {"cadence": "quarterly", "grace_days": 15, "sources": ["q-2024q3"]},
               "yearbook": {"cadence": "annual", "expected": "10-31", "grace_days": 0, "sources": ["yb"]}},
}


def test_a_series_is_overdue_only_after_its_expected_release_and_grace():
    rows = {r["series"]: r for r in freshness.series_freshness(dt.date(2025, 9, 1), MANIFEST)}
    assert rows["bulletin"]["latest_release"] == "2024-07-20" and rows["bulletin"]["next_expected"] == "2025-08-15"
    assert not rows["bulletin"]["overdue"]            # due 15 August, 30 days' grace: fine on 1 September
    assert rows["quarterly"]["next_expected"] == "2025-02-02" and rows["quarterly"]["overdue"]
    assert rows["yearbook"]["latest_release"] == "2024-12-31"  # a bare year never counts as early
    later = {r["series"]: r for r in freshness.series_freshness(dt.date(2025, 9, 20), MANIFEST)}
    assert later["bulletin"]["overdue"] and later["bulletin"]["days_overdue"] == 6


def test_every_series_in_the_manifest_names_known_sources_and_a_cadence():
    rows = freshness.series_freshness(dt.date(2026, 12, 7))
    assert {r["series"] for r in rows} >= {"mca-statistical-bulletin", "cass-bluebook"}
    bulletin = next(r for r in rows if r["series"] == "mca-statistical-bulletin")
    assert bulletin["overdue"] and bulletin["next_expected"] == "2024-08-15"


def test_status_flags_overdue_sources_against_a_fixed_today_and_exits_non_zero(outputs, monkeypatch, capsys):
    monkeypatch.delenv("PREFECT_API_URL", raising=False)
    code, out, err = _cli(monkeypatch, capsys, "status", "--today", "2026-12-07", "--format", "json")
    s = json.loads(out)
    assert code == status.SOURCE_OVERDUE == s["exit_code"]     # loaded today: the edition itself is current
    assert "mca-statistical-bulletin" in {o["series"] for o in s["overdue_sources"]}
    assert s["next_run"]["from"].startswith("prefect.yaml cron") and s["lock_holder"] is None
    assert s["published"]["warehouse"] == str(outputs / "warehouse.duckdb") and s["published"]["last_load"]
    assert not (outputs / "warehouse.duckdb.lock").exists()


def test_status_is_healthy_when_sources_are_current_and_the_edition_is_newer_than_the_schedule(outputs):
    manifest = {"sources": {"b": {"published": "2026-08-01"}},
                "series": {"b": {"cadence": "annual", "expected": "08-15", "sources": ["b"]}}}
    import unittest.mock as mock

    real = freshness.series_freshness
    with mock.patch.object(freshness, "series_freshness", lambda today: real(today, manifest)):
        loaded = dt.datetime.fromisoformat(status.published_edition()["last_load"]).replace(tzinfo=dt.timezone.utc)
        s = status.status(now=loaded + dt.timedelta(days=1))
        assert s["exit_code"] == 0 and s["healthy"] and s["overdue_sources"] == []
        # the next 1 August run has come and gone (plus its grace) without loading anything new
        s = status.status(now=loaded + dt.timedelta(days=240))
        assert s["published_stale"] and s["exit_code"] == status.EDITION_STALE
        status.record_run(name="brief-1999-en", flow="brief-on-demand", ok=False, state="Failed",
                          message="NgobriefError: no participation figures for 1999")
        s = status.status(now=loaded + dt.timedelta(days=1))
        assert s["exit_code"] == status.LAST_RUN_FAILED
        assert s["last_run"]["message"] == "NgobriefError: no participation figures for 1999"


def test_status_names_the_run_that_holds_the_lock(outputs):
    from ngobrief import lock

    with lock.warehouse_lock(what="flow run annual-refresh-2016"):
        assert status.status()["lock_holder"].startswith("flow run annual-refresh-2016 (pid ")
    assert status.status()["lock_holder"] is None


def test_the_known_harmless_css_warnings_are_silenced_and_a_real_css_error_still_shows(tmp_path, caplog):
    html = ('<html lang="en"><head><style>table { overflow-x: hidden; overflow-y:auto; color: font-color(#FFFFFF) } '
            "p { colr: red; margin: -x }</style></head><body><table><tr><td>1</td></tr></table><p>x</p></body></html>")
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        write_pdf(html, tmp_path / "x.pdf")
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("weasyprint")]
    assert not [m for m in messages if "overflow-x" in m or "overflow-y" in m or "font-color" in m], messages
    assert any(m.startswith("Ignored `colr: red`") for m in messages), messages
    assert any(m.startswith("Ignored `margin: -x") for m in messages), messages


def test_a_flow_run_that_cannot_write_its_brief_fails_with_one_line_and_an_artifact(outputs):
    from prefect.testing.utilities import prefect_test_harness

    from flows.brief_on_demand import brief_on_demand

    (outputs / "briefs").write_text("a file where the briefs folder should be")
    with prefect_test_harness(server_startup_timeout=120):
        state = brief_on_demand(year=2012, lang="en", return_state=True)
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id])))
    assert state.is_failed() and "\n" not in state.message
    assert state.message.startswith("NgobriefError (OutputError): cannot write ") and "briefs" in state.message
    assert [a.key for a in artifacts] == ["brief-2012-en-failed"]
    assert "What stays published:** warehouse " + str(outputs / "warehouse.duckdb") in artifacts[0].data
    assert status.last_run_recorded()["message"] == state.message
