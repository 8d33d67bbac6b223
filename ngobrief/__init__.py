"""ngobrief: figures on Chinese social organizations' international participation, from
published sources through a checked DuckDB warehouse to bilingual PDF policy briefs."""

__version__ = "0.1.0"

from . import css_noise as _css_noise  # noqa: E402  (only the standard library: cheap)

_css_noise.install()
