"""Validate stage: run the Great Expectations suites in expectations/ on warehouse tables and views,
store every result in the warehouse and write an HTML report people can open offline.

Each suite file is a GX 1.x suite (JSON) whose `meta` names the table it checks (`table`), the columns
that identify a failing row (`key`) and the columns that explain it (`show`). Every expectation carries
a severity: `critical` (shown to users as `error`) blocks publishing the years of its failing rows (all
years when it has none); `warning` is reported in the brief. A suite whose table is not in the warehouse
is skipped, and the report says so. GX is imported here only, and only when a validation runs: its
import alone costs seconds."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import config

log = logging.getLogger(__name__)

SEVERITY_NAMES = {"critical": "error", "warning": "warning", "info": "warning"}

# Failing rows listed per expectation in the CLI summary (the report and the warehouse keep them all).
CLI_ROWS = 5


# --- which years a failed check concerns, and which briefs it blocks: the one rule every caller uses
# (`ngobrief run`, the brief-on-demand flow, `ngobrief brief` and the brief's data-quality section).

def years_concerned(rows: list[dict]) -> set[int] | None:
    """The years a failed check is about: the years of its failing rows. None means every year: a
    failure with no failing rows (a missing column, an empty table) or with a row that names no year
    (a survey row, a register row) cannot be put on one edition, so it concerns them all."""
    if not rows or any(r.get("year") is None for r in rows):
        return None
    return {int(r["year"]) for r in rows}


def concerns(rows: list[dict], year: int) -> bool:
    """Whether a failed check with these failing rows is about the edition of `year`."""
    years = years_concerned(rows)
    return years is None or year in years


def blocks(severity: str, rows: list[dict], year: int) -> bool:
    """Whether a failed check stops the brief of `year`: it is an error and it concerns that year
    (so an error that names no year blocks every year; a warning blocks none)."""
    return severity == "error" and concerns(rows, year)


def rows_about(rows: list[dict], year: int | None) -> list[dict]:
    """The failing rows a brief of `year` shows: that year's and those that name no year."""
    return [r for r in rows if year is None or r.get("year") is None or int(r["year"]) == year]


@dataclass
class Finding:
    """The outcome of one expectation in one run."""

    suite: str
    expectation: str
    severity: str          # error | warning
    success: bool
    description: str
    observed_value: object
    unexpected_rows: list[dict] = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    unexpected_count: int | None = None

    @property
    def years(self) -> set[int]:
        return {int(r["year"]) for r in self.unexpected_rows if r.get("year") is not None}

    @property
    def every_year(self) -> bool:
        """A failure that names no year (a missing column, a bad survey row) concerns every year."""
        return years_concerned(self.unexpected_rows) is None

    @property
    def column(self) -> str:
        kw = self.kwargs
        return kw.get("column") or ", ".join(kw.get("column_list") or []) or ""

    def rows_for(self, year: int | None = None) -> list[dict]:
        return rows_about(self.unexpected_rows, year)

    def summary(self, year: int | None = None) -> str:
        """One line naming the suite, the expectation, the observed value and the failing rows."""
        rows = self.rows_for(year)
        what = f"{self.expectation}({self.column})" if self.column else self.expectation
        text = f"{self.suite}: {self.description} [{what}] observed {observed_text(self.observed_value)}"
        if rows:
            text += "; rows: " + " | ".join(_row_text(r) for r in rows)
        return text


@dataclass
class SuiteRun:
    """Which table a suite checked in a run, how many rows, and their fingerprint (or why it was skipped)."""

    suite: str
    table: str
    status: str            # validated | skipped
    rows: int | None = None
    fingerprint: str | None = None
    note: str = ""
    about: str = ""
    key: list[str] = field(default_factory=list)
    show: list[str] = field(default_factory=list)


@dataclass
class ValidationRun:
    run_id: str
    run_at: dt.datetime
    findings: list[Finding]
    fingerprints: dict[str, str]
    suites: list[SuiteRun] = field(default_factory=list)
    report_path: Path | None = None
    reused: bool = False   # read back from the warehouse: its inputs had not changed (validation_inputs)
    inputs_note: str = ""  # one line: reused, or what changed since the last run

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.success and f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.success and f.severity == "warning"]

    @property
    def skipped(self) -> list[SuiteRun]:
        return [s for s in self.suites if s.status == "skipped"]

    def blocks(self, year: int) -> list[Finding]:
        """The error findings that stop a brief for `year` (one that names no year blocks every year)."""
        return [f for f in self.errors if blocks(f.severity, f.unexpected_rows, year)]

    @property
    def blocked_years(self) -> list[int] | None:
        """Years with an error, or None when an error that names no year blocks every year."""
        if any(f.every_year for f in self.errors):
            return None
        return sorted({y for f in self.errors for y in f.years})


def suite_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or config.EXPECTATIONS_DIR).glob("*.json"))


def about_figures(suite: str) -> bool:
    """Whether a suite's findings are about published figures (what a brief's quality section lists).
    A suite whose meta says `"about_figures": false` checks the sources' state at validation time (their
    age): the brief's cover states the vintage instead, and `ngobrief sources` / `status` name them."""
    path = config.EXPECTATIONS_DIR / f"{suite}.json"
    if not path.exists():
        return True
    return bool((json.loads(path.read_text(encoding="utf-8")).get("meta") or {}).get("about_figures", True))


def read_suite(path: Path) -> dict:
    """A suite file, checked for what validation needs: a name, a table, and a severity on every expectation."""
    from .errors import InputError

    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(path, f"not valid JSON: {exc.msg}", row=exc.lineno) from exc
    meta = spec.get("meta") or {}
    if not spec.get("name") or not meta.get("table"):
        raise InputError(path, "a suite needs a name and meta.table (the table or view it checks)")
    for i, e in enumerate(spec.get("expectations") or []):
        if e.get("severity") not in SEVERITY_NAMES:
            raise InputError(path, f"expectation {i + 1} ({e.get('type')}) has no severity",
                             column="severity", value=e.get("severity"),
                             hint="use critical (an error that blocks publishing) or warning")
    return spec


def table_exists(con, table: str) -> bool:
    schema, _, name = table.rpartition(".")
    return bool(con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
        "UNION ALL SELECT 1 FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
        [schema or "main", name, schema or "main", name]).fetchall())


def _quoted(table: str) -> str:
    return ".".join('"' + part.replace('"', '""') + '"' for part in table.split("."))


def fingerprint(con, table: str) -> str:
    """sha256 of a table's rows, each as text, in sorted order: equal data, equal fingerprint."""
    rows = con.sql(f"SELECT t::VARCHAR AS r FROM {_quoted(table)} AS t ORDER BY r").fetchall()
    return hashlib.sha256("\n".join(r[0] for r in rows).encode("utf-8")).hexdigest()


def _jsonable(value):
    """Plain JSON values from what pandas and numpy hand back (dates as ISO dates, NaN as null)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) else value
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist"):                       # numpy scalars and arrays
        return _jsonable(value.tolist())
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):                # pandas Timestamp
        return _jsonable(value.to_pydatetime())
    try:
        if value != value:                             # pandas NA / NaT
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def _short(value, width: int = 120) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def observed_text(value) -> str:
    """An observed value as a person reads it: '1 row (14.3 % of rows)' rather than a dict."""
    if isinstance(value, dict) and "unexpected_count" in value:
        n, pct = value["unexpected_count"], value.get("unexpected_percent")
        text = f"{n} row{'' if n == 1 else 's'}"
        return text + (f" ({pct:.1f} % of rows)" if isinstance(pct, (int, float)) else "")
    return _short(value, 200)


def cell_text(value) -> str:
    """A failing row's value in a report cell: whole numbers with separators, ratios to 4 decimals."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:,.0f}" if value == round(value) else f"{value:,.4f}"
    if isinstance(value, int):
        return str(value) if 1900 <= value <= 2200 else f"{value:,}"
    if isinstance(value, list):
        return ", ".join(cell_text(v) for v in value)
    return str(value)


def _row_text(row: dict) -> str:
    if row.get("finding"):
        return str(row["finding"])
    return ", ".join(f"{k}={v}" for k, v in row.items())


def _observed(res: dict, exception: dict | None, success: bool):
    if exception and exception.get("raised_exception"):
        return {"exception": exception.get("exception_message")}
    details = res.get("details") or {}
    if not success and isinstance(details, dict) and details.get("mismatched"):
        return details["mismatched"]
    if "observed_value" in res:
        return res["observed_value"]
    if "unexpected_count" in res:
        return {"unexpected_count": res["unexpected_count"],
                "unexpected_percent": res.get("unexpected_percent")}
    return None


def run_suites(con, files: list[Path] | None = None, *, today: dt.date | None = None) -> ValidationRun:
    """Run every suite against the table its meta names; nothing is written here.

    GX's SQL datasource over duckdb-engine returns empty results, so each table is read from DuckDB
    into a pandas frame and validated as a dataframe asset."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("warehouse")
    run_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    run = ValidationRun(f"{run_at:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}", run_at, [], {})
    # Values suite files may refer to as {"$PARAMETER": name}.
    parameters = {"this_year": (today or run_at.date()).year}
    for path in files or suite_files():
        spec = read_suite(path)
        name, meta = spec["name"], spec["meta"]
        table, key, show = meta["table"], list(meta.get("key", [])), list(meta.get("show", []))
        suite_run = SuiteRun(name, table, "skipped", about=meta.get("about", ""), key=key, show=show)
        run.suites.append(suite_run)
        if not table_exists(con, table):
            suite_run.note = f"{table} is not in the warehouse yet"
            log.info("suite %s skipped: %s", name, suite_run.note)
            continue
        columns = {r[0] for r in con.sql(f"DESCRIBE {_quoted(table)}").fetchall()}
        order = ", ".join(_quoted(c) for c in key if c in columns) or "ALL"
        # rows in key order, so that failing rows are listed by year in every report
        frame = con.sql(f"SELECT * FROM {_quoted(table)} ORDER BY {order}").df()
        suite_run.status, suite_run.rows = "validated", len(frame)
        suite_run.fingerprint = run.fingerprints[name] = fingerprint(con, table)
        asset = source.add_dataframe_asset(name)
        batch_def = asset.add_batch_definition_whole_dataframe("all")
        suite = ctx.suites.add(gx.ExpectationSuite(name=name, expectations=spec["expectations"], meta=meta))
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch_def, suite=suite))
        result = vd.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
                        result_format={"result_format": "COMPLETE"})
        shown = [c for c in key + show if c in frame.columns]
        for r in result.results:
            cfg = r.expectation_config
            res = r.result or {}
            rows = []
            for i in res.get("unexpected_index_list") or []:
                i = i.get("index", i) if isinstance(i, dict) else i
                if isinstance(i, int) and 0 <= i < len(frame):
                    rows.append({k: _jsonable(frame.iloc[i][k]) for k in shown})
            severity = getattr(cfg, "severity", None)
            severity = SEVERITY_NAMES.get(getattr(severity, "value", severity) or "critical", "error")
            kwargs = {k: v for k, v in _jsonable(dict(cfg.kwargs)).items() if k not in ("batch_id",)}
            run.findings.append(Finding(
                suite=name, expectation=cfg.type, severity=severity, success=bool(r.success),
                description=cfg.description or cfg.type, observed_value=_jsonable(_observed(res, r.exception_info, bool(r.success))),
                unexpected_rows=rows, kwargs=kwargs, unexpected_count=res.get("unexpected_count"),
            ))
    return run


def store(con, run: ValidationRun, *, report: bool = True) -> Path | None:
    """Keep a run: its results in the warehouse (one transaction) and, unless told not to, an HTML
    report under outputs/validation/. Returns the report's path."""
    from .warehouse import transaction

    if report:
        run.report_path = write_report(run)
    with transaction(con):
        con.executemany(
            """INSERT INTO audit.validation_results (run_id, run_at, suite, expectation, severity, success,
                   description, observed_value, unexpected_rows, data_fingerprint, kwargs, unexpected_count)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [[run.run_id, run.run_at, f.suite, f.expectation, f.severity, f.success, f.description,
              json.dumps(f.observed_value, ensure_ascii=False, default=str),
              json.dumps(f.unexpected_rows, ensure_ascii=False, default=str),
              run.fingerprints[f.suite], json.dumps(f.kwargs, ensure_ascii=False, default=str),
              f.unexpected_count] for f in run.findings],
        )
        if run.suites:
            con.executemany(
                """INSERT INTO audit.validation_runs (run_id, run_at, suite, table_name, status, rows_validated,
                       data_fingerprint, note, report_path) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                [[run.run_id, run.run_at, s.suite, s.table, s.status, s.rows, s.fingerprint, s.note or None,
                  str(run.report_path) if run.report_path else None] for s in run.suites],
            )
    return run.report_path


def latest_findings(con, year: int | None = None) -> list[dict]:
    """The failed expectations of the most recent validation run, for briefs and summaries.

    Each is a dict of suite, expectation, severity, description, observed_value and unexpected_rows
    (JSON text, as stored), plus `explanations`: one plain sentence per failing row. With `year`, only
    findings about that year (or about no year in particular) are kept, with only that year's rows."""
    result = con.sql("""
        SELECT suite, expectation, severity, description, observed_value, unexpected_rows
        FROM audit.validation_results
        WHERE run_id = (SELECT run_id FROM audit.validation_results ORDER BY run_at DESC LIMIT 1)
          AND NOT success
        ORDER BY severity, suite, expectation, description
    """)
    found = [dict(zip(result.columns, row)) for row in result.fetchall()]  # no pyarrow on a brief's path
    kept = []
    for f in found:
        rows = json.loads(f["unexpected_rows"] or "[]")
        if year is not None and not concerns(rows, year):
            continue
        mine = rows_about(rows, year)
        kept.append({**f, "unexpected_rows": json.dumps(mine, ensure_ascii=False) if year else f["unexpected_rows"],
                     "explanations": [_row_text(r) for r in mine]})
    return kept


# --- what people read: the CLI summary and the HTML report -----------------------------------------

def suite_summary(run: ValidationRun) -> list[dict]:
    """Per suite: table, rows, expectations, passed, failed errors and warnings (or why it was skipped)."""
    out = []
    for s in run.suites:
        mine = [f for f in run.findings if f.suite == s.suite]
        out.append({
            "suite": s.suite, "table": s.table, "status": s.status, "rows": s.rows, "note": s.note,
            "about": s.about, "fingerprint": s.fingerprint, "expectations": len(mine),
            "passed": sum(f.success for f in mine),
            "errors": sum(not f.success and f.severity == "error" for f in mine),
            "warnings": sum(not f.success and f.severity == "warning" for f in mine),
        })
    return out


def summary_lines(run: ValidationRun) -> list[str]:
    """The short text `ngobrief validate` prints: a table per suite, then each failure and its rows."""
    lines = [f"{'suite':32} {'table':30} {'rows':>5} {'checks':>6} {'passed':>6} {'errors':>6} {'warnings':>8}"]
    for s in suite_summary(run):
        if s["status"] == "skipped":
            lines.append(f"{s['suite']:32} {s['table']:30} {'-':>5} {'-':>6} {'-':>6} {'-':>6} {'-':>8}  skipped: {s['note']}")
        else:
            lines.append(f"{s['suite']:32} {s['table']:30} {s['rows']:>5} {s['expectations']:>6} "
                         f"{s['passed']:>6} {s['errors']:>6} {s['warnings']:>8}")
    failed = run.errors + run.warnings
    if failed:
        lines.append("")
    for f in failed:
        what = f"{f.expectation}({f.column})" if f.column else f.expectation
        lines.append(f"{f.severity.upper():7} {f.suite}: {f.description} [{what}]")
        if f.unexpected_rows:
            for r in f.unexpected_rows[:CLI_ROWS]:
                lines.append(f"        {_row_text(r)}")
            if len(f.unexpected_rows) > CLI_ROWS:
                lines.append(f"        … and {len(f.unexpected_rows) - CLI_ROWS} more (see the report)")
        else:
            lines.append(f"        observed {observed_text(f.observed_value)}")
    return lines


def verdict(run: ValidationRun) -> str:
    if not run.errors:
        return "no errors: briefs may be published"
    years = run.blocked_years
    return ("publishing blocked for every year" if years is None
            else "publishing blocked for " + ", ".join(str(y) for y in years))


def report_html(run: ValidationRun) -> str:
    """The run as one self-contained HTML page (its CSS inline; nothing fetched from anywhere)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(config.TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["short"] = _short
    env.filters["observed"] = observed_text
    env.filters["cell"] = cell_text
    by_suite = {s.suite: s for s in run.suites}
    failed = [{"f": f, "columns": _report_columns(by_suite[f.suite], f.unexpected_rows)}
              for f in run.errors + run.warnings]
    return env.get_template("validation_report.html.j2").render(
        run=run, suites=suite_summary(run), failed=failed, verdict=verdict(run),
        run_at=run.run_at.strftime("%Y-%m-%d %H:%M:%S UTC"))


def _report_columns(suite: SuiteRun, rows: list[dict]) -> list[str]:
    """Columns of a failure's row table: where the suite explains each row in a sentence (`finding`),
    the year, the figures and the sentence; otherwise the key and the figures."""
    if "finding" in suite.show:
        cols = ["year"] + [c for c in suite.show if c != "finding"] + ["finding"]
    else:
        cols = suite.key + suite.show
    return [c for c in cols if any(c in r for r in rows)]


def write_report(run: ValidationRun, directory: Path | None = None) -> Path:
    out = directory or config.validation_dir()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"validation-{run.run_id}.html"
    path.write_text(report_html(run), encoding="utf-8")
    return path
