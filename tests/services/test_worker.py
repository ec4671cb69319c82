"""SLA timers end to end: reminders, escalation, reassignment (never to a previous owner),
recycling after N reassignments, actions stopping the clock, and workers sharing timers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime, timedelta

import pytest

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.lifecycle_store import LifecycleStore
from leadroute.adapters.store.sql import Store
from leadroute.adapters.store.timer_store import TimerStore
from leadroute.domain.org import Rep, build_org
from leadroute.services.lifecycle import act, events
from leadroute.services.routing import RoutingService
from leadroute.services.worker import Worker, timers_of
from tests.services.fixtures import NOW, activate, leads

CONFIG = """
name: sla-test
pools:
  sales: {members: [team:sales], fairness_window: all}
queues:
  nurture: {}
sla:
  default: {accept_within: 30m, remind_at: 0.5, max_reassignments: 2, then: nurture}
flow:
  - id: sales
    when: {country: US}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: nurture}
"""


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _org() -> object:
    reps = [
        Rep(id=f"r{i}", name=f"Rep {i}", teams=("sales",), manager_id="boss") for i in (1, 2, 3, 4)
    ]
    return build_org(reps=reps)


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def routing(store: Store, clock: Clock) -> RoutingService:
    activate(store, _org(), CONFIG)  # type: ignore[arg-type]
    return RoutingService(store, clock=clock)


def _route(routing: RoutingService, n: int = 1) -> None:
    rows = [ParsedRow(i, lead, None, {}) for i, lead in enumerate(leads(n), 1)]
    routing.route_batch(rows, batch_id="b1")


def test_assignment_sets_a_reminder_and_a_breach_timer(routing: RoutingService) -> None:
    _route(routing)
    rows = timers_of(TimerStore(routing.store), "L00000")
    assert sorted((r["kind"], r["status"]) for r in rows) == [
        ("breach", "pending"),
        ("reminder", "pending"),
    ]
    due = {r["kind"]: r["due_at"] for r in rows}
    assert due["breach"] - due["reminder"] == timedelta(minutes=15)
    assert [e["kind"] for e in events(LifecycleStore(routing.store), "L00000")] == ["assigned"]


def test_the_whole_sla_ladder(routing: RoutingService, clock: Clock, store: Store) -> None:
    _route(routing)
    worker = Worker(store, clock=clock)
    first = store.lead("L00000").owner_id  # type: ignore[union-attr]
    assert worker.run_once().fired == 0  # nothing due yet
    clock.now += timedelta(minutes=16)
    assert worker.run_once().reminded == 1
    clock.now += timedelta(minutes=15)
    report = worker.run_once()
    assert (report.breached, report.reassigned) == (1, 1)
    second = store.lead("L00000").owner_id  # type: ignore[union-attr]
    assert second not in (None, first)
    clock.now += timedelta(minutes=31)
    report = worker.run_once()
    assert report.reassigned == 1
    third = store.lead("L00000").owner_id  # type: ignore[union-attr]
    assert third not in (first, second)
    clock.now += timedelta(minutes=31)
    report = worker.run_once()
    assert report.recycled == 1
    lead = store.lead("L00000")
    assert lead is not None and lead.queue == "nurture" and lead.owner_id is None
    kinds = [e["kind"] for e in events(LifecycleStore(store), "L00000")]
    assert kinds == [
        "assigned",
        "reminded",
        "escalated",
        "reassigned",
        "reminded",
        "escalated",
        "reassigned",
        "reminded",
        "escalated",
        "recycled",
    ]
    history = store.decisions("L00000")
    assert [d.rep_id or d.queue for d in history] == [first, second, third, "nurture"]
    assert all(d.supersedes == history[i].id for i, d in enumerate(history[1:]))
    assert "SLA missed" in history[-1].reason
    assert all(t["status"] != "pending" for t in timers_of(TimerStore(store), "L00000"))


def test_accepting_stops_the_clock(routing: RoutingService, clock: Clock, store: Store) -> None:
    _route(routing)
    act(store, "L00000", "accept", now=clock.now)
    assert {t["status"] for t in timers_of(TimerStore(store), "L00000")} == {"cancelled"}
    clock.now += timedelta(hours=2)
    report = Worker(store, clock=clock).run_once()
    assert report.fired == 0
    assert [e["kind"] for e in events(LifecycleStore(store), "L00000")] == ["assigned", "accepted"]
    act(store, "L00000", "convert", now=clock.now)
    assert store.lead("L00000").status == "converted"  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="is converted, not assigned to a rep"):
        act(store, "L00000", "accept", now=clock.now)
    with pytest.raises(LookupError):
        act(store, "nope", "accept", now=clock.now)


def test_a_timer_for_a_lead_that_moved_on_is_skipped(
    routing: RoutingService, clock: Clock, store: Store
) -> None:
    _route(routing)
    owner = store.lead("L00000").owner_id  # type: ignore[union-attr]
    routing.deactivate_rep(owner)  # type: ignore[arg-type]
    # the old rep's timers were cancelled with the hand-off; the new owner's are pending
    statuses = Counter(
        (t["rep_id"] == owner, t["status"]) for t in timers_of(TimerStore(store), "L00000")
    )
    assert statuses == {(True, "cancelled"): 2, (False, "pending"): 2}


def test_a_crashed_workers_lease_runs_out_and_nothing_fires_twice(
    routing: RoutingService, clock: Clock, store: Store
) -> None:
    _route(routing, 5)
    clock.now += timedelta(minutes=16)
    crashed = Worker(store, clock=clock, lease=timedelta(minutes=1))
    claimed = crashed.claim(3)  # claimed, then the worker dies
    assert len(claimed) == 3
    other = Worker(store, clock=clock, lease=timedelta(minutes=1))
    assert other.run_once().reminded == 2  # the two unclaimed ones only
    clock.now += timedelta(minutes=2)  # the lease runs out
    assert other.run_once().reminded == 3
    log = LifecycleStore(store)
    reminded = Counter(
        e["kind"] for i in range(5) for e in events(log, f"L{i:05d}") if e["kind"] == "reminded"
    )
    assert reminded == {"reminded": 5}


@pytest.mark.postgres
def test_concurrent_workers_never_fire_a_timer_twice(
    routing: RoutingService, clock: Clock, store: Store
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("concurrent claims need PostgreSQL (SQLite serialises writers)")
    _route(routing, 60)
    clock.now += timedelta(minutes=16)
    reports = []

    def work() -> None:
        reports.append(Worker(store, clock=clock).run_once(limit=5))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r.reminded for r in reports) == 60
    log = LifecycleStore(store)
    kinds = Counter(
        e["kind"] for i in range(60) for e in events(log, f"L{i:05d}") if e["kind"] == "reminded"
    )
    assert kinds == {"reminded": 60}


def test_the_outbox_is_delivered_between_batches_of_timers(
    routing: RoutingService, clock: Clock, store: Store
) -> None:
    """A backlog of due timers does not starve the outbox: a batch of messages goes out after
    each batch of timers."""
    _route(routing, 5)
    fired_before: list[int] = []

    def deliver() -> dict[str, int]:
        fired_before.append(
            len([t for t in timers_of(TimerStore(store)) if t["status"] != "pending"])
        )
        return {"sent": 1}

    worker = Worker(store, clock=clock, deliver=deliver)
    clock.now += timedelta(minutes=16)  # five reminders due
    report = worker.run_once(limit=2)
    assert report.reminded == 5
    assert fired_before == [2, 4, 5]  # after 2 timers, after 4, after the last one
    assert report.outbox == {"sent": 3}
