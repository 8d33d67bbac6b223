"""A process that imports WeasyPrint while `ngobrief brief` reads the warehouse and makes the page, then
writes that page's PDF: on two cores the brief costs about the longer of the two, not their sum.

Importing WeasyPrint (with its fonts and CSS machinery) takes about as long as everything else a brief
does before its render: the command line's own imports, the warehouse's queries and the page's
template. `ngobrief.entry` starts the worker before those imports (an ngobrief.early process); the
brief command hands it the page (`write`), and it runs exactly what an in-process render runs
(brief.pdf's `write_pdf_keeping_warnings`), so the PDF is byte-identical. A worker that was not needed
(a usage error, `--help`, a warehouse not built) is stopped when the command ends; a worker that fails
to start or dies makes the brief render in this process instead, as before. Only the standard library
is imported here: this module runs first."""

from __future__ import annotations

from . import early

# NGOBRIEF_PDF_WORKER=0 renders in the command's own process (as on a machine with one core).
ENV = early.PDF[2]


class Worker(early.Early):
    """One PDF to write, in a process of its own that has already imported WeasyPrint."""

    def __init__(self, preload: str = early.PDF[1]):
        super().__init__(preload)

    def write(self, html: str, out, charts: dict[str, str]) -> tuple[int, list[tuple[int, str]]] | None:
        """The page count and WeasyPrint's warnings, as brief.pdf's `write_pdf_keeping_warnings`
        returns them; None when the worker could not do it (the caller renders in its own process). A
        RenderError the worker raised (a missing glyph, a missing image) is raised here."""
        done = self.call("ngobrief.brief.pdf:write_pdf_keeping_warnings", html, out, charts)
        return done[0] if done else None


def start_early() -> None:
    """Start the worker now, if this machine has a core to spare and it is not turned off."""
    early.start(*early.PDF, kind=Worker)


def take() -> Worker | None:
    """The worker started early for this command, once (None: render in this process)."""
    return early.take(early.PDF[0])
