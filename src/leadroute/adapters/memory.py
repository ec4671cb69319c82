"""In process memory: the routing state (simulations, check --leads, backtests, benchmarks),
and a store of leads, their lifecycle and the outbox that services run on without a database
(tests/services/test_memory_ports.py runs them on it and on the SQL store alike)."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.distribution import PoolState, RepLoad
from leadroute.domain.intent import Activity
from leadroute.domain.lead import Lead
from leadroute.domain.lifecycle import DecisionEffects, LifecycleEvent
from leadroute.domain.notify import OutboxMessage
from leadroute.domain.org import Org, periods_at, periods_of_minute
from leadroute.domain.outbox import (
    DEAD,
    DEFAULT_LEASE,
    MAX_ERROR,
    PENDING,
    SENDING,
    SENT,
    STATUSES,
    OutboxRow,
    utc,
)
from leadroute.ports import DecisionSession

if TYPE_CHECKING:
    from leadroute.ports import HeldLead, LifecycleLog, OutboxQueue, RoutingState


class MemoryRoutingState:
    """Implements the RoutingState port and applies decisions, all in process memory."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.pools: dict[str, PoolState] = {}
        self.counters: dict[tuple[str, str], int] = defaultdict(int)
        self.open: dict[str, int] = defaultdict(int)
        self.sticky: dict[tuple[str, str], str] = {}
        self._load_cache: dict[str, tuple[datetime, RepLoad]] = {}

    def pool_state(self, pool_id: str) -> PoolState:
        return self.pools.get(pool_id) or PoolState()

    def loads(self, rep_ids: Sequence[str], now: datetime) -> Mapping[str, RepLoad]:
        result = {}
        minute = now.replace(second=0, microsecond=0)
        cache = self._load_cache
        for rep_id in rep_ids:
            hit = cache.get(rep_id)
            if hit is not None and hit[0] == minute:
                result[rep_id] = hit[1]
                continue
            rep = self.org.reps.get(rep_id)
            if rep is None:
                continue
            keys = periods_of_minute(rep.timezone, minute)
            load = RepLoad(
                day=self.counters[(rep_id, keys["day"])],
                week=self.counters[(rep_id, keys["week"])],
                month=self.counters[(rep_id, keys["month"])],
                open=self.open[rep_id],
            )
            cache[rep_id] = (minute, load)
            result[rep_id] = load
        return result

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None:
        return self.sticky.get((pool_id, account_key))

    def apply(self, decision: Decision, account_key: str | None = None) -> None:
        """Record what a decision changes: pool fairness, rep counters, open load, stickiness."""
        if decision.pool is not None and decision.pool_state is not None:
            self.pools[decision.pool] = decision.pool_state
            if account_key and decision.rep_id:
                self.sticky[(decision.pool, account_key)] = decision.rep_id
        rep_id = decision.rep_id
        if rep_id is None:
            return
        self._load_cache.pop(rep_id, None)
        rep = self.org.reps.get(rep_id)
        if rep is not None:
            for key in periods_at(rep.timezone, decision.decided_at).values():
                self.counters[(rep_id, key)] += 1
        self.open[rep_id] += 1

    def close(self, rep_id: str) -> None:
        """A lead of this rep was worked or closed: one fewer open lead."""
        self._load_cache.pop(rep_id, None)
        if self.open[rep_id] > 0:
            self.open[rep_id] -= 1


class MemoryOutbox:
    """Implements the OutboxQueue port in process memory, with the SQL outbox's rules: one
    message per key, due messages claimed oldest due first for a lease, one lead's messages to
    one receiver in the order they were queued, outcomes fenced by the try count claimed.
    Thread-safe (the outbox service sends several messages at once)."""

    def __init__(self) -> None:
        self._rows: dict[int, OutboxRow] = {}
        self._keys: set[str] = set()
        self._lock = threading.Lock()

    def add_now(self, messages: Iterable[OutboxMessage], now: datetime) -> int:
        """Queue messages due at `now`; a key queued already is skipped. Returns how many
        were new."""
        now = utc(now)
        added = 0
        with self._lock:
            for message in messages:
                if message.key in self._keys:
                    continue
                self._keys.add(message.key)
                ident = len(self._rows) + 1
                self._rows[ident] = OutboxRow(
                    id=ident,
                    key=message.key,
                    channel=message.channel,
                    target=message.target,
                    event=message.event,
                    lead_id=message.lead_id,
                    payload=json.loads(json.dumps(message.payload, default=str)),  # as stored
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    last_error=None,
                    created_at=now,
                    sent_at=None,
                )
                added += 1
        return added

    def claim_due(
        self, limit: int, now: datetime, *, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxRow]:
        now = utc(now)
        active = (PENDING, SENDING)
        with self._lock:
            rows = sorted(self._rows.values(), key=lambda r: r.id)
            held = set()  # (lead, channel, target) with an earlier active message
            due = []
            for row in rows:
                line = (row.lead_id, row.channel, row.target)
                if row.status not in active:
                    continue
                if row.next_attempt_at <= now and (row.lead_id is None or line not in held):
                    due.append(row)
                held.add(line)
            due.sort(key=lambda r: (r.next_attempt_at, r.id))
            claimed = []
            for row in due[:limit]:
                taken = replace(
                    row, status=SENDING, attempts=row.attempts + 1, next_attempt_at=now + lease
                )
                self._rows[row.id] = taken
                claimed.append(taken)
        return claimed

    def mark_sent(self, row: OutboxRow, *, now: datetime) -> bool:
        return self._if_claimed(row, status=SENT, sent_at=utc(now), last_error=None)

    def record_failure(self, row: OutboxRow, *, status: str, due: datetime, error: str) -> bool:
        return self._if_claimed(
            row, status=status, next_attempt_at=utc(due), last_error=error[:MAX_ERROR]
        )

    def _if_claimed(self, row: OutboxRow, **changes: Any) -> bool:
        with self._lock:
            current = self._rows.get(row.id)
            if current is None or current.status != SENDING or current.attempts != row.attempts:
                return False
            self._rows[row.id] = replace(current, **changes)
            return True

    def get(self, message_id: int) -> OutboxRow | None:
        with self._lock:
            return self._rows.get(message_id)

    def list(
        self, *, status: str | None = None, lead_id: str | None = None, limit: int | None = None
    ) -> list[OutboxRow]:
        with self._lock:
            rows = [
                r
                for _, r in sorted(self._rows.items())
                if (status is None or r.status == status)
                and (lead_id is None or r.lead_id == lead_id)
            ]
        return rows[:limit] if limit is not None else rows

    def retry_dead(self, message_id: int, *, now: datetime) -> bool:
        with self._lock:
            row = self._rows.get(message_id)
            if row is None or row.status != DEAD:
                return False
            self._rows[message_id] = replace(
                row, status=PENDING, attempts=0, next_attempt_at=utc(now)
            )
            return True

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        with self._lock:
            for row in self._rows.values():
                counts[row.status] += 1
        return counts


@dataclass
class MemoryLead:
    """A lead as the memory store keeps it."""

    lead: Lead
    status: str = "new"
    owner_id: str | None = None
    queue: str | None = None
    reason: str | None = None


class MemorySession:
    """Decisions recorded in memory, with what they set off staged (the `DecisionSession`
    port): everything applies when the session ends without an error, or nothing does."""

    def __init__(self) -> None:
        self.decisions: list[tuple[Decision, str | None, str | None]] = []
        self.staged: list[tuple[Any, list[dict[str, Any]]]] = []
        self.cancelled: set[str] = set()

    def record(
        self,
        decision: Decision,
        *,
        account_key: str | None = None,
        previous_owner: str | None = None,
    ) -> None:
        self.decisions.append((decision, account_key, previous_owner))

    def stage(self, table: Any, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.staged.append((table, rows))

    def cancel_timers(self, lead_id: str) -> None:
        self.cancelled.add(lead_id)


class MemoryHeld:
    """A lead held for one action (the `HeldLead` port); its changes apply when the action
    ends without an error."""

    def __init__(self, lead: MemoryLead) -> None:
        self.lead = lead
        self.cancel_at: datetime | None = None
        self.events: list[LifecycleEvent] = []

    @property
    def status(self) -> str:
        return self.lead.status

    @property
    def owner_id(self) -> str | None:
        return self.lead.owner_id

    def cancel_timers(self, at: datetime) -> None:
        self.cancel_at = at

    def add_event(self, event: LifecycleEvent) -> None:
        self.events.append(event)


class MemoryStore:
    """Leads, their decisions and lifecycle (events, SLA timers), activities and the outbox, in
    process memory: implements the `LifecycleLog` port (with `MemorySession` and `MemoryHeld`)
    and, as `outbox`, the `OutboxQueue` port, for services run without a database."""

    def __init__(self, org: Org | None = None) -> None:
        self.leads: dict[str, MemoryLead] = {}
        self.decisions: dict[str, list[Decision]] = defaultdict(list)
        self.state = MemoryRoutingState(org if org is not None else Org())
        self.outbox = MemoryOutbox()
        self.activities: list[Activity] = []
        self._events: list[LifecycleEvent] = []
        self._timers: list[dict[str, Any]] = []
        self._lock = threading.RLock()

    # -- filling it --------------------------------------------------------------------------

    def add_lead(self, lead: Lead) -> None:
        with self._lock:
            self.leads.setdefault(lead.id, MemoryLead(lead))

    def add_activity(self, activity: Activity) -> None:
        with self._lock:
            self.activities.append(activity)

    @contextmanager
    def routing_session(self) -> Iterator[MemorySession]:
        """Decisions and their effects, applied together at the end (none on an error)."""
        session = MemorySession()
        yield session
        with self._lock:
            self._apply(session)

    def _apply(self, session: MemorySession) -> None:
        for decision, account_key, previous_owner in session.decisions:
            lead = self.leads.get(decision.lead_id)
            if lead is not None:  # as in SQL: a decision about no stored lead updates none
                lead.status, lead.owner_id = decision.outcome.value, decision.rep_id
                lead.queue, lead.reason = decision.queue, decision.reason
            self.decisions[decision.lead_id].append(decision)
            if decision.duplicate_of is None:
                self.state.apply(decision, account_key)
            if previous_owner is not None:
                self.state.close(previous_owner)
        now = datetime.now(UTC)
        for lead_id in session.cancelled:
            self._cancel(lead_id, now)
        for table, rows in session.staged:
            if table == "lead_events":
                self._events.extend(row["event"] for row in rows)
            elif table == "timers":
                self._timers.extend(
                    {
                        "id": len(self._timers) + i + 1,
                        "lead_id": timer.lead_id,
                        "kind": timer.kind,
                        "due_at": timer.due_at,
                        "status": "pending",
                        "rep_id": timer.rep_id,
                        "created_at": timer.created_at,
                        "fired_at": None,
                        "detail": dict(timer.detail),
                    }
                    for i, timer in enumerate(row["timer"] for row in rows)
                )
            else:
                for row in rows:
                    self.outbox.add_now(row["messages"], row["at"])

    def _cancel(self, lead_id: str, at: datetime) -> None:
        for timer in self._timers:
            if timer["lead_id"] == lead_id and timer["status"] == "pending":
                timer.update(status="cancelled", fired_at=at)

    def timers(self, lead_id: str | None = None) -> list[dict[str, Any]]:
        """SLA timers, oldest due first (of one lead, or all)."""
        with self._lock:
            found = [dict(t) for t in self._timers if lead_id is None or t["lead_id"] == lead_id]
        return sorted(found, key=lambda t: (t["due_at"], t["id"]))

    # -- LifecycleLog ------------------------------------------------------------------------

    def lead(self, lead_id: str) -> Lead | None:
        found = self.leads.get(lead_id)
        return found.lead if found is not None else None

    def recent_activities(self, *, email: str | None, lead_id: str, limit: int) -> list[Activity]:
        with self._lock:
            mine = [
                a for a in self.activities if a.lead_id == lead_id or (email and a.email == email)
            ]
        return sorted(mine, key=lambda a: a.occurred_at, reverse=True)[:limit]

    def stage(self, session: DecisionSession, effects: DecisionEffects) -> None:
        session.stage("lead_events", [{"event": effects.event}])
        if effects.cancel_timers:
            session.cancel_timers(effects.event.lead_id)
        session.stage("timers", [{"timer": timer} for timer in effects.timers])
        if effects.messages:
            session.stage("outbox", [{"messages": effects.messages, "at": effects.event.at}])

    @contextmanager
    def hold(self, lead_id: str) -> Iterator[MemoryHeld | None]:
        with self._lock:
            lead = self.leads.get(lead_id)
            held = MemoryHeld(lead) if lead is not None else None
            yield held
            if held is not None:
                if held.cancel_at is not None:
                    self._cancel(lead_id, held.cancel_at)
                self._events.extend(held.events)

    def close_lead(self, lead_id: str, status: str) -> bool:
        with self._lock:
            lead = self.leads.get(lead_id)
            if lead is None or lead.status != Outcome.ROUTED.value:
                return False
            lead.status = status
            if lead.owner_id is not None:
                self.state.close(lead.owner_id)
            return True

    def events(self, lead_id: str) -> list[LifecycleEvent]:
        with self._lock:
            mine = [(e.at, i, e) for i, e in enumerate(self._events) if e.lead_id == lead_id]
        return [event for _, _, event in sorted(mine, key=lambda found: found[:2])]

    def count_events(self, lead_id: str, kinds: Sequence[str]) -> int:
        with self._lock:
            return sum(1 for e in self._events if e.lead_id == lead_id and e.kind in kinds)


if TYPE_CHECKING:  # mypy checks that the memory adapters implement their ports

    def _ports(
        store: MemoryStore, held: MemoryHeld, session: MemorySession
    ) -> tuple[RoutingState, LifecycleLog, HeldLead, DecisionSession, OutboxQueue]:
        return store.state, store, held, session, store.outbox
