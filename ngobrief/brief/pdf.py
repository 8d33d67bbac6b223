"""The PDF: WeasyPrint with a fetcher that serves only the templates and the render's own charts, and
a safe write that never replaces anything but an earlier brief (the --out guard)."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

from .. import config
from . import fit
from ..errors import RenderError

# The URL prefix under which a render's own charts are served (from memory, never from disk or network).
CHART_SCHEME = "ngobrief-chart:"


class LocalOnlyFetcher:
    """Serve only files under the allowed folders and this render's own charts; every other URL fails
    the render."""

    def __init__(self, allowed: list[Path], charts: dict[str, str] | None = None):
        from weasyprint.urls import URLFetcher

        self.allowed = [p.resolve() for p in allowed]
        self.charts = dict(charts or {})
        self.calls: list[str] = []
        self._inner = URLFetcher(allowed_protocols={"file"}, fail_on_errors=True)

    def __call__(self, url: str):
        from urllib.parse import unquote, urlparse

        from weasyprint.urls import FatalURLFetchingError, URLFetcherResponse

        self.calls.append(url)
        if url.startswith(CHART_SCHEME):
            name = url[len(CHART_SCHEME):]
            if name not in self.charts:
                raise FatalURLFetchingError(f"refused to fetch {url}: this render drew no chart {name!r}")
            return URLFetcherResponse(url, self.charts[name].encode("utf-8"),
                                      {"Content-Type": "image/svg+xml"})
        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not any(path.is_relative_to(a) for a in self.allowed):
            raise FatalURLFetchingError(f"refused to fetch {url}: briefs may only use files from templates/")
        return self._inner.fetch(url)

    _fail_on_errors = True


class _RenderProblems(logging.Handler):
    """Collects what WeasyPrint only logs but a brief must not contain: a glyph no font has (drawn as
    a .notdef box, 'tofu') and errors such as an image that failed to load."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.problems: list[str] = []

    def emit(self, record):
        message = record.getMessage()
        if record.levelno >= logging.ERROR or ".notdef" in message:
            self.problems.append(message)


def write_pdf(html: str, out: Path, *, charts: dict[str, str] | None = None,
              extra_allowed: list[Path] | None = None) -> int:
    """Write the tagged PDF (PDF/UA-1); returns its page count. Fails rather than write a PDF with a
    missing glyph or a missing image."""
    from weasyprint import HTML

    fetcher = LocalOnlyFetcher([config.TEMPLATES_DIR, *(extra_allowed or [])], charts)
    watch = _RenderProblems()
    logger = logging.getLogger("weasyprint")
    level = logger.level
    logger.setLevel(min(level or logging.WARNING, logging.WARNING))
    logger.addHandler(watch)
    try:
        doc = _fitted(HTML, html, fetcher)
        # custom_metadata: the page's <meta name="ngobrief-edition"> goes into the PDF's metadata (as /ngobriefedition)
        pdf = doc.write_pdf(pdf_variant="pdf/ua-1", uncompressed_pdf=False, custom_metadata=True)
    finally:
        logger.removeHandler(watch)
        logger.setLevel(level)
    if watch.problems:
        raise RenderError("the brief would not render cleanly: " + "; ".join(dict.fromkeys(watch.problems)))
    guard_out(out)
    _replace_file(out, pdf)
    return len(doc.pages)


def _fitted(HTML, html: str, fetcher):
    """The laid-out brief in at most two renders: the first layout (brief.css is written so that its
    pages are usually all full enough), or the one other layout fit.choose picks from the first
    layout's measurements (when the first leaves a page too empty, or is predicted to need a page more
    than it) if that turns out better. The text is the same, only spacing and page breaks differ."""
    def render(extra: str):
        page = html.replace('<body class="', f'<body class="{extra} ', 1) if extra else html
        return HTML(string=page, base_url=str(config.TEMPLATES_DIR) + "/", url_fetcher=fetcher).render(
            pdf_variant="pdf/ua-1")

    doc = render("")
    layout = fit.measure(doc)
    extra = fit.choose(layout)
    if extra is None:
        return doc
    other = render(extra)
    return other if fit.better(layout.shares, fit.page_fullness(other)) else doc


def _replace_file(out: Path, content: bytes) -> None:
    """Write `out` as a new file that replaces the old name at once: a reader never sees half a PDF, and
    the file the name pointed to before (through a symlink or a hard link) is never written into; a
    full disk leaves the previous brief whole."""
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except OSError as exc:   # a failed write() names no file: name the brief
        Path(tmp).unlink(missing_ok=True)
        raise OSError(exc.errno, exc.strerror, str(out)) from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def protected_folders() -> list[tuple[Path, str]]:
    """Folders a brief may never be written into, with how a message names them: the data folder in
    use (NGOBRIEF_DATA or data/), the repository's own data/, the templates, SQL and expectations."""
    folders = [(config.DATA_DIR, "data/" if config.DATA_DIR.resolve() == (config.ROOT / "data").resolve()
                else f"the data folder {config.DATA_DIR} (NGOBRIEF_DATA)"),
               (config.ROOT / "data", "data/"), (config.TEMPLATES_DIR, "templates/"), (config.SQL_DIR, "sql/"),
               (config.EXPECTATIONS_DIR, "expectations/")]
    seen, out = set(), []
    for folder, label in folders:
        if folder.resolve() not in seen:
            seen.add(folder.resolve())
            out.append((folder.resolve(), label))
    return out


def guard_out(out: Path) -> None:
    """Never write a brief over the data (a source snapshot, the manifest), the templates or the SQL:
    not by a path under them, not through a symlink or `..` leading there, not through a hard link
    to one of their files. Nor over any file that is not a PDF already (the warehouse, a CSV, ...):
    a brief replaces an earlier brief, nothing else."""
    resolved = Path(out).resolve()
    folders = protected_folders()
    for folder, label in folders:
        if resolved.is_relative_to(folder):
            raise RenderError(f"refusing to write {out}: it lies under {label}, which holds sources; "
                              "choose an --out outside it")
    try:
        st = os.stat(resolved)
    except OSError:
        return
    if st.st_nlink > 1:   # another name for the same file: is that name one of the protected files?
        for folder, label in folders:
            for f in folder.rglob("*"):
                try:
                    other = os.stat(f, follow_symlinks=False)
                except OSError:
                    continue
                if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                    raise RenderError(f"refusing to write {out}: it is a hard link to {f.relative_to(folder)} "
                                      f"under {label}, which holds sources; choose an --out outside it")
    if stat.S_ISDIR(st.st_mode):
        raise RenderError(f"refusing to write {out}: it is a folder; give --out a file name ending in .pdf")
    with open(resolved, "rb") as fh:
        head = fh.read(5)
    if head != b"%PDF-":
        raise RenderError(f"refusing to write {out}: the file exists and is not a PDF, so it is not an earlier "
                          "brief; remove it or choose another --out")


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.kept: list[tuple[int, str]] = []

    def emit(self, record):
        self.kept.append((record.levelno, record.getMessage()))


def write_pdf_keeping_warnings(html: str, out, charts: dict[str, str]) -> tuple[int, list[tuple[int, str]]]:
    """write_pdf in a worker process (brief.parallel's pool, ngobrief.pdf_worker); WeasyPrint's warnings
    come back with the page count, so that they reach the run's log (a worker's own log goes nowhere a
    user looks)."""
    logger, keep = logging.getLogger("weasyprint"), _Keep()
    logger.addHandler(keep)
    try:
        return write_pdf(html, out, charts=charts), keep.kept
    finally:
        logger.removeHandler(keep)
