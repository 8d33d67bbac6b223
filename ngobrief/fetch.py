"""Fetching a source over http(s): a timeout, a few retries on network errors and 5xx/429, and a
conditional request when a copy is held. Nothing here writes anything."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import FetchError


@dataclass
class Fetched:
    content: bytes | None            # None: the server says the copy we hold is current (304)
    etag: str | None
    last_modified: str | None
    url: str
    content_type: str | None


RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


def fetch(url: str, *, etag: str | None = None, last_modified: str | None = None,
          timeout: float = 10.0, retries: int = 2) -> Fetched:
    """GET `url` with a timeout, a few retries on network errors and 5xx/429, and a conditional
    request when we hold a copy (If-None-Match / If-Modified-Since)."""
    import httpx

    from . import __version__

    if urlsplit(url).scheme not in ("http", "https"):
        raise FetchError(f"{url}: only http and https URLs can be pulled (use --file for a local file)")
    headers = {"User-Agent": f"ngobrief/{__version__}"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    problem = "no attempt made"
    with httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)), headers=headers,
                      follow_redirects=True) as client:
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(min(0.5 * 2 ** (attempt - 1), 2.0))
            try:
                r = client.get(url)
            except httpx.TransportError as exc:
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                continue
            if r.status_code == 304:
                return Fetched(None, etag, last_modified, str(r.url), None)
            if r.status_code in RETRY_STATUS:
                problem = f"HTTP {r.status_code} {r.reason_phrase}"
                continue
            if r.status_code >= 400:
                raise FetchError(f"{url}: HTTP {r.status_code} {r.reason_phrase}; nothing was changed")
            return Fetched(r.content, r.headers.get("etag"), r.headers.get("last-modified"), str(r.url),
                           r.headers.get("content-type"))
    raise FetchError(f"could not fetch {url} ({retries + 1} attempt(s)): {problem}. Nothing was changed: "
                     "the snapshot already in the manifest, if any, still serves.")


def suffix_for(data: bytes, hint: str, content_type: str | None) -> str:
    if data.startswith(b"PK\x03\x04"):
        return "xlsx"
    ext = Path(urlsplit(hint).path if "://" in hint else hint).suffix.lower().lstrip(".")
    if ext in ("csv", "tsv", "txt", "tab"):
        return ext
    ct = (content_type or "").lower()
    if "tab-separated" in ct:
        return "tsv"
    return "csv"
