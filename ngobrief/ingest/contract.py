"""Column contracts: each layout declares its columns in a TOML file beside its module (type, required
or optional, every header accepted in the code row and in the Chinese row). A source may add aliases
or mark more columns optional in data/sources.toml ([sources.ID.contract]). Matching a file's header
against the contract gives the columns to read and the schema drift: columns new to the contract,
optional ones missing, and a "renamed?" suggestion only when a new header is really like a missing one."""

from __future__ import annotations

import difflib
import functools
import tomllib
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from ..errors import InputError

DRIFT_COLUMNS = {"kind": pl.Utf8, "column_name": pl.Utf8, "suggestion": pl.Utf8}
# How alike a new header and a missing column's names must be to suggest a rename (difflib ratio):
# ricf_id ~ ricf_oid (0.93) is suggested, ba_cnpst ~ ba_ct (0.77) is not.
SIMILAR = 0.8


def key(header: str) -> str:
    """Headers match ignoring case, surrounding spaces and full-width forms."""
    return unicodedata.normalize("NFKC", header).strip().lstrip("\ufeff").strip().lower()


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool
    code: tuple[str, ...]        # headers accepted in the code row
    names: tuple[str, ...] = ()  # headers accepted in the (Chinese) name row

    @property
    def headers(self) -> tuple[str, ...]:
        return self.code + self.names


@dataclass(frozen=True)
class Contract:
    layout: str
    columns: dict[str, Column]
    text: str = ""                                   # what the parse cache key hashes
    ignore: tuple[str, ...] = ()                     # headers known and deliberately not read

    def with_source(self, overrides: dict | None) -> "Contract":
        """The contract with a source's aliases ({column: [header, ...]}) and extra optional columns."""
        if not overrides:
            return self
        cols = dict(self.columns)
        for name, heads in (overrides.get("aliases") or {}).items():
            if name not in cols:
                raise InputError("data/sources.toml", f"an alias for {name!r}, which the {self.layout} "
                                 "contract does not have", hint=f"columns: {', '.join(cols)}")
            cols[name] = replace(cols[name], code=cols[name].code + tuple(heads))
        for name in overrides.get("optional") or []:
            if name in cols:
                cols[name] = replace(cols[name], required=False)
        return replace(self, columns=cols, text=self.text + repr(sorted(overrides.items())))

    def lookup(self) -> dict[str, str]:
        return {key(h): c.name for c in self.columns.values() for h in c.headers}

    def resolve(self, header: list[str], file: str, row: int | None, *, personal=lambda h: False) -> "Resolved":
        """Which header holds each contract column; drift against the contract; a missing required
        column refused by name (with a rename suggested only when a header is like it)."""
        found, new = {}, []
        lookup = self.lookup()
        for h in header:
            name = lookup.get(key(h))
            if name is not None and name not in found:
                found[name] = h
            elif name is None and key(h) not in {key(i) for i in self.ignore} and not personal(h):
                new.append(h)
        missing = [c for c in self.columns.values() if c.name not in found]
        renamed = {c.name: s for c in missing if (s := self._similar(c, new)) is not None}
        required = [c for c in missing if c.required]
        if required:
            c = required[0]
            hint = (f"the header has {renamed[c.name]!r}: if it is the same column, add it to "
                    f"data/sources.toml [sources.ID.contract.aliases]" if c.name in renamed
                    else f"accepted headers: {', '.join(c.headers)}")
            like = f"; the header has {renamed[c.name]!r} (renamed?)" if c.name in renamed else ""
            raise InputError(file, f"missing required column(s) {', '.join(x.name for x in required)}{like}",
                             row=row, column=c.name, value=renamed.get(c.name), hint=hint)
        return Resolved(found, new, [c.name for c in missing], renamed)

    @staticmethod
    def _similar(col: Column, new: list[str]) -> str | None:
        best = max(((difflib.SequenceMatcher(None, key(h), key(a)).ratio(), h) for h in new for a in col.headers),
                   default=(0.0, None))
        return best[1] if best[0] >= SIMILAR else None


@dataclass
class Resolved:
    columns: dict[str, str]                  # contract column -> the header that holds it
    new: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)   # missing column -> a similar new header

    def drift(self) -> pl.DataFrame:
        rows = ([("new", h, None) for h in self.new if h not in self.renamed.values()]
                + [("missing_optional", c, None) for c in self.missing if c not in self.renamed]
                + [("renamed?", c, h) for c, h in self.renamed.items()])
        return pl.DataFrame(rows, schema=DRIFT_COLUMNS, orient="row")


def drift_lines(drift: pl.DataFrame) -> list[str]:
    """The drift report in a few lines, for the pull's output."""
    if drift is None or drift.height == 0:
        return []
    out = []
    for kind, label in (("new", "new columns (not read)"), ("missing_optional", "optional columns missing (NULL)")):
        names = drift.filter(pl.col("kind") == kind)["column_name"].to_list()
        if names:
            out.append(f"schema drift: {label}: {', '.join(names)}")
    for c, h in drift.filter(pl.col("kind") == "renamed?").select("column_name", "suggestion").iter_rows():
        out.append(f"schema drift: {c} is missing and {h!r} is new: renamed? (if so, add an alias)")
    return out


@functools.cache
def declared(path: Path) -> dict:
    """A contract file as declared (its extra tables, such as a layout's personal columns, too)."""
    return tomllib.loads(path.read_text(encoding="utf-8"))


@functools.cache
def load(path: Path) -> Contract:
    """The contract in a layout's TOML file."""
    text = path.read_text(encoding="utf-8")
    doc = declared(path)
    cols = {name: Column(name, c.get("type", "text"), bool(c.get("required", False)), tuple(c.get("code", ())),
                         tuple(c.get("name", ()))) for name, c in doc.get("columns", {}).items()}
    return Contract(doc.get("layout", path.stem), cols, text, tuple(doc.get("ignore", ())))
