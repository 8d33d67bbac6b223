"""Data freshness: each source series (a publisher's recurring publication, `[series.*]` in
data/sources.toml) has a cadence and a time its next release is expected; a series whose next release
is past due (plus its grace) is overdue. Like dbt's source freshness, against a `today` given or the clock."""

from __future__ import annotations

import calendar
import datetime as dt
from pathlib import Path

from .errors import ManifestError

CADENCES = {"annual": 12, "quarterly": 3}     # months between releases


def _release_date(published: str) -> dt.date | None:
    """A source's publication date; a bare year or month counts as its last day (never calls a source
    late that might have come out at the end of it); None when no date is recorded."""
    text = str(published or "").strip()
    if len(text) == 4 and text.isdigit():
        return dt.date(int(text), 12, 31)
    if len(text) == 7 and text[4] == "-":
        year, month = int(text[:4]), int(text[5:7])
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    return dt.date.fromisoformat(text[:10]) if text else None


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year = d.year + y
    return dt.date(year, m + 1, min(d.day, calendar.monthrange(year, m + 1)[1]))


def next_expected(series: dict, latest: dt.date) -> dt.date:
    """When the release after `latest` is expected: an annual series on its `expected` month-day of the
    following year (the MCA bulletin around mid-year); otherwise one cadence after the latest release."""
    cadence = series["cadence"]
    if cadence == "annual" and series.get("expected"):
        month, day = (int(x) for x in series["expected"].split("-"))
        return dt.date(latest.year + 1, month, day)
    return _add_months(latest, CADENCES[cadence])


def series_freshness(today: dt.date, manifest: dict | None = None, manifest_path: Path | None = None) -> list[dict]:
    """One row per series: its latest release, age in days, next expected release and whether it is overdue."""
    from .pull import read_manifest

    manifest = manifest if manifest is not None else read_manifest(manifest_path)
    sources = manifest.get("sources", {})
    out = []
    for sid, s in manifest.get("series", {}).items():
        if s.get("cadence") not in CADENCES:
            raise ManifestError(f"series {sid!r}: cadence {s.get('cadence')!r} is not one of {', '.join(CADENCES)}")
        missing = [x for x in s.get("sources", []) if x not in sources]
        if missing:
            raise ManifestError(f"series {sid!r} lists sources the manifest does not have: {', '.join(missing)}")
        releases = [(_release_date(sources[x]["published"]), x) for x in s.get("sources", [])
                    if sources[x].get("published")]
        if not releases:
            continue
        latest, latest_id = max(releases)
        due = next_expected(s, latest)
        grace = dt.timedelta(days=int(s.get("grace_days", 0)))
        late = (today - (due + grace)).days
        out.append({"series": sid, "publisher": s.get("publisher"), "cadence": s["cadence"],
                    "latest_release": latest.isoformat(), "latest_source": latest_id,
                    "age_days": (today - latest).days, "next_expected": due.isoformat(),
                    "grace_days": grace.days, "overdue": late > 0, "days_overdue": max(late, 0)})
    return out


def by_source(today: dt.date, manifest: dict | None = None) -> dict[str, dict]:
    """Each source id's series freshness (a source in no series is absent)."""
    from .pull import read_manifest

    manifest = manifest if manifest is not None else read_manifest()
    rows = {r["series"]: r for r in series_freshness(today, manifest)}
    return {src: rows[sid] for sid, s in manifest.get("series", {}).items() if sid in rows
            for src in s.get("sources", [])}


def annotate(listing: dict, today: dt.date, manifest: dict | None = None) -> dict:
    """Add freshness to `pull.list_sources`' listing: each source's age in days and its series'
    verdict (overdue or not; None for a one-off source), and the series themselves."""
    from .pull import read_manifest

    manifest = manifest if manifest is not None else read_manifest()
    series = by_source(today, manifest)
    for s in listing["sources"]:
        released = _release_date(s.get("published"))
        s["age_days"] = (today - released).days if released else None
        row = series.get(s["source_id"])
        s["series"], s["overdue"] = (row["series"], row["overdue"]) if row else (None, None)
    listing["series"] = series_freshness(today, manifest)
    return listing
