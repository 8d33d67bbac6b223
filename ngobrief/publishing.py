"""The write-audit-publish stages of a run, as plain functions that flows and the CLI compose: start a
build copy, audit it, publish it or keep it for inspection; and a standalone audit of an edition."""

from __future__ import annotations

import datetime as dt

import re
from dataclasses import dataclass, field
from pathlib import Path

from . import config, editions, pipeline, pull, validate, warehouse


@dataclass
class Outcome:
    """What the write-audit-publish part of a run did."""

    edition: str | None                  # the edition published after the run (None: nothing published)
    number: int | None = None
    new: bool = False                    # a new edition was published by this run
    failed_build: Path | None = None     # the build copy kept because its audit found errors
    findings: list[str] = field(default_factory=list)   # the error-level findings that stopped it
    validation: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.failed_build is None


def begin_stage(snapshots: list[pull.Snapshot], warehouse_path: Path | None = None) -> editions.Build | None:
    """The build copy for these snapshots, or None when the published edition is made of exactly
    them and the present code. Great Expectations starts importing in an early process at once
    (pipeline.start_validator), for the build's validation; it is stopped when there is no build."""
    pipeline.start_validator()
    try:
        build = editions.begin(snapshots, pull.read_manifest().get("sources", {}), warehouse_path)
    except BaseException:
        pipeline.stop_validator()
        raise
    if build is None:
        pipeline.stop_validator()
    else:
        pipeline.bind_validator(build.path)
    return build


def unchanged(warehouse_path: Path | None = None) -> Outcome:
    """The outcome of a run with nothing new: the published edition stays, and no validation runs."""
    ident = editions.published_id(warehouse_path)
    e = next((e for e in editions.read_manifest(warehouse_path)["editions"] if e["id"] == ident), {})
    return Outcome(ident, e.get("number"), validation=pipeline.validation_summary(warehouse_path),
                   notes=[f"inputs and code unchanged: edition {e.get('number')} ({ident}) stays published"])


def audit_and_publish(build: editions.Build, run: validate.ValidationRun,
                      flow_run_id: str | None = None) -> Outcome:
    """The gate: any error-level finding publishes nothing and keeps the build copy, named; otherwise
    the build is published (warnings go with it, in its validation results)."""
    summary = pipeline.validation_summary(build.path)
    if run.errors:
        kept = editions.keep_failed(build)
        return Outcome(editions.published_id(build.warehouse), failed_build=kept, validation=summary,
                       findings=[f.summary() for f in run.errors], notes=build.notes)
    record = editions.publish(build, validation={k: summary[k] for k in ("run_id", "errors", "warnings", "findings")}
                              | {"report": summary["report"]}, flow_run_id=flow_run_id)
    return Outcome(record["id"], record["number"], new=True, validation=summary, notes=build.notes)


def refresh(warehouse_path: Path | None = None, *, flow_run_id: str | None = None) -> Outcome:
    """Pull, build, audit and publish without Prefect (the tests' and benchmarks' plain path; the
    annual-refresh flow runs the same stages as tasks)."""
    from . import lock

    with lock.warehouse_lock(warehouse_path):
        snapshots = pipeline.pull_stage()
        build = begin_stage(snapshots, warehouse_path)
        if build is None:
            return unchanged(warehouse_path)
        pipeline.load_stage(snapshots, build.path)
        editions._pause_point("loaded")
        run = pipeline.validate_stage(build.path)
        editions._pause_point("validated")
        return audit_and_publish(build, run, flow_run_id)


def audit_published(warehouse_path: Path | None = None, *, reuse: bool = True,
                    today: dt.date | None = None) -> validate.ValidationRun:
    """`ngobrief validate`: run the suites on an edition read-only (the published one, or a build copy
    named by --warehouse), write the HTML report and a line in editions/validation.jsonl. Never
    writes the warehouse and never makes an edition. With `reuse`, the run stored in the edition when
    it was built is returned instead when nothing it depended on has changed (validation_inputs)."""
    from . import validation_inputs

    today = today or dt.datetime.now(dt.timezone.utc).date()
    path = config.warehouse_path(warehouse_path)
    con = warehouse.connect(path, read_only=True)
    try:
        run = validation_inputs.reusable_run(con, today=today)[0] if reuse else None
        if run is None:
            run = validate.run_suites(con, today=today)
            run.inputs_note = (("validation: running the suites again as asked" if not reuse else
                                "validation: the suites ran on this edition")
                               + " (read-only: the findings are reported, not stored in the edition)")
        stamp = editions.stamp_of(con)
    finally:
        con.close()
    if run.report_path is None or not Path(run.report_path).exists():
        run.report_path = validate.write_report(run)
    editions.record_validation({"warehouse": path.name, "edition": stamp["edition_id"] if stamp else None,
                                "run_id": run.run_id, "errors": len(run.errors), "warnings": len(run.warnings),
                                "report": str(run.report_path)}, path)
    return run


def changes_markdown(warehouse_path: Path | None = None) -> str | None:
    """What changed from the previous edition to the published one, as markdown (None for a first edition)."""
    from . import diff

    try:
        d = diff.diff_editions(warehouse_path=warehouse_path)
    except editions.EditionError:
        return None
    return re.sub(r"^#", "##", diff.render(d, "markdown"), flags=re.MULTILINE)   # under the summary's headings


def withdraw(ident: str, warehouse_path: Path | None = None) -> str:
    """Take a pulled snapshot back out of the data manifest (`ngobrief withdraw SNAPSHOT`), so that the
    next run builds without it: a snapshot whose audit failed no longer blocks every run. Its file
    stays in the data folder; the published edition is untouched."""
    import tomllib

    import tomlkit

    from . import lock
    from .errors import ManifestError

    with lock.warehouse_lock(warehouse_path):
        manifest = pull.read_manifest()
        sid = pull.resolve(manifest, ident)
        if sid is None:
            raise ManifestError(f"no snapshot {ident!r} in {config.MANIFEST.name}: snapshots are "
                                + ", ".join(manifest.get("snapshots", {})))
        doc = tomlkit.parse(config.MANIFEST.read_text(encoding="utf-8"))
        file = doc["snapshots"][sid].get("file")
        del doc["snapshots"][sid]
        text = tomlkit.dumps(doc)
        tomllib.loads(text)  # never write a manifest that cannot be read back
        editions._write_atomic(config.MANIFEST, text)
        (editions.builds_dir(warehouse_path) / "staged.duckdb").unlink(missing_ok=True)  # it held the snapshot
    return (f"withdrew snapshot {sid} from {config.MANIFEST.name}; its file {file} is kept. The next "
            "`ngobrief run` builds an edition without it")
