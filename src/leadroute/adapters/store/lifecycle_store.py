"""A lead's lifecycle in the SQL store: its events, its SLA timers, what a decision sets off.

Implements the `LifecycleLog` port. A decision's effects are staged on the `RoutingSession` it
is recorded in, so the decision, its event, its timers and its messages commit together; an
action on a lead holds the lead's row (PostgreSQL: FOR UPDATE) while its timers are cancelled
and its event is written, in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.adapters.store.outbox_store import outbox_rows
from leadroute.adapters.store.service_tables import lead_events, outbox, timers
from leadroute.adapters.store.sql import Store
from leadroute.domain.intent import Activity
from leadroute.domain.lead import Lead
from leadroute.domain.lifecycle import DecisionEffects, LifecycleEvent, SlaTimer
from leadroute.ports import DecisionSession


def event_row(event: LifecycleEvent) -> dict[str, Any]:
    """The `lead_events` row of an event."""
    return {
        "lead_id": event.lead_id,
        "at": event.at,
        "kind": event.kind,
        "rep_id": event.rep_id,
        "actor": event.actor,
        "detail": dict(event.detail),
    }


def timer_row(timer: SlaTimer) -> dict[str, Any]:
    """The `timers` row of a new (pending) SLA timer."""
    return {
        "lead_id": timer.lead_id,
        "kind": timer.kind,
        "due_at": timer.due_at,
        "status": "pending",
        "rep_id": timer.rep_id,
        "created_at": timer.created_at,
        "detail": dict(timer.detail),
    }


class HeldRow:
    """A lead's row held in a write transaction (see `LifecycleStore.hold`)."""

    def __init__(self, conn: Connection, lead_id: str, status: str, owner_id: str | None) -> None:
        self._conn, self.lead_id = conn, lead_id
        self.status, self.owner_id = status, owner_id

    def cancel_timers(self, at: datetime) -> None:
        self._conn.execute(
            update(timers)
            .where(timers.c.lead_id == self.lead_id, timers.c.status == "pending")
            .values(status="cancelled", fired_at=at)
        )

    def add_event(self, event: LifecycleEvent) -> None:
        self._conn.execute(lead_events.insert().values(**event_row(event)))


class LifecycleStore:
    """The `LifecycleLog` of a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.activities = ActivityStore(store)

    def lead(self, lead_id: str) -> Lead | None:
        stored = self.store.lead(lead_id)
        return stored.lead if stored is not None else None

    def recent_activities(self, *, email: str | None, lead_id: str, limit: int) -> list[Activity]:
        return self.activities.recent(email=email, lead_id=lead_id, limit=limit)

    def stage(self, session: DecisionSession, effects: DecisionEffects) -> None:
        """Stage on a `RoutingSession`: its flush cancels the timers, then writes the event,
        the timers and the messages (a message whose key is queued already is skipped)."""
        lead_id = effects.event.lead_id
        session.stage(lead_events, [event_row(effects.event)])
        if effects.cancel_timers:
            session.cancel_timers(lead_id)
        if effects.timers:
            session.stage(timers, [timer_row(timer) for timer in effects.timers])
        if effects.messages:
            session.stage(outbox, outbox_rows(effects.messages, effects.event.at))

    @contextmanager
    def hold(self, lead_id: str) -> Iterator[HeldRow | None]:
        with self.store.write() as conn:
            query = select(t.leads.c.status, t.leads.c.owner_id).where(t.leads.c.id == lead_id)
            if self.store.dialect == "postgresql":
                query = query.with_for_update()
            row = conn.execute(query).first()
            yield HeldRow(conn, lead_id, row.status, row.owner_id) if row is not None else None

    def close_lead(self, lead_id: str, status: str) -> bool:
        return self.store.close_lead(lead_id, status)

    def events(self, lead_id: str) -> list[LifecycleEvent]:
        query = (
            select(lead_events)
            .where(lead_events.c.lead_id == lead_id)
            .order_by(lead_events.c.at, lead_events.c.id)
        )
        with self.store.engine.connect() as conn:
            return [
                LifecycleEvent(
                    lead_id=row["lead_id"],
                    at=row["at"],
                    kind=row["kind"],
                    rep_id=row["rep_id"],
                    actor=row["actor"],
                    detail=row["detail"] or {},
                )
                for row in conn.execute(query).mappings()
            ]

    def count_events(self, lead_id: str, kinds: Sequence[str]) -> int:
        query = select(func.count()).where(
            lead_events.c.lead_id == lead_id, lead_events.c.kind.in_(list(kinds))
        )
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
