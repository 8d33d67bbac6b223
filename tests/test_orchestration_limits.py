"""The writer limit (flows/limits.py) on Prefect's test harness: `make deploy`'s creation of it is
safe to repeat and switches a disabled limit back on, and a run that cannot get its one slot waits
its lock_timeout, then fails like a busy warehouse, having written nothing."""

from __future__ import annotations

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitUpdate
from prefect.concurrency.sync import concurrency

from flows.annual_refresh import annual_refresh
from flows.limits import WRITER_LIMIT, ensure_writer_limit
from ngobrief.errors import WarehouseBusyError


@pytest.fixture(scope="module", autouse=True)
def prefect_api():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def _limits() -> list:
    with get_client(sync_client=True) as client:
        return [lim for lim in client.read_global_concurrency_limits(limit=100) if lim.name == WRITER_LIMIT]


def test_creating_the_writer_limit_twice_leaves_one_limit_with_one_slot():
    ensure_writer_limit()
    assert ensure_writer_limit() == {"name": WRITER_LIMIT, "limit": 1, "active": True}
    [limit] = _limits()
    assert limit.limit == 1 and limit.active and limit.active_slots == 0


def test_deploying_switches_a_disabled_writer_limit_back_on():
    ensure_writer_limit()
    with get_client(sync_client=True) as client:
        client.update_global_concurrency_limit(WRITER_LIMIT, GlobalConcurrencyLimitUpdate(active=False, limit=3))
    assert not _limits()[0].active
    ensure_writer_limit()
    [limit] = _limits()
    assert limit.active and limit.limit == 1


def test_a_run_that_cannot_get_the_writer_slot_waits_then_fails_having_written_nothing(tmp_path):
    ensure_writer_limit()
    path = tmp_path / "w.duckdb"
    with concurrency(WRITER_LIMIT, occupy=1):  # another writer, on another host say, holds the slot
        assert _limits()[0].active_slots == 1
        state = annual_refresh(year=2013, langs=["en"], warehouse=path, lock_timeout=1, return_state=True)
    assert state.is_failed()
    with pytest.raises(WarehouseBusyError, match=f"writer slot {WRITER_LIMIT} stayed taken for 1 s"):
        state.result()
    assert not path.exists()
    assert _limits()[0].active_slots == 0
