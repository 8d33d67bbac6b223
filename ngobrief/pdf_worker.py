"""A process that imports WeasyPrint while `ngobrief brief` reads the warehouse and makes the page, then
writes that page's PDF: on two cores the brief costs about the longer of the two, not their sum.

Importing WeasyPrint (with its fonts and CSS machinery) takes about as long as everything else a brief
does before its render: the command line's own imports, the warehouse's queries and the page's
template. `ngobrief.entry` starts the worker before those imports; the brief command hands it the page
(`write`), and it runs exactly what an in-process render runs (brief.pdf's `write_pdf_keeping_warnings`), so the
PDF is byte-identical. A worker that was not needed (a usage error, `--help`, a warehouse not built) is
stopped when the command ends; a worker that fails to start or dies makes the brief render in this
process instead, as before. Only the standard library is imported here: this module runs first."""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys

# NGOBRIEF_PDF_WORKER=0 renders in the command's own process (as on a machine with one core).
ENV = "NGOBRIEF_PDF_WORKER"

_early: "Worker | None" = None


class Worker:
    """One PDF to write, in a process of its own that has already imported WeasyPrint."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-m", "ngobrief.pdf_worker"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=os.environ.copy())
        atexit.register(self.stop)

    def write(self, html: str, out, charts: dict[str, str]) -> tuple[int, list[tuple[int, str]]] | None:
        """The page count and WeasyPrint's warnings, as brief.pdf's `write_pdf_keeping_warnings` returns them; None
        when the worker could not do it (the caller renders in its own process). A RenderError the
        worker raised (a missing glyph, a missing image) is raised here."""
        try:
            pickle.dump((html, out, charts), self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            self.proc.stdin.close()
            status, value = pickle.load(self.proc.stdout)
        except (OSError, EOFError, pickle.UnpicklingError):
            self.stop()
            return None
        finally:
            self.proc.wait()
        if status == "error":
            raise value
        return value

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def start_early() -> None:
    """Start the worker now, if this machine has a core to spare and it is not turned off."""
    global _early
    if os.environ.get(ENV, "1") == "0" or len(os.sched_getaffinity(0)) < 2:
        return
    try:
        _early = Worker()
    except OSError:
        _early = None


def take() -> Worker | None:
    """The worker started early for this command, once (None: render in this process)."""
    global _early
    worker, _early = _early, None
    return worker


def _serve() -> None:
    """The worker's side: import WeasyPrint and the PDF writer, wait for one page, write its PDF."""
    reply = os.fdopen(os.dup(1), "wb")   # the pipe to the command; anything printed goes to stderr
    os.dup2(2, 1)
    import weasyprint  # noqa: F401  (first: the slow part, done while the command makes the page)

    from ngobrief.brief.pdf import write_pdf_keeping_warnings   # brief.pdf alone: not the page's modules

    try:
        html, out, charts = pickle.load(sys.stdin.buffer)
    except EOFError:   # the command needed no PDF after all
        return
    try:
        result = ("ok", write_pdf_keeping_warnings(html, out, charts))
    except Exception as exc:  # noqa: BLE001  (handed back to the command, which raises it)
        result = ("error", exc)
    try:
        payload = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:  # noqa: BLE001  (an exception that does not pickle: its message does)
        payload = pickle.dumps(("error", RuntimeError(str(result[1]))), protocol=pickle.HIGHEST_PROTOCOL)
    reply.write(payload)
    reply.flush()
    # the PDF is written and closed, the answer sent: end now, without tearing down WeasyPrint's and
    # Python's modules, which the command would otherwise wait for
    os._exit(0)


if __name__ == "__main__":
    _serve()
