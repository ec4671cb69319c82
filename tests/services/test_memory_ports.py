"""The lifecycle and outbox services on the in-memory store and on the SQL store (SQLite and
PostgreSQL): one test body per use case, run on each, expecting the same results. The services
see only the ports (`leadroute.ports`); the memory adapter implements the ones they need, with
the SQL store's rules (fenced claims, one message per key, events in order, timers cancelled by
an action), and these tests hold the two to each other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from leadroute.adapters.memory import MemoryStore
from leadroute.adapters.registry import senders_for
from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.adapters.store.lifecycle_store import LifecycleStore
from leadroute.adapters.store.outbox_store import OutboxStore
from leadroute.adapters.store.sql import Store
from leadroute.adapters.store.timer_store import TimerStore
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.intent import Activity
from leadroute.domain.lead import Lead
from leadroute.domain.notify import OutboxMessage
from leadroute.domain.org import Org, Rep, build_org
from leadroute.ports import LifecycleLog, OutboxQueue
from leadroute.services.lifecycle import Lifecycle, act, events, reassignments
from leadroute.services.outbox import OutboxService, retry_dead
from tests.receivers import Reply, Request, http_receiver
from tests.services.fixtures import NOW, config

ENV = {"HOOK_SECRET": "s3cret"}
CONFIG = """
name: ports
pools:
  sales: {{members: [team:sales], fairness_window: all}}
queues:
  nurture: {{}}
sla:
  default: {{accept_within: 30m, remind_at: 0.5, max_reassignments: 1, then: nurture}}
notifications:
  channels:
    ops_hook: {{webhook: {{url: "{url}", secret_env: HOOK_SECRET}}}}
  send:
    assigned: [ops_hook]
    reassigned: [ops_hook]
  retry: {{max_attempts: 2, base_seconds: 10, max_seconds: 60}}
flow:
  - id: sales
    when: {{country: US}}
    then: {{distribute: sales}}
  - id: fallback
    fallback: true
    then: {{queue: nurture}}
"""


@dataclass
class Backend:
    """One store the services run on, through the ports; plus what a test needs to put leads
    in and to look at timers and loads."""

    name: str
    log: LifecycleLog
    outbox: OutboxQueue
    add: Any  # (Lead) -> None
    add_activity: Any  # (Activity) -> None
    session: Any  # () -> context manager of a session decisions are recorded in
    timers: Any  # (lead id) -> timer rows
    loads: Any  # () -> context manager of a RoutingState


def _org() -> Org:
    return build_org(
        reps=[Rep(id=r, name=f"Rep {r}", email=f"{r}@vendor.com", teams=("sales",)) for r in "ab"]
    )


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    org = _org()
    if request.param == "memory":
        memory = MemoryStore(org)
        yield Backend(
            "memory",
            memory,
            memory.outbox,
            memory.add_lead,
            memory.add_activity,
            memory.routing_session,
            memory.timers,
            lambda: _plain(memory.state),
        )
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ports.db'}"
    else:
        url = request.getfixturevalue("pg_schema_url")
    store = Store(url)
    store.migrate()
    store.save_org(org)
    yield Backend(
        request.param,
        LifecycleStore(store),
        OutboxStore(store),
        lambda lead: store.add_leads([lead]),
        lambda activity: ActivityStore(store).add([activity], received_at=NOW),
        lambda: store.routing_session(org, [], None),
        TimerStore(store).of_lead,
        lambda: store.routing_session(org, [], None),
    )
    store.dispose()


@contextmanager
def _plain(state: Any) -> Iterator[Any]:
    yield state


def _lead(lead_id: str) -> Lead:
    fields = {"email": f"{lead_id.lower()}@acme.com", "company": "Acme", "country": "US"}
    return Lead(lead_id, fields, "Web", "web_form", NOW)


def _decision(lead_id: str, rep_id: str, at: datetime, supersedes: int | None = None) -> Decision:
    return Decision(
        lead_id=lead_id,
        outcome=Outcome.ROUTED,
        reason=f"round robin in pool sales: {rep_id}",
        decided_at=at,
        node="sales",
        rep_id=rep_id,
        pool="sales",
        supersedes=supersedes,
    )


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _events(log: LifecycleLog, lead_id: str) -> list[tuple[Any, ...]]:
    return [
        (_aware(e["at"]), e["kind"], e["rep"], e["actor"], e["detail"])
        for e in events(log, lead_id)
    ]


def _timers(backend: Backend, lead_id: str) -> list[tuple[Any, ...]]:
    return [
        (t["kind"], t["status"], t["rep_id"], _aware(t["due_at"])) for t in backend.timers(lead_id)
    ]


def _open(backend: Backend, rep_id: str) -> int:
    with backend.loads() as state:
        return int(state.loads([rep_id], NOW)[rep_id].open)


def _routing_config(url: str = "http://127.0.0.1:9/hook") -> RoutingConfig:
    compiled, _ = config(_org(), CONFIG.format(url=url))
    return compiled


def _lifecycle(log: LifecycleLog, url: str = "http://127.0.0.1:9/hook") -> Lifecycle:
    return Lifecycle(log, _routing_config(url), _org(), lambda: NOW)


# -- the lifecycle ---------------------------------------------------------------------------------


def test_decisions_actions_and_events_are_the_same_on_every_store(backend: Backend) -> None:
    """A decision stages its event, SLA timers and messages; accept, contacted, convert and
    disqualify stop the clock, write their event and close the lead; a re-route cancels the
    old timers and counts as a reassignment; refusals are the same everywhere."""
    leads = [_lead(f"L{i}") for i in range(1, 5)]
    lifecycle = _lifecycle(backend.log)
    for lead in leads:
        backend.add(lead)
    with backend.session() as session:
        for lead in leads:
            decision = _decision(lead.id, "a", NOW)
            session.record(decision)
            assert lifecycle.on_decision(session, decision, lead=lead) == "assigned"

    assert _timers(backend, "L1") == [
        ("reminder", "pending", "a", NOW + timedelta(minutes=15)),
        ("breach", "pending", "a", NOW + timedelta(minutes=30)),
    ]
    queued = backend.outbox.list()
    assert [(m.channel, m.target, m.event, m.lead_id, m.status) for m in queued] == [
        ("webhook", "ops_hook", "lead.assigned", lead.id, "pending") for lead in leads
    ]
    assert queued[0].payload["lead"]["id"] == "L1"
    assert queued[0].payload["decision"]["rep"] == "a"
    assert _open(backend, "a") == 4

    later = NOW + timedelta(minutes=5)
    assert act(backend.log, "L1", "accept", now=later) == "routed"
    assert act(backend.log, "L2", "contacted", now=later) == "contacted"
    assert act(backend.log, "L3", "convert", now=later) == "converted"
    assert act(backend.log, "L4", "disqualify", now=later, actor="manager") == "disqualified"
    assert _open(backend, "a") == 1  # L1 was only accepted: still open
    for lead in leads:
        assert {status for _, status, _, _ in _timers(backend, lead.id)} == {"cancelled"}

    assigned = (NOW, "assigned", "a", "leadroute", {"route": "sales", "outcome": "routed"})
    assert _events(backend.log, "L1") == [assigned, (later, "accepted", "a", "a", {})]
    assert _events(backend.log, "L2") == [assigned, (later, "contacted", "a", "a", {})]
    assert _events(backend.log, "L3") == [assigned, (later, "converted", "a", "a", {})]
    assert _events(backend.log, "L4") == [assigned, (later, "disqualified", "a", "manager", {})]

    with pytest.raises(ValueError, match="'L2' is contacted, not assigned to a rep"):
        act(backend.log, "L2", "accept", now=later)
    with pytest.raises(LookupError, match="no lead 'L9'"):
        act(backend.log, "L9", "accept", now=later)
    with pytest.raises(ValueError, match="action must be one of"):
        act(backend.log, "L1", "escalate", now=later)
    assert len(_events(backend.log, "L2")) == 2  # a refused action writes nothing

    moved = NOW + timedelta(minutes=40)
    assert reassignments(backend.log, "L1") == 0
    with backend.session() as session:
        decision = _decision("L1", "b", moved, supersedes=1)
        session.record(decision, previous_owner="a")
        kind = lifecycle.on_decision(session, decision, previous_owner="a", cause="sla")
    assert kind == "reassigned"
    assert reassignments(backend.log, "L1") == 1
    assert _events(backend.log, "L1")[-1] == (
        moved,
        "reassigned",
        "b",
        "leadroute",
        {"route": "sales", "outcome": "routed", "from": "a", "cause": "sla"},
    )
    assert [t for t in _timers(backend, "L1") if t[1] == "pending"] == [
        ("reminder", "pending", "b", moved + timedelta(minutes=15)),
        ("breach", "pending", "b", moved + timedelta(minutes=30)),
    ]
    assert (_open(backend, "a"), _open(backend, "b")) == (0, 1)
    reassigned = backend.outbox.list(lead_id="L1")[-1]
    assert (reassigned.event, reassigned.payload["decision"]["rep"]) == ("lead.reassigned", "b")
    assert reassigned.payload["previous_rep"] == "a"


def test_a_lead_s_messages_carry_its_recent_activity_on_every_store(backend: Backend) -> None:
    """Without the lead at hand, a message's brief is built from the lead as stored and its
    latest activities (by lead id or email, newest first)."""
    backend.add(_lead("L1"))
    for minutes, kind, email in [(50, "page_view", "l1@acme.com"), (20, "webinar", None)]:
        at = NOW - timedelta(minutes=minutes)
        backend.add_activity(Activity(kind, at, email=email, lead_id=None if email else "L1"))
    backend.add_activity(Activity("pricing_page", NOW, email="other@acme.com"))
    record = _decision("L1", "a", NOW).as_record()
    (message,) = _lifecycle(backend.log).messages("assigned", record, None)
    assert message.payload["lead"]["fields"]["email"] == "l1@acme.com"
    assert message.payload["lead"]["source"] == "Web"
    recent = message.payload["brief"]["recent_activity"]
    assert [a["type"] for a in recent] == ["webinar", "page_view"]


# -- the outbox ------------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _messages(url: str, *lead_ids: str) -> list[OutboxMessage]:
    lifecycle = _lifecycle(MemoryStore(_org()), url)
    found: list[OutboxMessage] = []
    for lead_id in lead_ids:
        record = _decision(lead_id, "a", NOW).as_record()
        found += lifecycle.messages("assigned", record, _lead(lead_id))
    return found


def test_the_outbox_delivers_retries_and_buries_alike_on_every_store(backend: Backend) -> None:
    """Queued once per key; L1 is delivered, L2's receiver is busy (retried after the backoff,
    then dead after its last try), L3's refuses it (dead at once); re-driven, L3's goes out
    with the same delivery id. The receiver is a real HTTP server on 127.0.0.1."""
    refuse = {"L3"}

    def respond(request: Request) -> Reply:
        lead_id = request.json()["lead"]["id"]
        if lead_id == "L2":
            return Reply(503, "busy")
        return Reply(400, "no such hook") if lead_id in refuse else Reply(204)

    clock = Clock()
    with http_receiver(respond) as hook:
        model = _routing_config(hook.url("/hook")).notifications
        assert model is not None
        messages = _messages(hook.url("/hook"), "L1", "L2", "L3")
        assert backend.outbox.add_now(messages, NOW) == 3
        assert backend.outbox.add_now(messages, NOW) == 0  # the same keys: nothing new
        service = OutboxService(
            backend.outbox, model, None, senders=senders_for(model, None), env=ENV, clock=clock
        )
        first = service.deliver_due()
        assert (first.sent, first.retried, first.dead) == (1, 1, 1)
        assert service.deliver_due().tried == 0  # L2 waits for its backoff
        (waiting,) = backend.outbox.list(status="pending")
        assert (waiting.lead_id, waiting.attempts) == ("L2", 1)
        assert waiting.next_attempt_at == NOW + timedelta(seconds=10)
        assert waiting.last_error is not None and "503" in waiting.last_error

        clock.now += timedelta(seconds=10)
        second = service.deliver_due()
        assert (second.sent, second.retried, second.dead) == (0, 0, 1)  # out of tries

        dead = backend.outbox.list(status="dead")
        assert [(m.lead_id, m.attempts) for m in dead] == [("L2", 2), ("L3", 1)]
        refuse.clear()
        (again,) = retry_dead(backend.outbox, now=clock(), ids=[dead[1].id])
        assert (again.lead_id, again.status) == ("L3", "dead")  # as it was while dead
        with pytest.raises(LookupError, match="is pending, not dead"):
            retry_dead(backend.outbox, now=clock(), ids=[dead[1].id])
        assert service.deliver_due().sent == 1
        service.close()

    assert backend.outbox.counts() == {"pending": 0, "sending": 0, "sent": 2, "dead": 1}
    by_key = {m.key: m for m in messages}
    sent = [(r.json()["lead"]["id"], r.headers["x-leadroute-delivery"]) for r in hook.requests]
    assert sorted(sent) == sorted(
        [("L1", messages[0].key), ("L3", messages[2].key)]
        + [("L2", messages[1].key)] * 2
        + [("L3", messages[2].key)]
    )
    for request in hook.requests:
        key = request.headers["x-leadroute-delivery"]
        assert json.loads(request.body) == json.loads(json.dumps(by_key[key].payload))


def test_a_claim_holds_for_its_lease_and_is_fenced_on_every_store(backend: Backend) -> None:
    """A claimed message is not claimed again before its lease ends; after, a new claim takes
    it (its try counted again) and the first claimer can no longer record an outcome. One
    lead's second message waits while its first is pending or being sent."""
    first, other = _messages("http://127.0.0.1:9/hook", "L1", "L2")
    follow_up = OutboxMessage(
        first.channel, first.target, "lead.reminder", "L1", {"n": 2}, first.key + ":2"
    )
    outbox = backend.outbox
    assert outbox.add_now([first, other, follow_up], NOW) == 3
    lease = timedelta(minutes=5)
    claimed = outbox.claim_due(10, NOW, lease=lease)
    assert [(m.lead_id, m.event, m.status, m.attempts) for m in claimed] == [
        ("L1", "lead.assigned", "sending", 1),
        ("L2", "lead.assigned", "sending", 1),
    ]  # L1's reminder waits for its assignment
    assert outbox.claim_due(10, NOW + timedelta(minutes=4), lease=lease) == []
    (retaken,) = outbox.claim_due(1, NOW + lease, lease=lease)
    assert (retaken.id, retaken.attempts) == (claimed[0].id, 2)
    assert not outbox.mark_sent(claimed[0], now=NOW)  # the stale claim
    assert not outbox.record_failure(claimed[0], status="dead", due=NOW, error="late")
    assert outbox.mark_sent(retaken, now=NOW + lease)
    assert outbox.mark_sent(claimed[1], now=NOW + lease)  # L2's claim was never taken over
    (reminder,) = outbox.claim_due(10, NOW + lease, lease=lease)
    assert (reminder.lead_id, reminder.event, reminder.payload) == ("L1", "lead.reminder", {"n": 2})
    assert outbox.get(retaken.id) == outbox.list(status="sent")[0]
    assert outbox.get(10_000) is None
    assert outbox.counts() == {"pending": 0, "sending": 1, "sent": 2, "dead": 0}
