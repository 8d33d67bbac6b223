"""Brief stage: figures from the warehouse into an HTML brief (Jinja2) and a tagged PDF (WeasyPrint).

One module per section; SECTIONS lists them in the order they cite their sources (the numbers of the
notes run [1], [2], … down the pages). Every number shown comes from the warehouse: the marts and
metrics queries decide (which year, which gaps), the sections only format and lay out. The
per-language content files in templates/content/ hold labels, sentence patterns and the study
summary only, never a figure. The same warehouse and templates give the same PDF bytes: the PDF's
dates come from the data load, not the clock."""

from __future__ import annotations

import importlib
import importlib.util

# What the package offers, and the module each name lives in. They are imported when first used
# (PEP 562): the PDF worker imports brief.pdf alone, without the warehouse, Polars, Jinja2 and Babel
# that making a page needs (~0.3 s of a worker's start).
_EXPORTS = {
    "page": ("SECTIONS", "Brief", "Prepared", "brief_context", "finish_brief", "inputs_sha256", "prepare_brief",
             "render_brief", "render_html"),
    "format": ("LANGS", "Citations", "Formatter", "RenderError", "content", "say", "split_tail"),
    "edition": ("Edition", "open_edition"),
    "figures": ("data_loaded_at", "register_foundations", "registered_trends", "source_disagreements"),
    "naming": ("brief_path",),
    "pdf": ("CHART_SCHEME", "LocalOnlyFetcher", "guard_out", "protected_folders", "write_pdf"),
    "quality": ("_description",),
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:   # a section or helper module (brief.page, brief.trends), imported when asked for
        if name.startswith("_") or importlib.util.find_spec(f"{__name__}.{name}") is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return importlib.import_module(f"{__name__}.{name}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_WHERE))
