"""Page fitting: how full each laid-out page is, and, when the first layout leaves a page too empty, which
one other layout to try, chosen from the first layout's own measurements (so a brief costs at most two
WeasyPrint renders, usually one)."""

from __future__ import annotations

from dataclasses import dataclass

# How full a page must be: every page but the last at least 40 % (of the area inside the margins), the
# last at least 25 %, so no page reads as left blank.
MIN_PAGE_FULL, MIN_LAST_PAGE_FULL = 0.40, 0.25

# The other layouts (classes on <body>, templates/brief.css): a section starting a page of its own
# pushes what follows it towards the last page; "fit-tight" sets the sources, the method and the study's
# list closer, which pulls the last page's lines back.
BREAKS = {"fit-sources-page": ("id", "sources"), "fit-method-page": ("class", "method-title"),
          "fit-quality-page": ("id", "data-quality")}
TIGHT = "fit-tight"
# What fit-tight saves, per box it changes (brief.css): the share of a box's height its smaller type
# saves, and the millimetres each list item's smaller gap saves (halved in the two-column sources list).
TIGHT_TYPE = {"sources": 1 - 7.2 / 7.5, "method": 1 - 7.5 / 8}
TIGHT_ITEM_MM = {"sources": 0.5 / 2, "study": 0.7}
MM = 96 / 25.4     # CSS pixels per millimetre (WeasyPrint lays out in CSS pixels)


def page_fullness(doc) -> list[float]:
    """How far down each laid-out page its content reaches, as a share of the area inside the margins."""
    shares = []
    for page in doc.pages:
        box = page._page_box
        top, bottom = box.content_box_y(), box.content_box_y() + box.height
        reach = top
        for child in _content(box):
            for b in child.descendants():
                if type(b).__name__ in ("LineBox", "InlineReplacedBox", "BlockReplacedBox", "TableRowBox"):
                    reach = max(reach, min(bottom, b.position_y + b.margin_height()))
        shares.append((reach - top) / (bottom - top) if bottom > top else 1.0)
    return shares


def fits(shares: list[float]) -> bool:
    return all(s >= MIN_PAGE_FULL for s in shares[:-1]) and shares[-1] >= MIN_LAST_PAGE_FULL


def score(shares: list[float]) -> float:
    """How near the emptiest page comes to its minimum (1 or more: every page is full enough)."""
    return min(min(shares[:-1] or [1.0]) / MIN_PAGE_FULL, shares[-1] / MIN_LAST_PAGE_FULL)


@dataclass
class Layout:
    """What the first layout tells about the others: where each section that may start a page begins
    (page index, share of the page above it) and how much fit-tight would save (in pages)."""
    shares: list[float]
    starts: dict[str, tuple[int, float]]
    tight_saving: float


def measure(doc) -> Layout:
    starts, saved = {}, [0.0]
    pages = [p._page_box for p in doc.pages]

    def walk(b, i, top, height, inside: tuple[str, ...]):
        element = getattr(b, "element", None)
        kind = type(b).__name__
        if element is not None and kind == "BlockBox":
            classes = (element.get("class") or "").split()
            for name, (attr, value) in BREAKS.items():
                if name not in starts and (element.get("id") == value if attr == "id" else value in classes):
                    starts[name] = (i, (b.position_y - top) / height)
            if element.tag == "ol" and "sources" in classes:
                saved[0] += b.height * TIGHT_TYPE["sources"]
            elif "method" in classes:
                saved[0] += b.height * TIGHT_TYPE["method"]
            elif element.tag == "li" and inside:
                saved[0] += TIGHT_ITEM_MM[inside[-1]] * MM
            inside = inside + tuple(k for k in TIGHT_ITEM_MM if k in classes)
        for child in getattr(b, "children", ()):
            walk(child, i, top, height, inside)

    for i, box in enumerate(pages):
        for child in _content(box):
            walk(child, i, box.content_box_y(), box.height, ())
    height = pages[0].height if pages else 1.0
    return Layout(page_fullness(doc), starts, saved[0] / height)


def predict(layout: Layout, extra: str) -> list[float] | None:
    """The page shares a layout with the classes `extra` would have, estimated from the first layout:
    a section moved to a new page shifts all that follows it by the rest of its page; fit-tight takes
    its saving off the end. None when the section is not in this brief."""
    shares = list(layout.shares)
    for name in extra.split():
        if name == TIGHT:
            continue
        if name not in layout.starts:
            return None
        page, at = layout.starts[name]
        if at <= 0.02:              # already opens its page: nothing moves
            continue
        last = shares[-1]
        if page == len(shares) - 1:
            shares = shares[:page] + [at, last - at]
        else:
            end = last + 1 - at
            full = [1.0] * (len(shares) - 2 - page)
            shares = shares[:page] + [at] + full + ([end] if end <= 1 else [1.0, end - 1])
    if TIGHT in extra.split():
        end = shares[-1] - layout.tight_saving
        shares = shares[:-1] + [end] if end > 0 else shares[:-2] + [max(shares[-2] + end, 0.0)] if len(shares) > 1 \
            else [end]
    return shares


CANDIDATES = (TIGHT, *BREAKS, *(f"{TIGHT} {b}" for b in BREAKS))


def choose(layout: Layout) -> str | None:
    """The one other layout worth a render. When the first layout fits: one predicted to fit in fewer
    pages, if any (a shorter brief). When it does not: of those predicted to fit, the one with the fewest
    pages (then the fullest emptiest page); else the one predicted to come nearest."""
    predicted = [(extra, p) for extra in CANDIDATES if (p := predict(layout, extra))]
    fitting = [(e, p) for e, p in predicted if fits(p)]
    if fits(layout.shares):
        fitting = [(e, p) for e, p in fitting if len(p) < len(layout.shares)]
        if not fitting:
            return None
    if fitting:
        return min(fitting, key=lambda ep: (len(ep[1]), -score(ep[1])))[0]
    return max(predicted, key=lambda ep: score(ep[1]))[0] if predicted else None


def better(first: list[float], other: list[float]) -> bool:
    """Whether the other layout (its page shares) is to be kept rather than the first: it fits and
    the first does not, or both fit and it is shorter; or neither fits and it comes nearer."""
    if fits(other):
        return not fits(first) or len(other) < len(first)
    return not fits(first) and score(other) > score(first)


def _content(page_box):
    """The page's own content boxes, without the margin boxes (running title and page number)."""
    return [c for c in page_box.children if type(c).__name__ != "MarginBox"]
