"""The baseline for a brief: WeasyPrint alone rendering the very HTML and files a brief was made from.

    python bench/bare_render.py CAPTURE.pickle OUT.pdf

`Capture` watches weasyprint.HTML while ngobrief renders a brief and records the HTML string, its
base URL and every file or chart WeasyPrint fetched; `render` then makes a PDF from exactly those
with WeasyPrint's default options — no database, no templates, no checks, no audit row."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


class _Recording:
    """Wraps a render's URL fetcher and keeps what it served."""

    def __init__(self, inner, store: dict):
        from weasyprint.urls import URLFetcher

        self.inner = inner or URLFetcher()
        self.store = store
        self._fail_on_errors = getattr(self.inner, "_fail_on_errors", False)

    def __call__(self, url: str):
        from weasyprint.urls import URLFetcherResponse

        response = self.inner(url)
        body = response.read()
        headers = dict(response.headers.items()) if getattr(response, "headers", None) is not None else {}
        if hasattr(response, "close"):
            response.close()
        self.store[url] = (body, headers)
        return URLFetcherResponse(url, body, headers)

    def fetch(self, url, headers=None):
        return self(url)


class Capture:
    """Install before ngobrief imports weasyprint; while `active`, each HTML() made is recorded."""

    def __init__(self):
        self.active = False
        self.last: dict | None = None

    def install(self) -> "Capture":
        import weasyprint

        real, capture = weasyprint.HTML, self

        class WatchedHTML(real):
            def __init__(self, *args, **kwargs):
                if capture.active:
                    resources: dict = {}
                    kwargs["url_fetcher"] = _Recording(kwargs.get("url_fetcher"), resources)
                    html = kwargs.get("string")
                    if html is None and kwargs.get("filename"):
                        html = Path(kwargs["filename"]).read_text(encoding="utf-8")
                    capture.last = {"html": html, "base_url": kwargs.get("base_url"), "resources": resources}
                super().__init__(*args, **kwargs)

        weasyprint.HTML = WatchedHTML
        self.real = real
        return self

    def uninstall(self) -> None:
        import weasyprint

        weasyprint.HTML = self.real


def fetcher_for(resources: dict):
    """Serve the recorded files; anything else as WeasyPrint would by default."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class Recorded(URLFetcher):
        def fetch(self, url, headers=None):
            if url in resources:
                body, hdrs = resources[url]
                return URLFetcherResponse(url, body, hdrs)
            return super().fetch(url, headers)

    return Recorded()


def render(capture: dict, out: Path, html_class=None) -> None:
    if html_class is None:
        from weasyprint import HTML as html_class
    html_class(string=capture["html"], base_url=capture["base_url"],
               url_fetcher=fetcher_for(capture["resources"])).write_pdf(str(out))


if __name__ == "__main__":
    with open(sys.argv[1], "rb") as fh:
        captured = pickle.load(fh)
    render(captured, Path(sys.argv[2]))
