"""Validate stage: run the Great Expectations suites in expectations/ on warehouse tables.

Each suite file is a GX 1.x suite (JSON) whose `meta` names the table it checks and the key columns
that identify a failing row. Expectations carry a severity: `critical` (shown to users as `error`)
blocks publishing the affected years; `warning` is reported in the brief. GX is imported here only,
and only when a validation runs: its import alone costs seconds."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import config

SEVERITY_NAMES = {"critical": "error", "warning": "warning", "info": "warning"}


@dataclass
class Finding:
    suite: str
    expectation: str
    severity: str          # error | warning
    success: bool
    description: str
    observed_value: object
    unexpected_rows: list[dict] = field(default_factory=list)

    @property
    def years(self) -> set[int]:
        return {int(r["year"]) for r in self.unexpected_rows if r.get("year") is not None}


@dataclass
class ValidationRun:
    run_id: str
    run_at: dt.datetime
    findings: list[Finding]
    fingerprints: dict[str, str]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if not f.success and f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if not f.success and f.severity == "warning"]

    def blocks(self, year: int) -> list[Finding]:
        """The error findings that stop a brief for `year` (a failure with no rows blocks every year)."""
        return [f for f in self.errors if not f.unexpected_rows or year in f.years]


def suite_files(directory: Path | None = None) -> list[Path]:
    return sorted((directory or config.EXPECTATIONS_DIR).glob("*.json"))


def fingerprint(con, table: str) -> str:
    """sha256 of a table's rows, each as text, in sorted order: equal data, equal fingerprint."""
    rows = con.sql(f"SELECT t::VARCHAR AS r FROM {table} AS t ORDER BY r").fetchall()
    return hashlib.sha256("\n".join(r[0] for r in rows).encode("utf-8")).hexdigest()


def _jsonable(value):
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return str(value)


def run_suites(con, files: list[Path] | None = None) -> ValidationRun:
    """Run every suite against the table its meta names; nothing is written here."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = ctx.data_sources.add_pandas("warehouse")
    run = ValidationRun(uuid.uuid4().hex[:12], dt.datetime.now(dt.timezone.utc).replace(tzinfo=None), [], {})
    for path in files or suite_files():
        spec = json.loads(path.read_text(encoding="utf-8"))
        meta = spec.get("meta", {})
        table, key = meta["table"], meta.get("key", [])
        # GX's SQL datasource over duckdb-engine returns empty results: validate a pandas frame.
        frame = con.sql(f"SELECT * FROM {table}").df()
        run.fingerprints[spec["name"]] = fingerprint(con, table)
        asset = source.add_dataframe_asset(spec["name"])
        batch_def = asset.add_batch_definition_whole_dataframe("all")
        suite = ctx.suites.add(gx.ExpectationSuite(name=spec["name"], expectations=spec["expectations"],
                                                   meta=meta))
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=spec["name"], data=batch_def,
                                                                    suite=suite))
        result = vd.run(batch_parameters={"dataframe": frame}, result_format={"result_format": "COMPLETE"})
        for r in result.results:
            cfg = r.expectation_config
            res = r.result or {}
            idx = res.get("unexpected_index_list") or []
            rows = []
            for i in idx:
                i = i if isinstance(i, int) else i.get("index", i)
                if isinstance(i, int) and 0 <= i < len(frame):
                    rows.append({k: _jsonable(frame.iloc[i][k]) for k in key if k in frame.columns})
            observed = res.get("observed_value", res.get("unexpected_count"))
            if observed is None and res.get("partial_unexpected_list") is not None:
                observed = res.get("partial_unexpected_list")
            severity = getattr(cfg, "severity", None)
            severity = SEVERITY_NAMES.get(getattr(severity, "value", severity) or "critical", "error")
            run.findings.append(Finding(
                suite=spec["name"], expectation=cfg.type, severity=severity, success=bool(r.success),
                description=cfg.description or cfg.type, observed_value=_jsonable(observed),
                unexpected_rows=rows,
            ))
    return run


def store(con, run: ValidationRun) -> None:
    """Append a run's findings to audit.validation_results in one transaction."""
    from .warehouse import transaction

    with transaction(con):
        con.executemany(
            "INSERT INTO audit.validation_results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [[run.run_id, run.run_at, f.suite, f.expectation, f.severity, f.success, f.description,
              json.dumps(f.observed_value, ensure_ascii=False, default=str),
              json.dumps(f.unexpected_rows, ensure_ascii=False, default=str),
              run.fingerprints[f.suite]] for f in run.findings],
        )


def latest_findings(con) -> list[dict]:
    """The failed expectations of the most recent validation run, for briefs and summaries."""
    return con.sql("""
        SELECT suite, expectation, severity, description, observed_value, unexpected_rows
        FROM audit.validation_results
        WHERE run_id = (SELECT run_id FROM audit.validation_results ORDER BY run_at DESC LIMIT 1)
          AND NOT success
        ORDER BY severity, suite, expectation
    """).pl().to_dicts()
