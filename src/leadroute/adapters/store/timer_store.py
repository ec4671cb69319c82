"""SLA timers as the worker sees them: claim the due ones, move a claimed one on (with its
lifecycle event, in one transaction), list a lead's."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update

from leadroute.adapters.store import lease
from leadroute.adapters.store.outbox_store import OutboxStore
from leadroute.adapters.store.service_tables import lead_events, timers
from leadroute.adapters.store.sql import Store
from leadroute.ports import TimerMessages


class TimerStore:
    """The `TimerQueue` of a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.outbox = OutboxStore(store)

    def claim_due(self, now: datetime, *, lease_for: timedelta, limit: int) -> list[dict[str, Any]]:
        """Up to `limit` due timers (and ones whose claimer's lease ran out), oldest due first,
        marked `firing` (a breach already escalated stays `escalated`: it is not escalated
        twice). Each carries its claim time as `token`: a later step changes the timer only
        while the token is still there, so a claimer whose lease ran out cannot act on it."""
        expired = now - lease_for
        due = (
            select(timers.c.id)
            .where(timers.c.due_at <= now)
            .where(
                or_(
                    timers.c.status == "pending",
                    and_(timers.c.status.in_(("firing", "escalated")), timers.c.fired_at < expired),
                )
            )
            .order_by(timers.c.due_at, timers.c.id)
            .limit(limit)
        )
        status = case((timers.c.status == "escalated", "escalated"), else_="firing")
        with self.store.write() as conn:
            rows = lease.claim(
                conn,
                self.store.dialect,
                due,
                table=timers,
                values={"status": status, "fired_at": now},
            )
        for row in rows:
            row["token"] = now
        return rows

    def step(
        self,
        timer: dict[str, Any],
        status: str,
        *,
        at: datetime,
        event: str | None = None,
        on_step: TimerMessages | None = None,
    ) -> bool:
        """Move a claimed timer to `status` (with its lifecycle event and the messages
        `on_step` gives for it, queued in the same transaction) if its claim still holds;
        False if another claimer took it over."""
        with self.store.write() as conn:
            moved = conn.execute(
                update(timers)
                .where(
                    timers.c.id == timer["id"],
                    timers.c.status == timer["status"],
                    timers.c.fired_at == timer["token"],
                )
                .values(status=status)
            ).rowcount
            if moved != 1:
                return False
            timer["status"] = status
            if event is not None:
                conn.execute(
                    lead_events.insert().values(
                        lead_id=timer["lead_id"],
                        at=at,
                        kind=event,
                        rep_id=timer["rep_id"],
                        actor="leadroute",
                        detail={"timer": timer["id"], "due_at": timer["due_at"].isoformat()},
                    )
                )
                if on_step is not None:
                    self.outbox.add(conn, on_step(event, timer), at)
        return True

    def of_lead(self, lead_id: str | None = None) -> list[dict[str, Any]]:
        """Timers, oldest due first (of one lead, or all)."""
        query = select(timers).order_by(timers.c.due_at, timers.c.id)
        if lead_id is not None:
            query = query.where(timers.c.lead_id == lead_id)
        with self.store.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
