"""`leadroute worker` as real processes: killed with SIGKILL while it holds leased timers and
restarted, no timer is lost or fired twice; several workers on one PostgreSQL share the timers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import Store
from leadroute.services.routing import RoutingService
from tests.services.fixtures import activate, leads
from tests.services.test_worker import CONFIG, _org

LEADS = 150


def _seed(url: str) -> Store:
    """Leads routed a day ago: every reminder and breach timer is due now."""
    store = Store(url)
    store.migrate()
    activate(store, _org(), CONFIG)  # type: ignore[arg-type]
    yesterday = datetime.now(UTC) - timedelta(days=1)
    service = RoutingService(store, clock=lambda: yesterday)
    rows = [ParsedRow(i, lead, None, {}) for i, lead in enumerate(leads(LEADS), 1)]
    service.route_batch(rows, batch_id="b1")
    return store


def _worker(url: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "leadroute", "worker", "--lease-seconds", "1", *args],
        env={**os.environ, "LEADROUTE_DB": url},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _fired(store: Store) -> Counter[tuple[str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("select lead_id, kind from lead_events where kind in ('reminded', 'escalated')")
        ).all()
    return Counter((lead, kind) for lead, kind in rows)


def _events_so_far(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                text("select count(*) from lead_events where kind in ('reminded', 'escalated')")
            ).scalar_one()
        )


def _claimed(store: Store) -> Counter[str]:
    """Timers a worker holds (claimed with a lease, not finished), by status."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text("select status, count(*) from timers "
                 "where status in ('firing', 'escalated') group by status")
        ).all()  # fmt: skip
    return Counter({status: int(n) for status, n in rows})


def _check_exactly_once(store: Store) -> None:
    fired = _fired(store)
    assert set(fired.values()) == {1}, [k for k, v in fired.items() if v != 1][:5]
    assert len(fired) == 2 * LEADS  # a reminder and an escalation for every lead
    with store.engine.connect() as conn:
        due = conn.execute(
            text("select count(*) from timers where status <> 'cancelled' and due_at <= :now "
                 "and status not in ('fired', 'skipped')"),
            {"now": datetime.now(UTC)},
        ).scalar_one()  # fmt: skip
        per_lead = conn.execute(
            text("select lead_id, count(*) from decisions group by lead_id")
        ).all()
        open_load = conn.execute(
            text("select coalesce(sum(count), 0) from rep_counters where period = 'open'")
        ).scalar_one()
        routed = conn.execute(
            text("select count(*) from leads where status = 'routed'")
        ).scalar_one()
    assert due == 0
    assert {n for _, n in per_lead} == {2}  # assigned once, reassigned once on the breach
    assert open_load == routed == LEADS  # each reassignment moved the load, once


@pytest.fixture
def seeded(db_url: str) -> Iterator[Store]:
    store = _seed(db_url)
    yield store
    store.dispose()


def test_sigkill_then_restart_loses_and_doubles_nothing(db_url: str, seeded: Store) -> None:
    store = seeded
    first = _worker(db_url)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        # kill it while it holds leased timers, after it fired some of them
        if _events_so_far(store) >= 20 and sum(_claimed(store).values()):
            break
        assert first.poll() is None, "the worker ended before it was killed"
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=30)
    assert first.returncode == -signal.SIGKILL
    assert _events_so_far(store) < 2 * LEADS, "the worker finished before it was killed"
    held = _claimed(store)
    assert sum(held.values()) > 0, "the worker held no timer when it was killed"
    time.sleep(1.2)  # the killed worker's lease runs out
    again = _worker(db_url, "--once")
    _out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert sum(_claimed(store).values()) == 0  # the restarted worker took over and finished
    _check_exactly_once(store)


@pytest.mark.postgres
def test_several_workers_share_the_timers(pg_schema_url: str) -> None:
    store = _seed(pg_schema_url)
    try:
        workers = [_worker(pg_schema_url, "--once") for _ in range(3)]
        for process in workers:
            _out, err = process.communicate(timeout=120)
            assert process.returncode == 0, err
        _check_exactly_once(store)
    finally:
        store.dispose()
