"""The briefs of a run rendered across the cores: the same PDF bytes as one after another, recorded
(editions/briefs.jsonl) in the order asked, and a brief that cannot be made stops the run with its own error."""

import logging
import shutil

import pytest

from ngobrief import brief, config, editions, pipeline
from ngobrief.brief.parallel import WORKERS_ENV, default_workers
from ngobrief.errors import NgobriefError

JOBS = [(2012, "en"), (2012, "zh"), (2013, "en"), (2013, "zh")]


@pytest.fixture
def own_warehouse(built_warehouse, tmp_path, monkeypatch):
    """A copy of the built warehouse and a briefs folder of its own (the render records each brief)."""
    monkeypatch.setenv("NGOBRIEF_OUTPUTS", str(tmp_path / "outputs"))
    path = tmp_path / "warehouse.duckdb"
    shutil.copy(built_warehouse, path)
    return path


def _recorded(path, n):
    return [(b["year"], b["lang"], b["pdf_sha256"]) for b in editions.briefs_written(path)][-n:]


def test_parallel_briefs_are_byte_identical_to_serial_ones(own_warehouse, tmp_path):
    serial = {}
    for b in pipeline.render_stages(JOBS, own_warehouse, workers=1):
        serial[b.path.name] = b.path.read_bytes()
        shutil.move(b.path, tmp_path / b.path.name)   # the parallel run must write every file anew
    parallel = pipeline.render_stages(JOBS, own_warehouse, workers=2)
    assert [b.path for b in parallel] == [brief.brief_path(y, lang) for y, lang in JOBS]
    for b in parallel:
        assert b.path.read_bytes() == serial[b.path.name], b.path.name
        assert b.pages >= 5


def test_parallel_briefs_are_recorded_in_the_order_asked(own_warehouse):
    written = pipeline.render_stages(JOBS, own_warehouse, workers=2)
    assert _recorded(own_warehouse, len(JOBS)) == [(y, lang, b.pdf_sha256) for (y, lang), b in zip(JOBS, written)]


def test_a_brief_that_cannot_be_made_stops_the_parallel_run(own_warehouse):
    with pytest.raises(NgobriefError, match="1990"):
        pipeline.render_stages([(2012, "en"), (1990, "en"), (2013, "en")], own_warehouse, workers=2)
    assert not (config.briefs_dir() / "ngobrief-2013-en.pdf").exists()


def test_render_workers_default_to_the_cores_unless_set(monkeypatch):
    monkeypatch.delenv(WORKERS_ENV, raising=False)
    assert default_workers() >= 1
    monkeypatch.setenv(WORKERS_ENV, "1")
    assert default_workers() == 1


def test_weasyprint_warnings_of_a_worker_reach_this_process_log(tmp_path, caplog):
    from ngobrief.brief.parallel import _pages
    from ngobrief.brief.pdf import write_pdf_keeping_warnings
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    html = ('<html lang="en"><head><style>table { overflow-x: hidden } p { colr: red }</style></head>'
            "<body><table><tr><td>1</td></tr></table><p>x</p></body></html>")
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool, \
            caplog.at_level(logging.WARNING, logger="weasyprint"):
        assert _pages(pool.submit(write_pdf_keeping_warnings, html, tmp_path / "x.pdf", {})) == 1
    messages = [r.getMessage() for r in caplog.records if r.name == "weasyprint"]
    assert any(m.startswith("Ignored `colr: red") for m in messages), messages
    assert not [m for m in messages if "overflow-x" in m], messages   # known-harmless, dropped in the worker
