"""Several briefs at once: each page is made here, one after another (it reads the warehouse), and
WeasyPrint, most of a brief's time, writes the PDFs in a pool of processes, one per core.

The workers are given exactly what a serial render gives WeasyPrint (the HTML and the charts), so
the PDFs are byte-identical to a serial run (tests/test_render_parallel.py). The workers never
open the warehouse."""

from __future__ import annotations

import logging
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from . import Brief, finish_brief, prepare_brief, render_brief
from .pdf import write_pdf_keeping_warnings

# How many processes write PDFs (default: the cores this process may use); 1 renders in this process.
WORKERS_ENV = "NGOBRIEF_RENDER_WORKERS"


def default_workers() -> int:
    try:
        asked = int(os.environ.get(WORKERS_ENV, "0"))
    except ValueError:
        asked = 0
    return asked if asked > 0 else len(os.sched_getaffinity(0))


def _start_worker() -> None:
    """Import WeasyPrint as the worker starts, while this process is still making the first pages."""
    import weasyprint  # noqa: F401


def _pages(future) -> int:
    pages, warnings = future.result()
    for level, message in warnings:
        logging.getLogger("weasyprint").log(level, message)
    return pages


def render_briefs(con, jobs: list[tuple[int, str]], workers: int | None = None) -> list[Brief]:
    """Write the brief of each (year, language) job where brief_path names it; in the order of the jobs."""
    workers = min(len(jobs), workers or default_workers())
    if workers <= 1:
        return [render_brief(con, year, lang) for year, lang in jobs]
    # spawn, not fork: a flow run's process has threads (Prefect's), and a forked child could inherit
    # a lock one of them held
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker) as pool:
        try:
            pending = []
            for year, lang in jobs:
                prepared = prepare_brief(con, year, lang)
                pending.append((prepared, pool.submit(write_pdf_keeping_warnings, prepared.html, prepared.out, prepared.charts)))
            return [finish_brief(prepared, _pages(future)) for prepared, future in pending]
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
