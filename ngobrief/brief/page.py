"""The brief's page: every section's figures read from the warehouse and formatted (brief_context), the
HTML (render_html), and the brief made up to its page (prepare_brief) or whole (render_brief)."""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined, select_autoescape

from .. import config
from ..warehouse import memoized_reads
from . import (context, cover, foundations, key_figures, landscape, messages, participation, quality, register,
               since_last_edition, sources, trends)
from .edition import open_edition
from .format import say, split_tail
from .naming import brief_path
from .pdf import CHART_SCHEME, guard_out, write_pdf

# The section registry: each module has KEY and build(edition) -> the context entries it fills.
SECTIONS = (cover, since_last_edition, messages, key_figures, participation, trends, landscape, foundations, register,
            context, quality, sources)

def brief_context(con, year: int, lang: str, types: list[str] | None = None,
                  compare_to: int | None = None) -> dict:
    """Everything the page shows, formatted for the reader, section by section."""
    with memoized_reads(con):   # sections ask the marts the same questions; each is run once
        ed = open_edition(con, year, lang, types, compare_to)
        ctx = {"lang": lang, "year": year, "text": ed.text, "title": say(ed.text["pdf_title"], year=year)}
        for section in SECTIONS:
            ctx.update(section.build(ed))
    return {**ctx, "types": ed.types, "compare_to": compare_to, "created": ed.loaded_at.isoformat() + "Z",
            "font_family": ed.text["font_family"]}


@functools.lru_cache(maxsize=1)
def _env() -> Environment:   # one per process: it keeps the compiled page template (recompiled if changed)
    # Jinja2's bytecode cache (the user's temporary folder, keyed by the template's source) spares each
    # new process compiling the page template again (~0.1 s of a brief)
    env = Environment(loader=FileSystemLoader(config.TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      bytecode_cache=FileSystemBytecodeCache())
    env.filters["split_tail"] = split_tail
    return env


def render_html(ctx: dict) -> str:
    return _env().get_template("brief.html.j2").render(**ctx)


@dataclass
class Brief:
    path: Path
    inputs_sha256: str
    pdf_sha256: str
    pages: int = 0


def inputs_sha256(ctx: dict, html: str, chart_files: dict[str, str]) -> str:
    """Hash of everything a brief is made from: the figures, the page, its charts and every template file."""
    from importlib.metadata import version   # not `import weasyprint`: a brief whose PDF a worker writes never loads it

    weasyprint_version = version("weasyprint")

    h = hashlib.sha256()
    h.update(json.dumps(ctx, sort_keys=True, default=str, ensure_ascii=False).encode())
    h.update(html.encode())
    for name in sorted(chart_files):
        h.update(name.encode() + chart_files[name].encode())
    for f in sorted(config.TEMPLATES_DIR.rglob("*")):
        if f.is_file():
            h.update(str(f.relative_to(config.TEMPLATES_DIR)).encode() + f.read_bytes())
    h.update(weasyprint_version.encode())
    return h.hexdigest()


@dataclass
class Prepared:
    """A brief made up to its page: what WeasyPrint is given, and where its PDF goes."""
    out: Path
    html: str
    charts: dict[str, str]
    inputs_sha256: str


def prepare_brief(con, year: int, lang: str, out: Path | None = None,
                  types: list[str] | None = None, compare_to: int | None = None) -> Prepared:
    """Read the figures and make the brief's page (HTML and charts): everything but the PDF."""
    out = Path(out) if out else brief_path(year, lang, types)
    guard_out(out)
    ctx = brief_context(con, year, lang, types, compare_to)
    chart_files = {f"{c['name']}.svg": c["svg"] for c in ctx["trends"]["charts"] + ctx["landscape"]["charts"]}
    html = render_html({**ctx, "chart_scheme": CHART_SCHEME})
    return Prepared(out, html, chart_files, inputs_sha256(ctx, html, chart_files))


def finish_brief(prepared: Prepared, pages: int) -> Brief:
    """The brief whose PDF was written for `prepared` (`pages` long), with the PDF's hash."""
    return Brief(prepared.out, prepared.inputs_sha256, hashlib.sha256(prepared.out.read_bytes()).hexdigest(), pages)


def render_brief(con, year: int, lang: str = "en", out: Path | None = None,
                 types: list[str] | None = None, compare_to: int | None = None) -> Brief:
    """Write one brief (to `out`, else where brief_path names it). It only reads the warehouse: the
    record of briefs written is kept beside the editions (editions.record_brief)."""
    prepared = prepare_brief(con, year, lang, out, types, compare_to)
    return finish_brief(prepared, write_pdf(prepared.html, prepared.out, charts=prepared.charts))
