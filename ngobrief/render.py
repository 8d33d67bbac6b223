"""Render stage: figures from the marts into an HTML brief (Jinja2) and a PDF (WeasyPrint).

Every number shown comes from the warehouse; the per-language content files in templates/content/
hold labels and sentence patterns only."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from . import config, metrics, validate
from .errors import NgobriefError

LANGS = ("en", "zh")


class RenderError(NgobriefError):
    pass


def content(lang: str) -> dict:
    path = config.TEMPLATES_DIR / "content" / f"{lang}.yaml"
    if lang not in LANGS or not path.is_file():
        raise RenderError(f"no brief content for language {lang!r}; choose one of {', '.join(LANGS)}")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


class Formatter:
    """Numbers and percentages in the reader's locale (babel)."""

    def __init__(self, locale: str):
        self.locale = locale

    def count(self, value) -> str:
        return "" if value is None else format_decimal(round(value), locale=self.locale)

    def pct(self, value, digits: int = 2) -> str:
        if value is None:
            return ""
        return format_decimal(value, format="0." + "0" * digits, locale=self.locale) + "%"


def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(config.TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env


def say(pattern: str, **values) -> str:
    """Fill a content file's sentence pattern with already formatted values."""
    return Environment(autoescape=False, undefined=StrictUndefined).from_string(pattern).render(**values)


def brief_context(con, year: int, lang: str, types: list[str] | None = None) -> dict:
    text = content(lang)
    fmt = Formatter(text["locale"])
    part = metrics.participation(con, year, types)
    if part.filter(part["participation_pct"].is_not_null()).height == 0:
        raise RenderError(f"no participation figures for {year}: the warehouse has no year with both "
                          f"counts then (years with figures: {metrics.brief_years(con)})")
    rows = part.to_dicts()
    headline = next((r for r in rows if r["org_type"] == "all" and r["participation_pct"] is not None),
                    next(r for r in rows if r["participation_pct"] is not None))
    type_label = text["org_types"]
    key = {
        "type": type_label.get(headline["org_type"], headline["org_type"]),
        "engaged": fmt.count(headline["engaged_international"]),
        "registered": fmt.count(headline["registered"]),
        "pct": fmt.pct(headline["participation_pct"]),
        "year": headline["year"], "as_of": str(headline["as_of"]),
    }
    table = []
    for r in rows:
        table.append({
            "org_type": type_label.get(r["org_type"], r["org_type"]),
            "period": text["periods"].get(r["period"], r["period"]),
            "as_of": str(r["as_of"]),
            "engaged": fmt.count(r["engaged_international"]),
            "registered": fmt.count(r["registered"]),
            "pct": fmt.pct(r["participation_pct"]),
            "published": fmt.pct(r["published_share_pct"]) if r["published_share_pct"] is not None else "",
            "disagrees": bool(r["published_disagrees"]),
            "definition": r["definition"] or "",
            "sources": ", ".join(r["source_ids"]),
        })
    source_ids = {s for r in rows for s in r["source_ids"]}
    findings = validate.latest_findings(con, year)
    return {
        "lang": lang, "year": year, "text": text, "key": key,
        "headline": say(text["narrative"]["headline"], **key),
        "edition": say(text["edition"], year=year),
        "table": table,
        "sources": metrics.sources_used(con, source_ids).to_dicts(),
        "findings": findings,
    }


def render_html(ctx: dict) -> str:
    return _env().get_template("brief.html.j2").render(**ctx)


@dataclass
class Brief:
    path: Path
    inputs_sha256: str
    pdf_sha256: str


class LocalOnlyFetcher:
    """Serve only files under the allowed folders; every other URL fails the render."""

    def __init__(self, allowed: list[Path]):
        from weasyprint.urls import URLFetcher

        self.allowed = [p.resolve() for p in allowed]
        self.calls: list[str] = []
        self._inner = URLFetcher(allowed_protocols={"file"}, fail_on_errors=True)

    def __call__(self, url: str):
        self.calls.append(url)
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve() if parsed.scheme == "file" else None
        if path is None or not any(path.is_relative_to(a) for a in self.allowed):
            from weasyprint.urls import FatalURLFetchingError

            raise FatalURLFetchingError(f"refused to fetch {url}: briefs may only use files from templates/")
        return self._inner.fetch(url)

    _fail_on_errors = True


def write_pdf(html: str, out: Path, *, lang: str, extra_allowed: list[Path] | None = None) -> None:
    from weasyprint import HTML

    fetcher = LocalOnlyFetcher([config.TEMPLATES_DIR, *(extra_allowed or [])])
    out.parent.mkdir(parents=True, exist_ok=True)
    HTML(string=html, base_url=str(config.TEMPLATES_DIR) + "/", url_fetcher=fetcher).write_pdf(
        str(out), pdf_variant=None, uncompressed_pdf=False)


def guard_out(out: Path) -> None:
    """Never write a brief over the bundled data or the templates."""
    resolved = out.resolve()
    for protected in (config.DATA_DIR, config.TEMPLATES_DIR, config.SQL_DIR, config.EXPECTATIONS_DIR):
        if resolved.is_relative_to(protected.resolve()):
            raise RenderError(f"refusing to write {out}: it lies under {protected.name}/, which holds sources")


def render_brief(con, year: int, lang: str = "en", out: Path | None = None,
                 types: list[str] | None = None) -> Brief:
    out = Path(out) if out else config.briefs_dir() / f"ngobrief-{year}-{lang}.pdf"
    guard_out(out)
    ctx = brief_context(con, year, lang, types)
    html = render_html(ctx)
    inputs = hashlib.sha256(json.dumps(ctx, sort_keys=True, default=str, ensure_ascii=False).encode()
                            + html.encode()).hexdigest()
    write_pdf(html, out, lang=lang)
    pdf_sha = hashlib.sha256(out.read_bytes()).hexdigest()
    from .warehouse import transaction

    with transaction(con):
        con.execute("INSERT INTO audit.briefs VALUES (?, ?, ?, ?, ?, ?)",
                    [dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), year, lang, str(out), inputs, pdf_sha])
    return Brief(out, inputs, pdf_sha)
