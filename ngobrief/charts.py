"""Charts for the brief as vector SVG: registered organizations by type over the observed years.

Geometry is computed here and drawn by templates/charts/line.svg.j2; every coordinate is rounded to a
fixed precision so the same figures always give the same bytes. Gaps stay gaps: a line joins only
observations in consecutive years; figures for another period (a quarter, a dated count) are drawn as
hollow markers that no line joins."""

from __future__ import annotations

import datetime as dt
import functools
import math
from dataclasses import dataclass, field
from typing import Callable

from jinja2 import Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined

from . import config

# Okabe-Ito colours: distinguishable with the common colour-vision deficiencies and in greyscale print.
PALETTE = ("#0b3d62", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9")


@dataclass
class Point:
    when: dt.date
    value: float
    year_end: bool          # False: a quarterly or dated count, drawn hollow and never joined


@dataclass
class Series:
    key: str
    label: str
    points: list[Point] = field(default_factory=list)


def _x(when: dt.date) -> float:
    """Position in years, with a year's end at the whole number (31 Dec 2012 -> 2012.0)."""
    start = dt.date(when.year, 1, 1)
    days = (dt.date(when.year + 1, 1, 1) - start).days
    return when.year - 1 + ((when - start).days + 1) / days


def nice_ticks(top: float, target: int = 5) -> list[float]:
    """Round tick values from zero up to at least `top` (steps of 1, 2, 2.5 or 5 times a power of ten)."""
    if top <= 0:
        return [0.0, 1.0]
    raw = top / target
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    n = math.ceil(top / step - 1e-9)
    return [round(i * step, 6) for i in range(n + 1)]


def text_width(text: str, size: float) -> float:
    """Rough advance width: CJK glyphs are square, Latin ones about half as wide."""
    return sum(size if ord(c) > 0x2E80 else 0.56 * size for c in text)


def _r(v: float) -> str:
    """A coordinate with one decimal, written the same way every time."""
    s = f"{v:.1f}"
    return s[:-2] if s.endswith(".0") else s


@functools.lru_cache(maxsize=1)
def _env() -> Environment:
    """One environment per process: it keeps the compiled chart template (recompiled if the file changes)."""
    return Environment(loader=FileSystemLoader(config.TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                       trim_blocks=True, lstrip_blocks=True, bytecode_cache=FileSystemBytecodeCache())


# Over 60 lines on purpose: one SVG layout worked out top to bottom (the legend's rows set the plot's
# top, the tick labels its left edge); its steps share every coordinate.
def line_chart(series: list[Series], *, first_year: int, last_year: int, value_label: Callable[[float], str],
               font_family: str, title: str, other_period_label: str, width: float = 640,
               height: float = 230, y_title: str = "", gap_label: str = "", join: bool = True,
               point_label: Callable[[float], str] | None = None) -> str:
    """A chart of figures by year as an SVG document (a string): lines joining consecutive year ends
    (`join`), or dots alone, each printed with `point_label` when given. Years inside the range with
    no year-end figure in any series are shaded and labelled `gap_label`; markers that would cover
    one another (same date, values a few points apart) are set side by side."""
    series = [s for s in series if s.points]
    size = 10.5
    legend = []
    x_cursor, legend_rows = 0.0, 0
    items = [(s.label, PALETTE[i % len(PALETTE)], False) for i, s in enumerate(series)]
    if any(not p.year_end for s in series for p in s.points):
        items.append((other_period_label, "#555555", True))
    max_legend_width = width - 8
    for label, colour, hollow in items:
        w = 22 + text_width(label, size) + 16
        if x_cursor and x_cursor + w > max_legend_width:
            x_cursor, legend_rows = 0.0, legend_rows + 1
        legend.append({"x": _r(x_cursor + 4), "y": _r(10 + legend_rows * 16), "label": label, "colour": colour,
                       "hollow": hollow, "tx": _r(x_cursor + 4 + 22), "lx2": _r(x_cursor + 4 + 16),
                       "mx": _r(x_cursor + 4 + 8)})
        x_cursor += w
    top_pad = 32 + legend_rows * 16 + (14 if y_title else 0)
    values = [p.value for s in series for p in s.points]
    ticks = nice_ticks(max(values) if values else 1)
    tick_labels = [value_label(t) for t in ticks]
    left = max(text_width(t, size) for t in tick_labels) + 12
    right, bottom = 14.0, 24.0
    plot_w, plot_h = width - left - right, height - top_pad - bottom
    x0, x1 = first_year - 0.5, last_year + 0.5
    y_top = ticks[-1]

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * plot_w

    def sy(v: float) -> float:
        return top_pad + plot_h - v / y_top * plot_h

    span = last_year - first_year
    every = 1 if span <= 10 else 2 if span <= 20 else 5
    x_ticks = [{"x": _r(sx(y)), "label": str(y)} for y in range(first_year, last_year + 1)
               if (last_year - y) % every == 0]
    y_ticks = [{"y": _r(sy(t)), "label": lab} for t, lab in zip(ticks, tick_labels)]
    offsets = _dodge(series, lambda p: sx(_x(p.when)), lambda p: sy(p.value))
    labels = _point_labels(series, point_label, lambda p: sx(_x(p.when)), lambda p: sy(p.value), offsets) \
        if point_label else {}
    # a year with any figure (even a quarterly one, drawn hollow) is not a gap
    observed = {p.when.year for s in series for p in s.points}
    gaps = [{"x": _r(sx(y - 0.5)), "w": _r(sx(y + 0.5) - sx(y - 0.5)), "cx": _r(sx(y)),
             "cy": _r(top_pad + plot_h / 2)}
            for y in range(first_year, last_year + 1) if y not in observed] if gap_label else []
    drawn = []
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        year_end = sorted((p for p in s.points if p.year_end), key=lambda p: p.when)
        runs: list[list[Point]] = []
        for p in year_end:
            if runs and runs[-1][-1].when.year == p.when.year - 1:
                runs[-1].append(p)
            else:
                runs.append([p])
        paths = [" ".join(("M" if j == 0 else "L") + f"{_r(sx(_x(p.when)))} {_r(sy(p.value))}"
                          for j, p in enumerate(run)) for run in runs if len(run) > 1] if join else []
        markers = [{"x": _r(sx(_x(p.when)) + offsets.get((i, id(p)), 0)), "y": _r(sy(p.value)),
                    "hollow": not p.year_end, "label": labels.get((i, id(p)))}
                   for p in sorted(s.points, key=lambda p: p.when)]
        drawn.append({"key": s.key, "label": s.label, "colour": colour, "paths": paths, "markers": markers})
    return _env().get_template("charts/line.svg.j2").render(
        width=_r(width), height=_r(height), font_family=font_family, font_size=_r(size), title=title,
        legend=legend, x_ticks=x_ticks, y_ticks=y_ticks, series=drawn, y_title=y_title, join=join,
        y_title_y=_r(top_pad - 8), gaps=gaps, gap_label=gap_label, gap_size=_r(size * 0.85),
        plot={"left": _r(left), "right": _r(width - right), "top": _r(top_pad), "bottom": _r(top_pad + plot_h),
              "tick": _r(top_pad + plot_h + 3), "height": _r(plot_h)},
        x_label_y=_r(top_pad + plot_h + 16))


# Markers closer than this (in the chart's units) at the same date are set side by side.
MARKER_CLEARANCE = 6.0
# Printed labels of dots at one date are kept at least this far apart vertically.
LABEL_SPACING = 10.0


def _stacks(series: list[Series], fy) -> dict[dt.date, list[tuple]]:
    """The markers of every series grouped by date: (height on the chart, series index, point)."""
    by_date: dict[dt.date, list[tuple]] = {}
    for i, s in enumerate(series):
        for p in s.points:
            by_date.setdefault(p.when, []).append((fy(p), i, p))
    return by_date


def _dodge(series: list[Series], fx, fy) -> dict[tuple, float]:
    """Horizontal offsets for markers that would hide one another: at one date, markers whose heights
    are within MARKER_CLEARANCE are spread side by side around that date."""
    by_date = _stacks(series, fy)
    offsets = {}
    for stack in by_date.values():
        stack.sort(key=lambda t: t[0])
        cluster: list[tuple] = []
        for item in stack + [None]:
            if item is not None and cluster and item[0] - cluster[-1][0] < MARKER_CLEARANCE:
                cluster.append(item)
                continue
            if len(cluster) > 1:
                for k, (_, i, p) in enumerate(cluster):
                    offsets[(i, id(p))] = (k - (len(cluster) - 1) / 2) * MARKER_CLEARANCE * 1.2
            cluster = [item] if item is not None else []
    return offsets


def _point_labels(series: list[Series], point_label, fx, fy, offsets) -> dict[tuple, dict]:
    """Each dot's printed value, right of the dot; labels at one date are pushed apart vertically so
    none covers another."""
    by_date = _stacks(series, fy)
    labels = {}
    for stack in by_date.values():
        stack.sort(key=lambda t: -t[0])           # from the bottom up
        floor = None
        for y, i, p in stack:
            ly = y + 3.5 if floor is None else min(y + 3.5, floor - LABEL_SPACING)
            floor = ly
            labels[(i, id(p))] = {"x": _r(fx(p) + offsets.get((i, id(p)), 0) + 5), "y": _r(ly),
                                  "text": point_label(p.value)}
    return labels

@dataclass
class Bar:
    label: str
    value: float
    value_text: str
    highlight: bool = False  # drawn in the accent colour (the international field among all fields)


def bar_chart(bars: list[Bar], *, font_family: str, title: str, width: float = 640,
              row_height: float = 15) -> str:
    """A horizontal bar chart, one bar per row in the given order, as an SVG document (a string).

    The bars start at zero so their lengths compare; each carries its value as printed beside it, so a
    bar too short to see (541 beside 288,341) is still read."""
    size = 10.0
    label_w = max((text_width(b.label, size) for b in bars), default=0) + 10
    value_w = max((text_width(b.value_text, size) for b in bars), default=0) + 8
    left, right, top = label_w, width - value_w, 6.0
    top_value = max((b.value for b in bars), default=1) or 1
    rows = []
    for i, b in enumerate(bars):
        y = top + i * row_height
        length = (right - left) * b.value / top_value
        rows.append({"label": b.label, "value_text": b.value_text, "y": _r(y), "ty": _r(y + row_height * 0.68),
                     "w": _r(max(length, 0.8)), "vx": _r(left + max(length, 0.8) + 4),
                     "colour": PALETTE[1] if b.highlight else PALETTE[0], "bold": b.highlight})
    height = top + len(bars) * row_height + 6
    env = Environment(loader=FileSystemLoader(config.TEMPLATES_DIR), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("charts/bar.svg.j2").render(
        width=_r(width), height=_r(height), font_family=font_family, font_size=_r(size), title=title,
        left=_r(left), bar_h=_r(row_height * 0.72), rows=rows)
