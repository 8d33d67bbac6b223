"""What a brief's file is called: the one rule the command line and the flows both use."""

from __future__ import annotations

from pathlib import Path

from .. import config


def brief_path(year: int, lang: str, types: list[str] | None = None) -> Path:
    """Where a brief goes: a brief on some org types only gets their names in its file name, so it
    never replaces the full brief of its year (ngobrief-2013-en-foundation.pdf beside ngobrief-2013-en.pdf)."""
    suffix = "".join(f"-{t}" for t in sorted(types)) if types else ""
    return config.briefs_dir() / f"ngobrief-{year}-{lang}{suffix}.pdf"
