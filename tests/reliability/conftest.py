"""Helpers for the reliability suite, generic enough for every test in it: a checksum of every table
in a warehouse, a private copy of the built warehouse and of data/, and the command line run in this
process. The session fixture `built_warehouse` (tests/conftest.py) is never written to."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import pytest

from ngobrief import cli, config

from ._procs import checksums


def table_checksums(warehouse_path) -> dict[str, str]:
    """sha256 of every table in the warehouse, every column compared (see _procs.checksums)."""
    return checksums(warehouse_path, exclude={})


@pytest.fixture(name="table_checksums")
def _table_checksums():
    """`table_checksums(path)` as a fixture, for test files that do not import this module."""
    return table_checksums


@pytest.fixture
def warehouse_copy(built_warehouse, tmp_path) -> Path:
    """A copy of the built warehouse (bundled data loaded and validated) that a test may change."""
    path = tmp_path / "warehouse" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copyfile(built_warehouse, path)
    return path


@pytest.fixture
def data_copy(tmp_path, monkeypatch) -> Path:
    """A copy of data/ used as the project's data folder, in this process (config) and in child
    processes (NGOBRIEF_DATA): a pull that wrongly succeeds cannot touch the repository's data/."""
    d = tmp_path / "data"
    shutil.copytree(config.DATA_DIR, d)
    monkeypatch.setattr(config, "DATA_DIR", d)
    monkeypatch.setattr(config, "MANIFEST", d / "sources.toml")
    monkeypatch.setenv("NGOBRIEF_DATA", str(d))
    return d


@pytest.fixture
def run_cli(monkeypatch, capsys):
    """Run `ngobrief ARGS...` in this process, as the console script does: (exit code, stdout, stderr)."""
    def run(*args) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["ngobrief", *map(str, args)])
        try:
            cli.main()
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        out = capsys.readouterr()
        return code, out.out, out.err
    return run


def files_under(folder: Path) -> dict[str, str]:
    """Every file under `folder` with the sha256 of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(name="files_under")
def _files_under():
    return files_under
