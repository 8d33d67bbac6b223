"""Trend charts: gaps stay gaps, other periods are marked and never joined, the same data draw the same SVG."""

import datetime as dt
import re

from ngobrief import charts


def _series():
    year_end = [(2006, 354_393), (2007, 386_916), (2010, 446_000), (2012, 499_000), (2013, 547_000)]
    points = [charts.Point(dt.date(y, 12, 31), v, True) for y, v in year_end]
    points.append(charts.Point(dt.date(2015, 12, 31), 658_000, False))   # a Q4 quarterly figure
    return [charts.Series("all", "All social organizations", points)]


def _chart(**kw):
    return charts.line_chart(_series(), first_year=2006, last_year=2016, value_label=lambda v: f"{v:,.0f}",
                             font_family="Noto Sans CJK SC", title="Registered", other_period_label="Quarterly",
                             **kw)


def test_lines_join_only_consecutive_years():
    svg = _chart()
    paths = re.findall(r'<path d="([^"]+)"', svg)
    # 2006-2007 and 2012-2013 are joined; 2010 stands alone; nothing bridges 2008-2009 or 2011
    assert len(paths) == 2
    assert all(p.count("L") == 1 for p in paths)


def test_every_observation_has_a_marker_and_other_periods_are_hollow():
    svg = _chart()
    filled = re.findall(r'<circle [^>]*r="2.8" stroke="none"', svg)
    hollow = re.findall(r'<circle [^>]*fill="#ffffff"', svg)
    assert len(filled) == 5
    assert len(hollow) == 2          # the Q4 point and its legend key
    assert "Quarterly" in svg


def test_axis_starts_at_zero_with_round_ticks():
    assert charts.nice_ticks(547_000) == [0, 200_000, 400_000, 600_000]
    assert charts.nice_ticks(499_000) == [0, 100_000, 200_000, 300_000, 400_000, 500_000]
    assert charts.nice_ticks(3_549)[-1] >= 3_549 and charts.nice_ticks(3_549)[0] == 0


def test_same_data_draw_the_same_svg():
    assert _chart() == _chart()


def test_labels_are_escaped():
    svg = charts.line_chart([charts.Series("x", "<b>A&B</b>", [charts.Point(dt.date(2012, 12, 31), 1, True)])],
                            first_year=2012, last_year=2012, value_label=str, font_family="x", title="t",
                            other_period_label="q")
    assert "<b>" not in svg and "&lt;b&gt;A&amp;B&lt;/b&gt;" in svg


def test_years_with_no_figure_are_shaded_and_labelled():
    svg = _chart(gap_label="not in this edition's sources", y_title="Organizations registered (number)")
    # 2008, 2009, 2011, 2014 and 2016 hold no figure at all (2015 has a quarterly one)
    assert svg.count("not in this edition&#39;s sources") == 5
    assert 'class="y-title"' in svg and "Organizations registered (number)" in svg


def test_markers_that_would_cover_one_another_are_set_side_by_side():
    q4 = dt.date(2015, 12, 31)
    series = [charts.Series("sa", "Social associations", [charts.Point(q4, 326_000, False)]),
              charts.Series("pne", "Private non-enterprise units", [charts.Point(q4, 327_000, False)])]
    svg = charts.line_chart(series, first_year=2015, last_year=2016, value_label=lambda v: f"{v:,.0f}",
                            font_family="Noto Sans CJK SC", title="t", other_period_label="Quarterly")
    xs = re.findall(r'<circle cx="([\d.]+)" cy="[\d.]+" r="3.2" fill="#ffffff" stroke-width', svg)
    assert len(xs) == 2 and abs(float(xs[0]) - float(xs[1])) >= charts.MARKER_CLEARANCE


def test_dots_are_printed_with_their_values_apart_and_not_joined():
    when = dt.date(2012, 12, 31)
    series = [charts.Series(k, k, [charts.Point(when, v, True), charts.Point(dt.date(2013, 12, 31), v, True)])
              for k, v in (("a", 0.11), ("b", 0.18), ("c", 0.022))]
    svg = charts.line_chart(series, first_year=2012, last_year=2013, value_label=str, font_family="x", title="t",
                            other_period_label="o", join=False, point_label=lambda v: f"{v}%")
    assert "<path" not in svg
    labels = re.findall(r'<text x="([\d.]+)" y="([\d.]+)" stroke="none"[^>]*>([^<]+)</text>', svg)
    assert len(labels) == 6 and {t for _, _, t in labels} == {"0.11%", "0.18%", "0.022%"}
    first_x = min(float(x) for x, _, _ in labels)
    ys = sorted(float(y) for x, y, _ in labels if float(x) < first_x + 20)     # the three dots of 2012
    assert len(ys) == 3 and all(b - a >= charts.LABEL_SPACING - 0.05 for a, b in zip(ys, ys[1:]))
