"""Reuse a validation run when nothing its results depend on has changed, so that Great Expectations
(seconds to import and run) costs only when the inputs changed.

A run depends on the rows of the tables its suites check, the suite files, the check SQL
(sql/marts/checks), the validation code and GX version, and — for a suite that refers to a
{"$PARAMETER": ...} such as this_year — the date. Their fingerprint is stored with each run
(audit.validation_inputs); the latest run is reused when the fingerprint is the same now."""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import json
from importlib import metadata
from pathlib import Path

from . import config, validate

DATE_DEPENDENT = '"$PARAMETER"'


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parts(con, *, today: dt.date, tables: bool = True) -> dict[str, str]:
    """Each input of a validation run and its sha256 (a checked table absent from the warehouse is
    'absent': the suite is skipped, and would run once the table is there). Without `tables`, only
    the parts that cost nothing to read: the checked rows are the costly part (a view over a
    national register is computed to fingerprint it)."""
    out = {"code": _sha((inspect.getsource(validate) + metadata.version("great_expectations")).encode("utf-8"))}
    dated = False
    for path in validate.suite_files():
        text = path.read_bytes()
        out[f"suite:{path.name}"] = _sha(text)
        table = validate.read_suite(path)["meta"]["table"]
        if tables:
            out[f"table:{table}"] = validate.fingerprint(con, table) if validate.table_exists(con, table) else "absent"
        dated = dated or DATE_DEPENDENT.encode() in text
    for path in sorted((config.SQL_DIR / "marts" / "checks").glob("*.sql")):
        out[f"check_sql:{path.name}"] = _sha(path.read_bytes())
    if dated:
        out["date"] = today.isoformat()
    return out


def table_parts(run: validate.ValidationRun) -> dict[str, str]:
    """The checked rows' part of a run's inputs, from the fingerprints the run itself took."""
    return {f"table:{s.table}": s.fingerprint if s.status == "validated" else "absent" for s in run.suites}


def fingerprint(found: dict[str, str]) -> str:
    return _sha(json.dumps(found, sort_keys=True).encode("utf-8"))


def _latest(con) -> tuple[str, str, dict] | None:
    """The latest validation run's id, inputs fingerprint and parts, if it recorded them."""
    has_table = con.execute("SELECT 1 FROM duckdb_tables() WHERE schema_name = 'audit' "
                            "AND table_name = 'validation_inputs'").fetchall()
    if not has_table:
        return None  # a warehouse made before inputs were recorded: validate once more
    row = con.execute("""
        SELECT i.run_id, i.inputs_fingerprint, i.parts FROM audit.validation_inputs AS i
        WHERE i.run_id = (SELECT run_id FROM audit.validation_runs ORDER BY run_at DESC LIMIT 1)""").fetchall()
    return (row[0][0], row[0][1], json.loads(row[0][2])) if row else None


def changed(con, now: dict[str, str]) -> list[str] | None:
    """What changed since the latest run ([] when nothing did), or None when there is no run to compare."""
    latest = _latest(con)
    if latest is None:
        return None
    before = latest[2]
    return sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k))


def reusable_run(con, *, today: dt.date) -> tuple[validate.ValidationRun | None, dict[str, str]]:
    """The latest stored run, read back from the audit tables, when its inputs are the ones now; and
    the inputs found (without the checked rows when a cheaper part already differs)."""
    now = parts(con, today=today, tables=False)
    latest = _latest(con)
    if latest is None or any(latest[2].get(k) != v for k, v in now.items()):
        return None, now
    now = parts(con, today=today)
    return (load_run(con, latest[0]) if latest[1] == fingerprint(now) else None), now


def record(con, run: validate.ValidationRun, found: dict[str, str]) -> None:
    con.execute("INSERT INTO audit.validation_inputs (run_id, run_at, inputs_fingerprint, parts) VALUES (?, ?, ?, ?)",
                [run.run_id, run.run_at, fingerprint(found), json.dumps(found, sort_keys=True)])


def load_run(con, run_id: str) -> validate.ValidationRun:
    """A stored run as validate.run_suites returned it: its suites, findings and report."""
    metas = {}
    for path in validate.suite_files():
        spec = validate.read_suite(path)
        metas[spec["name"]] = spec["meta"]
    suites, fingerprints, report, run_at = [], {}, None, None
    for s in con.sql("""SELECT suite, table_name, status, rows_validated, data_fingerprint, note, report_path, run_at
                        FROM audit.validation_runs WHERE run_id = ? ORDER BY rowid""", params=[run_id]).fetchall():
        meta = metas.get(s[0], {})
        suites.append(validate.SuiteRun(s[0], s[1], s[2], rows=s[3], fingerprint=s[4], note=s[5] or "",
                                        about=meta.get("about", ""), key=list(meta.get("key", [])),
                                        show=list(meta.get("show", []))))
        if s[4]:
            fingerprints[s[0]] = s[4]
        report, run_at = s[6] or report, s[7]
    findings = [
        validate.Finding(suite=f[0], expectation=f[1], severity=f[2], success=f[3], description=f[4],
                         observed_value=json.loads(f[5]) if f[5] else None,
                         unexpected_rows=json.loads(f[6] or "[]"), kwargs=json.loads(f[7] or "{}"),
                         unexpected_count=f[8])
        for f in con.sql("""SELECT suite, expectation, severity, success, description, observed_value,
                                   unexpected_rows, kwargs, unexpected_count
                            FROM audit.validation_results WHERE run_id = ? ORDER BY rowid""",
                         params=[run_id]).fetchall()]
    run = validate.ValidationRun(run_id, run_at, findings, fingerprints, suites,
                                 Path(report) if report and Path(report).exists() else None)
    run.reused, run.inputs_note = True, reuse_note(run_id)
    return run


def reuse_note(run_id: str) -> str:
    return (f"validation: nothing it depends on changed since run {run_id} (the checked rows, suite files, "
            "check SQL, date); its results are reused and Great Expectations was not run")


def rerun_note(why: list[str] | None) -> str:
    if why is None:
        return "validation: no earlier run with recorded inputs; running the suites"
    if not why:
        return "validation: running the suites again as asked (nothing changed since the last run)"
    return "validation: running the suites, changed since the last run: " + ", ".join(why)
