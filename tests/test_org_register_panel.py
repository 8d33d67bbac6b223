"""A panel of annual register snapshots in one warehouse: each snapshot is counted and checked on
its own, so an organization that is in every year's register is not 'repeated'. The registers are
the SYNTHETIC ones from bench/synthetic_org_register.py, generated small for each test run."""

import shutil

import pytest

from ngobrief import pipeline, pull, warehouse
from test_org_register import _generator


@pytest.fixture(scope="module")
def panel(tmp_path_factory):
    """Three annual snapshots: two years with the same organizations (the same file bytes under
    another name), and a third year with other organizations."""
    folder = tmp_path_factory.mktemp("panel")
    gen = _generator()
    first = gen.generate(1500, seed=11, out_dir=folder, defect_rate=0)
    same = folder / "SYNTHETIC-register-year-2.csv"
    shutil.copy(first.path, same)
    other = gen.generate(700, seed=12, out_dir=folder, defect_rate=0)
    entries = {sid: {"file": p.name, "sha256": sha, "parser": "org_register",
                     "origin": "SYNTHETIC: bench/synthetic_org_register.py"}
               for sid, p, sha in (("register_y1", first.path, first.sha256), ("register_y2", same, first.sha256),
                                   ("register_y3", other.path, other.sha256))}
    path = folder / "w.duckdb"
    loaded = pipeline.load_stage(pull.bundled_snapshots({"snapshots": entries}, folder), path)
    return path, loaded


def _by_snapshot(path):
    con = warehouse.connect(path, read_only=True)
    try:
        return {r[0]: r[1:] for r in con.sql("""
            SELECT snapshot_id, sum(registered), sum(credit_code_repeated), count(*)
            FROM marts.org_register_by_group GROUP BY ALL ORDER BY ALL""").fetchall()}
    finally:
        con.close()


def test_each_annual_snapshot_is_counted_on_its_own(panel):
    path, loaded = panel
    assert loaded == {"register_y1": 1500, "register_y2": 1500, "register_y3": 700}
    counts = _by_snapshot(path)
    assert {sid: c[0] for sid, c in counts.items()} == {"register_y1": 1500, "register_y2": 1500, "register_y3": 700}
    assert counts["register_y1"] == counts["register_y2"]      # same organizations, same groups


def test_an_organization_in_every_years_register_is_not_repeated(panel):
    path, _ = panel
    assert {sid: c[1] for sid, c in _by_snapshot(path).items()} == {"register_y1": 0, "register_y2": 0,
                                                                     "register_y3": 0}
    run = pipeline.validate_stage(path)
    failed = [f.description for f in run.findings if f.suite == "marts_org_register_by_group" and not f.success]
    assert failed == []
