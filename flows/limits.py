"""The Prefect global concurrency limit that lets one warehouse writer run at a time across every
worker and host, on top of the warehouse's own file lock. `make deploy` creates it:
`python -m flows.limits` (safe to repeat)."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Iterator

from ngobrief.errors import WarehouseBusyError

WRITER_LIMIT = "ngobrief-warehouse-writer"
WRITER_SLOTS = 1


def ensure_writer_limit() -> dict:
    """Create the writer limit, or set an existing one back to one active slot; returns it as the
    server has it. Deploying twice leaves one limit."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate

    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(WRITER_LIMIT, WRITER_SLOTS)
        limit = client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
        if not limit.active:  # someone switched it off in the UI: writers would run together
            client.update_global_concurrency_limit(WRITER_LIMIT, GlobalConcurrencyLimitUpdate(active=True))
            limit = client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
    return {"name": limit.name, "limit": limit.limit, "active": limit.active}


def _server_limit():
    """The writer limit on this run's server, or None when the server has none (a temporary
    server: `ngobrief run`, tests)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
        except ObjectNotFound:
            return None
    return limit if limit.active else None


@contextmanager
def writer_slot(wait: float, log) -> Iterator[None]:
    """Hold the writer limit's one slot for the block; wait up to `wait` seconds for it, then fail
    like a busy file lock. Without the limit on the server, only the file lock keeps writers apart:
    a deployed run says so, a local run (one machine, one lock file) stays quiet."""
    from prefect.client.schemas.objects import ConcurrencyLeaseHolder
    from prefect.concurrency.asyncio import AcquireConcurrencySlotTimeoutError
    from prefect.concurrency.sync import concurrency
    from prefect.runtime import deployment, flow_run

    limit = _server_limit()
    if limit is None:
        if deployment.id:
            log.warning("the server has no active global concurrency limit %s (`make deploy` creates it): "
                        "only the warehouse's file lock keeps writers apart", WRITER_LIMIT)
        yield
        return
    if limit.active_slots >= limit.limit:
        log.warning("waiting up to %g s for the writer slot (%s): another run is writing the warehouse",
                    wait, WRITER_LIMIT)
    holder = ConcurrencyLeaseHolder(type="flow_run", id=flow_run.id) if flow_run.id else None
    slot = ExitStack()
    try:
        slot.enter_context(concurrency(WRITER_LIMIT, occupy=1, timeout_seconds=wait, holder=holder, strict=True))
    except AcquireConcurrencySlotTimeoutError:
        raise WarehouseBusyError(f"the writer slot {WRITER_LIMIT} stayed taken for {wait:g} s: another run is "
                                 "writing the warehouse (see the limit in the Prefect UI)") from None
    with slot:
        yield


if __name__ == "__main__":
    made = ensure_writer_limit()
    print(f"global concurrency limit {made['name']}: {made['limit']} slot(s), active")
