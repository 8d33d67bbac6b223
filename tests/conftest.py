"""Shared fixtures: every test writes under a temporary outputs folder, never the project's."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="ngobrief-tests-"))
os.environ["NGOBRIEF_OUTPUTS"] = str(_TMP / "outputs")
os.environ.pop("NGOBRIEF_WAREHOUSE", None)
os.environ["DO_NOT_TRACK"] = "1"
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_HOME"] = str(_TMP / "prefect")
# Prefect's temporary server may take longer than its default 20 s to start on a busy, shared machine.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
(_TMP / "prefect").mkdir(parents=True, exist_ok=True)

import pytest  # noqa: E402

from ngobrief import config, pipeline, warehouse  # noqa: E402


def pytest_sessionfinish(session, exitstatus):
    """The temporary outputs folder goes with the session (pytest keeps its own tmp_path folders)."""
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> Path:
    """The bundled data loaded and validated once, in a warehouse of its own (no Prefect)."""
    path = tmp_path_factory.mktemp("wh") / "warehouse.duckdb"
    pipeline.load_stage(pipeline.pull_stage(), path)
    pipeline.validate_stage(path)
    return path


@pytest.fixture
def con(built_warehouse):
    c = warehouse.connect(built_warehouse, read_only=True)
    yield c
    c.close()


@pytest.fixture
def empty_warehouse(tmp_path):
    """A new warehouse with every table created and nothing loaded."""
    path = tmp_path / "warehouse.duckdb"
    c = warehouse.connect(path)
    warehouse.create(c)
    yield c
    c.close()


@pytest.fixture
def blocking_suite(tmp_path, monkeypatch):
    """The project's suites plus one error-level expectation that fails for 2013 only (config.EXPECTATIONS_DIR
    points at them for the test)."""
    d = tmp_path / "expectations"
    shutil.copytree(config.EXPECTATIONS_DIR, d)
    (d / "zz_test_blocks_2013.json").write_text(json.dumps({
        "name": "zz_test_blocks_2013",
        "meta": {"table": "marts.participation", "key": ["year", "period", "as_of", "org_type"]},
        "expectations": [{"type": "expect_column_values_to_not_be_in_set",
                          "kwargs": {"column": "year", "value_set": [2013]}, "severity": "critical",
                          "description": "test: 2013 is blocked"}]}), encoding="utf-8")
    monkeypatch.setattr(config, "EXPECTATIONS_DIR", d)
    return d
