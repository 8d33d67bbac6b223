"""The tasks both flows share: each wraps one library stage and adds what orchestration brings
(retries, caching, the warehouse lock for the whole run, run names, artifacts)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.tasks import exponential_backoff

from flows import limits
from ngobrief import ingest, lock, pipeline, publishing
from ngobrief.errors import NgobriefError

# Tasks that write or read the warehouse are never cached: their result depends on its state. Only
# parsing, a function of the snapshot's bytes, is.

# Pull retries: 2, 4, 8 s (±50 % jitter so that retrying runs do not stampede a source together).
PULL_RETRIES = 3
PULL_BACKOFF = exponential_backoff(backoff_factor=2)


def retry_unless_user_error(task, task_run, state) -> bool:
    """Retry transient failures (network, disk); an NgobriefError (a checksum that does not match,
    a manifest that does not parse) fails the same way every time and goes straight to the user."""
    exc = state.result(raise_on_failure=False)
    return not isinstance(exc, NgobriefError)


@task(name="pull", cache_policy=NO_CACHE, retries=PULL_RETRIES, retry_delay_seconds=PULL_BACKOFF,
      retry_jitter_factor=0.5, retry_condition_fn=retry_unless_user_error)
def pull():
    return pipeline.pull_stage()


@task(name="prepare", cache_policy=NO_CACHE)
def prepare(warehouse: Path | None):
    return pipeline.prepare_stage(warehouse)


@task(name="pending", cache_policy=NO_CACHE)
def pending(snapshots, warehouse: Path | None):
    return pipeline.pending_snapshots(snapshots, warehouse)


def _parse_key(context, parameters) -> str:
    return pipeline.parse_cache_key(parameters["snapshot"])


# Keyed on the snapshot's sha256 (and the parser's code), not on the warehouse: the same bytes parse
# to the same frames whichever warehouse they go to, so a rebuilt warehouse reuses them too.
@task(name="parse", task_run_name="parse-{snapshot.snapshot_id}", cache_key_fn=_parse_key, persist_result=True)
def parse(snapshot):
    return pipeline.parse_stage(snapshot)


@task(name="store", cache_policy=NO_CACHE, task_run_name="store-{snapshot.snapshot_id}")
def store(snapshot, frames, warehouse: Path | None):
    return pipeline.store_stage(snapshot, frames, warehouse)


@task(name="validate", cache_policy=NO_CACHE)
def validate(warehouse: Path | None):
    run = pipeline.validate_stage(warehouse)
    get_run_logger().info(run.inputs_note)  # reused (GX not run), or what changed since the last run
    return run


@task(name="begin-edition", cache_policy=NO_CACHE)
def begin_edition(snapshots, warehouse: Path | None):
    return publishing.begin_stage(snapshots, warehouse)


@task(name="audit-and-publish", cache_policy=NO_CACHE)
def audit_and_publish(build, checks):
    from prefect.runtime import flow_run

    return publishing.audit_and_publish(build, checks, flow_run_id=str(flow_run.id) if flow_run.id else None)


@task(name="compute", cache_policy=NO_CACHE)
def compute(warehouse: Path | None, year):
    return pipeline.compute_stage(warehouse, year)


@task(name="render", cache_policy=NO_CACHE, task_run_name="render-{year}-{lang}")
def render(year: int, lang: str, warehouse: Path | None, types: list[str] | None = None):
    return pipeline.render_stage(year, lang, warehouse, types=types)   # named by brief.brief_path


@task(name="render", cache_policy=NO_CACHE, task_run_name="render-briefs")
def render_all(jobs: list[tuple[int, str]], warehouse: Path | None):
    return pipeline.render_stages(jobs, warehouse)   # WeasyPrint across the cores, same bytes as one by one


def load_snapshots(snapshots, warehouse: Path | None) -> dict[str, str]:
    """Parse and store each snapshot whose bytes are new to the warehouse; say what happened to each."""
    log = get_run_logger()
    prepare(warehouse)
    todo = {s.snapshot_id for s in pending(snapshots, warehouse)}
    outcome = {}
    for s in snapshots:
        if s.snapshot_id not in todo:
            outcome[s.snapshot_id] = (f"no parser for {s.parser} in this version" if s.parser not in ingest.registry()
                                      else f"unchanged (sha256 {s.sha256[:12]} already in the warehouse)")
            continue
        state = parse(s, return_state=True)
        frames = state.result()
        how = "parse reused from cache" if state.name == "Cached" else "parsed"
        rows = store(s, frames, warehouse)
        outcome[s.snapshot_id] = f"{how} (sha256 {s.sha256[:12]}), {rows} row(s) loaded"
    for sid, what in outcome.items():
        log.info("snapshot %s: %s", sid, what)
    return outcome


@contextmanager
def holding_warehouse(warehouse: Path | None, wait: float):
    """Hold the warehouse's write lock for the whole run: a second run waits up to `wait` seconds,
    then fails naming the run that holds it. On a server with the writer limit (flows/limits.py)
    the run then takes its one slot, so that writers on other hosts queue too. The lock comes first,
    as in `ngobrief run` (it takes the lock before Prefect starts): the two never wait for each other."""
    from prefect.runtime import flow_run

    log = get_run_logger()
    what = f"flow run {flow_run.name} ({flow_run.id})"
    with lock.warehouse_lock(warehouse, what=what, wait=wait,
                             on_wait=lambda who: log.warning("waiting up to %g s for the warehouse: %s is writing it",
                                                             wait, who)):
        with limits.writer_slot(wait, log):
            yield


def rename_run(name: str) -> None:
    """Give the run the name of what it turned out to do (e.g. `latest` resolved to a year)."""
    from prefect.client.orchestration import get_client
    from prefect.runtime import flow_run

    if flow_run.id and flow_run.name != name:
        with get_client(sync_client=True) as client:
            client.update_flow_run(flow_run.id, name=name)
        get_run_logger().info("flow run renamed %s", name)


def artifact_key(name: str) -> str:
    """Artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def publish_summary(name: str, markdown: str, description: str) -> None:
    """The run's summary as a markdown artifact; its key is the run name, so runs of the same
    edition stack up as versions of one artifact."""
    create_markdown_artifact(markdown=markdown, key=artifact_key(name), description=description)
