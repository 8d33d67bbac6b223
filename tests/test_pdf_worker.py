"""The PDF worker `ngobrief brief` starts before its imports: it writes exactly the PDF this process
would, hands back WeasyPrint's refusals, and when it is gone the brief is written here instead."""

from __future__ import annotations

import pytest

from ngobrief import early, pdf_worker, pipeline
from ngobrief.errors import NgobriefError


@pytest.fixture(scope="module")
def in_process(built_warehouse, tmp_path_factory):
    out = tmp_path_factory.mktemp("alone") / "2013-en.pdf"
    pipeline.render_stage(2013, "en", built_warehouse, out)
    return out.read_bytes()


def test_the_worker_writes_the_pdf_this_process_would(built_warehouse, in_process, tmp_path):
    worker = pdf_worker.Worker()
    made = pipeline.render_stage(2013, "en", built_warehouse, tmp_path / "b.pdf", worker=worker)
    assert worker.proc.returncode == 0          # it served the page and ended by itself, not killed
    assert made.path.read_bytes() == in_process
    assert made.pages > 1


def test_a_worker_that_died_leaves_the_brief_to_this_process(built_warehouse, in_process, tmp_path):
    worker = pdf_worker.Worker()
    worker.proc.kill()
    worker.proc.wait()
    made = pipeline.render_stage(2013, "en", built_warehouse, tmp_path / "b.pdf", worker=worker)
    assert made.path.read_bytes() == in_process


def test_what_weasyprint_refuses_in_the_worker_is_raised_here(tmp_path):
    out = tmp_path / "tofu.pdf"
    with pytest.raises(NgobriefError, match="notdef"):
        pdf_worker.Worker().write('<html lang="en"><body><p>\U00013000</p></body></html>', out, {})
    assert not out.exists()


def test_turned_off_or_on_one_core_no_worker_starts(monkeypatch):
    monkeypatch.setenv(pdf_worker.ENV, "0")
    pdf_worker.start_early()
    assert pdf_worker.take() is None
    monkeypatch.setenv(pdf_worker.ENV, "1")
    monkeypatch.setattr(early.os, "sched_getaffinity", lambda pid: {0})
    pdf_worker.start_early()
    assert pdf_worker.take() is None
