"""The bundled snapshots are the bytes the manifest lists, and every figure cites a listed source."""

import shutil

import polars as pl
import pytest

from ngobrief import config
from ngobrief.errors import ManifestError
from ngobrief.pull import bundled_snapshots, read_manifest


def test_every_snapshot_matches_its_manifest_sha256():
    snaps = bundled_snapshots()
    assert {s.snapshot_id for s in snaps} == set(read_manifest()["snapshots"])


def test_a_changed_snapshot_is_caught(tmp_path):
    manifest = read_manifest()
    shutil.copytree(config.DATA_DIR / "snapshots", tmp_path / "snapshots")
    with open(tmp_path / "snapshots" / "observations.csv", "a", encoding="utf-8") as fh:
        fh.write("2099,year_end,2099-12-31,registered,all,1,1,organizations,huang-cango,\n")
    with pytest.raises(ManifestError, match="observations.csv has sha256"):
        bundled_snapshots(manifest, tmp_path)


def test_every_source_id_in_the_data_is_in_the_manifest():
    sources = set(read_manifest()["sources"])
    obs = pl.read_csv(config.DATA_DIR / "snapshots" / "observations.csv", infer_schema=False)
    assert set(obs["source_id"]) <= sources
    survey = pl.read_csv(config.DATA_DIR / "snapshots" / "survey_priorities.csv", infer_schema=False)
    assert set(survey["source_id"]) <= sources
