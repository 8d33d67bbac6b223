"""Idempotency: the annual pipeline run twice (`ngobrief run`, what `make run` runs) on the same
outputs folder. The second run's inputs and code are the first's, so it makes no new edition: the
published warehouse stays byte for byte as it was, and the PDFs are byte-identical.

To stay fast it briefs one year (2013) in both languages; the load, validation and rendering code
paths are those of a full run."""

from __future__ import annotations

import pytest

from ._procs import checksums, cli, cli_env, file_sha256

RUN = ["run", "--year", "2013", "--lang", "en", "--lang", "zh"]


@pytest.fixture(scope="module")
def twice(tmp_path_factory):
    outputs = tmp_path_factory.mktemp("twice") / "outputs"
    env = cli_env(outputs)
    first = cli(*RUN, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    wh, briefs = outputs / "warehouse.duckdb", sorted((outputs / "briefs").glob("*.pdf"))
    after_first = {"tables": checksums(wh, exclude={}), "file": file_sha256(wh),
                   "pdfs": {p.name: file_sha256(p) for p in briefs}}
    second = cli(*RUN, env=env)
    assert second.returncode == 0, second.stderr[-3000:]
    return {"first": after_first, "wh": wh, "outputs": outputs, "stdout": (first.stdout, second.stdout)}


def test_running_twice_leaves_every_table_as_the_first_run_left_it(twice):
    first, second = twice["first"]["tables"], checksums(twice["wh"], exclude={})
    assert len(first) >= 10 and {"raw.snapshots", "staging.observations", "raw.register_foundations",
                                 "audit.validation_results", "audit.edition"} <= set(first)
    assert second == first


def test_the_second_run_makes_no_new_edition_and_leaves_the_published_file_as_it_was(twice):
    first_out, second_out = twice["stdout"]
    assert "edition 1 (" in first_out and "published" in first_out
    assert "edition 1 (" in second_out and "inputs unchanged, no new edition" in second_out
    assert file_sha256(twice["wh"]) == twice["first"]["file"]


def test_running_twice_writes_byte_identical_pdfs(twice):
    first = twice["first"]["pdfs"]
    assert sorted(first) == ["ngobrief-2013-en.pdf", "ngobrief-2013-zh.pdf"]
    assert {p.name: file_sha256(p) for p in sorted((twice["outputs"] / "briefs").glob("*.pdf"))} == first
