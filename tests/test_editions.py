"""Warehouse editions: each run publishes a whole new edition named by its content; `editions`, `diff`,
`publish` (rollback) and `withdraw` work on them (docs/warehouse.md, "Editions").

One scenario is built once (without Prefect, through publishing.refresh, the stages the flow runs):
edition 1 from the bundled data; edition 2 after pulling the observations again with one figure
revised and a lower-priority source disagreeing with another; edition 3 after withdrawing a snapshot."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import sys

import pytest

from ngobrief import cli, config, diff, editions, publishing

from reliability._procs import checksums


def _cli(wh, *args):
    """`ngobrief ARGS --warehouse WH` in this process: (exit code, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    argv = sys.argv
    sys.argv = ["ngobrief", *map(str, args), "--warehouse", str(wh)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code
    finally:
        sys.argv = argv
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    root = tmp_path_factory.mktemp("editions")
    data = root / "data"
    shutil.copytree(config.DATA_DIR, data)
    wh = root / "published" / "warehouse.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(config, "DATA_DIR", data)
        mp.setattr(config, "MANIFEST", data / "sources.toml")
        mp.setenv("NGOBRIEF_DATA", str(data))
        first = publishing.refresh(wh)
        again = publishing.refresh(wh)

        # the observations again: one figure of the best-priority source revised, and a row from the
        # lowest-priority source that disagrees with a figure another source prints
        rows = list(csv.DictReader(io.StringIO((data / "snapshots" / "observations.csv").read_text(encoding="utf-8"))))
        revised = next(r for r in rows if r["source_id"] == "mca-2016-bulletin" and r["measure"] == "registered")
        old_value = revised["value"]
        revised["value"] = revised["as_published"] = str(int(float(old_value)) + 7)
        key = ("year", "period", "as_of", "measure", "org_type")
        printed_by_lowest = {tuple(r[k] for k in key) for r in rows if r["source_id"] == "huang-cango"}
        other = next(r for r in rows if r["source_id"] == "mca-2012-bulletin" and r["measure"] == "registered"
                     and tuple(r[k] for k in key) not in printed_by_lowest)
        disagreeing = {**other, "source_id": "huang-cango", "value": str(int(float(other["value"])) + 999),
                       "as_published": str(int(float(other["value"])) + 999), "note": ""}
        out = io.StringIO()
        w = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
        w.writeheader()
        w.writerows(rows + [disagreeing])
        pulled = root / "observations-revised.csv"
        pulled.write_text(out.getvalue(), encoding="utf-8")
        code, pull_out, err = _cli(wh, "pull", "observations", "--file", pulled)
        assert code == 0, err
        published_after_pull = editions.published_id(wh)
        second = publishing.refresh(wh)

        code, withdraw_out, err = _cli(wh, "withdraw", "survey_priorities")
        assert code == 0, err
        third = publishing.refresh(wh)
        yield {"wh": wh, "first": first, "again": again, "second": second, "third": third, "data": data,
               "revised": revised, "old_value": old_value, "disagreeing": disagreeing, "pull_out": pull_out,
               "published_after_pull": published_after_pull, "withdraw_out": withdraw_out}


def test_each_changed_input_publishes_a_new_edition_numbered_in_order(scenario):
    s = scenario
    assert [s["first"].number, s["second"].number, s["third"].number] == [1, 2, 3]
    assert s["first"].new and s["second"].new and s["third"].new
    assert len({s["first"].edition, s["second"].edition, s["third"].edition}) == 3
    assert editions.published_id(s["wh"]) == s["third"].edition


def test_a_rerun_with_nothing_changed_makes_no_new_edition(scenario):
    again = scenario["again"]
    assert not again.new and again.edition == scenario["first"].edition and again.number == 1


def test_a_standalone_pull_stages_and_never_publishes(scenario):
    s = scenario
    assert s["published_after_pull"] == s["first"].edition
    assert "staged in" in s["pull_out"] and "not published" in s["pull_out"]


def test_the_edition_id_is_in_the_file_and_the_manifest_with_every_tables_checksum(scenario):
    wh = scenario["wh"]
    manifest = editions.read_manifest(wh)
    published = editions.entry(manifest, editions.published_id(wh))
    assert published["id"] == scenario["third"].edition and manifest["published"] == published["id"]
    assert checksums(wh, exclude={}) == published["tables"]
    assert set(published["snapshots"]) == {"observations", "ricf_2013", "observations_verified"}  # survey_priorities withdrawn
    assert published["validation"]["errors"] == 0 and published["validation"]["warnings"] >= 1
    assert set(published["code_sha256"]) == {"sql", "expectations", "templates"}


def test_diff_names_exactly_the_revised_figure_with_both_sources(scenario):
    d = diff.diff_editions("1", "2", scenario["wh"])
    r = scenario["revised"]
    assert d["figures"]["added"] == [] and d["figures"]["removed"] == []
    (rev,) = d["figures"]["revised"]
    assert (rev["year"], rev["period"], rev["measure"], rev["org_type"]) == (int(r["year"]), r["period"], r["measure"],
                                                                           r["org_type"])
    assert rev["old"]["value"] == float(scenario["old_value"]) and rev["new"]["value"] == float(r["value"])
    assert rev["old"]["source_id"] == rev["new"]["source_id"] == "mca-2016-bulletin"
    assert d["snapshots"]["changed"] == ["observations"] and d["code"] == {"added": [], "removed": [], "changed": []}


def test_a_lower_priority_source_that_disagrees_is_not_a_revision(scenario):
    d = diff.diff_editions("1", "2", scenario["wh"])
    other = scenario["disagreeing"]
    touched = [f for f in d["figures"]["revised"] + d["figures"]["added"]
               if (f["year"], f["measure"], f["org_type"]) == (int(other["year"]), other["measure"], other["org_type"])]
    assert touched == []


def test_a_withdrawn_snapshot_shows_as_removed(scenario):
    d = diff.diff_editions(warehouse_path=scenario["wh"])   # the default: the previous edition → the published one
    assert (d["old"]["number"], d["new"]["number"]) == (2, 3)
    assert d["snapshots"] == {"added": [], "removed": ["survey_priorities"], "changed": []}
    assert "withdrew snapshot survey_priorities" in scenario["withdraw_out"]


def test_diff_prints_as_table_markdown_and_json(scenario):
    s = scenario
    code, out, err = _cli(s["wh"], "diff", "1", "2", "--format", "markdown")
    assert code == 0, err
    assert out.startswith("# Changes from edition 1") and "## Figures: 0 added, 1 revised, 0 removed" in out
    assert f"→ {s['revised']['value']} [mca-2016-bulletin" in out
    code, out, err = _cli(s["wh"], "diff", "1", "2", "--format", "json")
    assert json.loads(out)["figures"]["revised"][0]["new"]["as_published"] == s["revised"]["value"]
    code, out, err = _cli(s["wh"], "diff", "1", "2")
    assert "FIGURES: 0 ADDED, 1 REVISED, 0 REMOVED" in out


def test_editions_lists_every_kept_edition_and_which_is_published(scenario):
    s = scenario
    code, out, err = _cli(s["wh"], "editions", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["number"] for r in rows] == [1, 2, 3] and [r["published"] for r in rows] == [False, False, True]
    code, out, err = _cli(s["wh"], "editions")
    assert f"*   3  {s['third'].edition}" in out


def test_publish_of_an_older_edition_restores_its_id_and_checksums_then_back(scenario):
    s = scenario
    wh = s["wh"]
    code, out, err = _cli(wh, "publish", "1")
    assert code == 0, err
    manifest = editions.read_manifest(wh)
    assert editions.published_id(wh) == s["first"].edition == manifest["published"]
    assert checksums(wh, exclude={}) == editions.entry(manifest, "1")["tables"]
    code, out, err = _cli(wh, "publish", s["third"].edition[:8])
    assert code == 0 and editions.published_id(wh) == s["third"].edition


def test_publish_of_an_unknown_edition_names_the_kept_ones(scenario):
    s = scenario
    code, out, err = _cli(s["wh"], "publish", "99")
    assert code == 2 and "no edition '99'" in err and f"1 ({s['first'].edition})" in err


def test_only_the_last_n_editions_are_kept(scenario, tmp_path, monkeypatch):
    wh = tmp_path / "warehouse.duckdb"
    (tmp_path / "editions").mkdir()
    for f in editions.home(scenario["wh"]).glob("edition-*.duckdb"):
        shutil.copyfile(f, tmp_path / "editions" / f.name)
    shutil.copyfile(scenario["wh"], wh)
    editions.write_manifest(editions.read_manifest(scenario["wh"]), wh)
    monkeypatch.setenv(editions.KEEP_ENV, "2")
    gone = editions.prune(wh)
    assert gone == [scenario["first"].edition]
    assert sorted(p.name for p in (tmp_path / "editions").glob("edition-*")) == sorted(
        f"edition-{e}.duckdb" for e in (scenario["second"].edition, scenario["third"].edition))
