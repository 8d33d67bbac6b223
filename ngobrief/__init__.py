"""ngobrief: figures on Chinese social organizations' international participation, from
published sources through a checked DuckDB warehouse to bilingual PDF policy briefs."""

__version__ = "0.1.0"
