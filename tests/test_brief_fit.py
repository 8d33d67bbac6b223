"""Page fitting (ngobrief/brief/fit.py): the one other layout is chosen from the first layout's
measurements, so a brief takes at most two WeasyPrint renders."""

import pytest

from ngobrief import pipeline
from ngobrief.brief import fit
from ngobrief.brief.fit import Layout


def test_a_first_layout_that_fits_and_cannot_be_shorter_needs_no_other_render():
    layout = Layout([1.0, 0.9, 0.6], {"fit-sources-page": (1, 0.5)}, tight_saving=0.1)
    assert fit.fits(layout.shares) and fit.choose(layout) is None


def test_moving_a_section_to_a_new_page_shifts_what_follows_by_the_rest_of_its_page():
    layout = Layout([1.0, 1.0, 0.1], {"fit-sources-page": (1, 0.7)}, tight_saving=0.0)
    assert fit.predict(layout, "fit-sources-page") == pytest.approx([1.0, 0.7, 0.4])
    # a section on the last page leaves what precedes it there and opens a page of its own
    layout = Layout([1.0, 0.9, 0.2], {"fit-method-page": (2, 0.15)}, tight_saving=0.0)
    assert fit.predict(layout, "fit-method-page") == pytest.approx([1.0, 0.9, 0.15, 0.05])
    # a section the brief does not have is no candidate
    assert fit.predict(layout, "fit-quality-page") is None


def test_a_short_last_page_gets_the_layout_predicted_to_fit():
    layout = Layout([1.0, 1.0, 0.9, 0.1], {"fit-sources-page": (2, 0.6), "fit-quality-page": (1, 0.2)},
                    tight_saving=0.02)
    assert not fit.fits(layout.shares)
    chosen = fit.choose(layout)
    assert chosen == "fit-sources-page" and fit.fits(fit.predict(layout, chosen))


def test_tighter_spacing_is_chosen_when_it_pulls_the_last_page_back():
    # the first layout fails (a nearly empty last page) and the saving is larger than that page
    assert fit.choose(Layout([1.0, 0.95, 0.1], {}, tight_saving=0.2)) == fit.TIGHT
    # the first layout fits, but tighter spacing is predicted to save its last page: worth one render
    assert fit.choose(Layout([1.0, 0.95, 0.3], {}, tight_saving=0.4)) == fit.TIGHT


def test_the_other_layout_is_kept_only_when_it_is_better():
    assert fit.better([1.0, 0.1], [1.0, 0.5])               # fits where the first did not
    assert fit.better([1.0, 0.9, 0.3], [1.0, 0.95])          # both fit, one page shorter
    assert not fit.better([1.0, 0.9, 0.3], [1.0, 0.9, 0.5])  # both fit, no shorter
    assert not fit.better([1.0, 0.9, 0.3], [1.0, 0.1])       # the other does not fit


def test_a_brief_takes_at_most_two_renders(built_warehouse, tmp_path, monkeypatch):
    """The Chinese 2012 brief once took five full renders (one per layout tried in turn)."""
    import weasyprint

    calls = []
    render = weasyprint.HTML.render
    monkeypatch.setattr(weasyprint.HTML, "render", lambda self, *a, **k: calls.append(1) or render(self, *a, **k))
    for lang in ("en", "zh"):
        calls.clear()
        pipeline.render_stage(2012, lang, built_warehouse, tmp_path / f"b-{lang}.pdf")
        assert 1 <= len(calls) <= 2, (lang, len(calls))
