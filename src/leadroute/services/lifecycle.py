"""A lead's life after routing: lifecycle events, SLA timers, and the rep's actions.

States: new -> assigned (a rep) or queued (nurture, self-serve...) or held/unrouted ->
accepted -> contacted -> converted | disqualified; an assigned lead nobody accepts in time is
reminded, escalated, reassigned, and after `max_reassignments` recycled to the SLA's queue.

What a decision sets off is staged on its routing session, so the decision, its lifecycle event
and its SLA timers are written in one transaction: a crash never leaves an assigned lead without
its timers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.adapters.store.outbox_store import outbox_rows
from leadroute.adapters.store.service_tables import lead_events, outbox, timers
from leadroute.adapters.store.sql import RoutingSession, Store
from leadroute.domain.brief import build_brief
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.lead import Lead
from leadroute.domain.notify import OutboxMessage, notify_event, plan
from leadroute.domain.org import Org
from leadroute.domain.sla import deadlines

# Lead actions, and the status each leaves the lead in (None: it stays routed, still open).
ACTIONS: dict[str, str | None] = {
    "accept": None,
    "contacted": "contacted",
    "convert": "converted",
    "disqualify": "disqualified",
}
EVENT_OF_ACTION = {
    "accept": "accepted",
    "contacted": "contacted",
    "convert": "converted",
    "disqualify": "disqualified",
}


def event_kind(decision: Decision, *, previous_owner: str | None, cause: str | None) -> str:
    """The lifecycle event a decision is: assigned, reassigned, queued, recycled, held..."""
    if decision.rep_id is not None:
        return "reassigned" if previous_owner is not None else "assigned"
    if decision.queue is not None:
        return "recycled" if cause == "sla" else "queued"
    return decision.outcome.value


@dataclass
class Lifecycle:
    """Stages events and timers for decisions; carries out the rep's actions."""

    store: Store
    config: RoutingConfig
    org: Org
    clock: Callable[[], datetime]

    def on_decision(
        self,
        session: RoutingSession,
        decision: Decision,
        *,
        previous_owner: str | None = None,
        cause: str | None = None,
        lead: Lead | None = None,
    ) -> str:
        kind = event_kind(decision, previous_owner=previous_owner, cause=cause)
        detail: dict[str, Any] = {"route": decision.node, "outcome": decision.outcome.value}
        if decision.queue:
            detail["queue"] = decision.queue
        if previous_owner:
            detail["from"] = previous_owner
        if cause:
            detail["cause"] = cause
        session.stage(
            lead_events,
            [
                {
                    "lead_id": decision.lead_id,
                    "at": decision.decided_at,
                    "kind": kind,
                    "rep_id": decision.rep_id,
                    "actor": "leadroute",
                    "detail": detail,
                }
            ],
        )
        if previous_owner is not None or decision.supersedes is not None:
            session.cancel_timers(decision.lead_id)
        if decision.rep_id is not None and decision.duplicate_of is None:
            session.stage(timers, self.timers_for(decision))
        event = notify_event(kind)
        if event is not None and (self.config.notifications or self.config.crm):
            messages = self.messages(event, decision.as_record(), lead, previous_rep=previous_owner)
            session.stage(outbox, outbox_rows(messages, decision.decided_at))
        return kind

    def messages(
        self,
        event: str,
        record: Mapping[str, Any],
        lead: Lead | None,
        *,
        previous_rep: str | None = None,
        occurrence: str | None = None,
    ) -> list[OutboxMessage]:
        """The notifications and CRM updates of one event, with the lead's context bundle
        (its brief: who, account, scores and reasons, recent activity, why this rep)."""
        lead_id = str(record.get("lead_id"))
        if lead is None:
            stored = self.store.lead(lead_id)
            lead = stored.lead if stored is not None else Lead(lead_id, {})
        email = lead.fields.get("email")
        recent = ActivityStore(self.store).recent(
            email=email.strip().lower() if isinstance(email, str) and email else None,
            lead_id=lead_id,
            limit=5,
        )
        brief = build_brief(lead_id, lead.fields, record, recent)
        return plan(
            event,
            record,
            brief,
            self.org,
            self.config.notifications,
            self.config.crm,
            lead_fields=lead.fields,
            source=lead.source,
            previous_rep=previous_rep,
            occurrence=occurrence,
        )

    def timers_for(self, decision: Decision) -> list[dict[str, Any]]:
        sla = self.config.sla
        if sla is None or decision.rep_id is None:
            return []
        rule = sla.rule_for(decision.node)
        if rule is None:
            return []
        rep = self.org.reps.get(decision.rep_id)
        due = deadlines(rule, rep, decision.decided_at, holidays=sla.holiday_country(rep))
        base = {
            "lead_id": decision.lead_id,
            "status": "pending",
            "rep_id": decision.rep_id,
            "created_at": decision.decided_at,
            "detail": {"route": decision.node, "accept_within_minutes": rule.accept_within},
        }
        rows = [{**base, "kind": "breach", "due_at": due.due_at}]
        if due.remind_at is not None:
            rows.append({**base, "kind": "reminder", "due_at": due.remind_at})
        return rows


def act(store: Store, lead_id: str, action: str, *, now: datetime, actor: str | None = None) -> str:
    """accept, contacted, convert or disqualify an assigned lead; returns its status.

    Every action stops the lead's SLA clock. Only a lead routed to a rep can be acted on.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    status = ACTIONS[action]
    with store.write() as conn:
        query = select(t.leads.c.status, t.leads.c.owner_id).where(t.leads.c.id == lead_id)
        if store.dialect == "postgresql":
            query = query.with_for_update()
        row = conn.execute(query).first()
        if row is None:
            raise LookupError(f"no lead '{lead_id}'")
        if row.status != Outcome.ROUTED.value or row.owner_id is None:
            raise ValueError(
                f"lead '{lead_id}' is {row.status}, not assigned to a rep: nothing to {action}"
            )
        conn.execute(
            update(timers)
            .where(timers.c.lead_id == lead_id, timers.c.status == "pending")
            .values(status="cancelled", fired_at=now)
        )
        conn.execute(
            lead_events.insert().values(
                lead_id=lead_id,
                at=now,
                kind=EVENT_OF_ACTION[action],
                rep_id=row.owner_id,
                actor=actor or row.owner_id,
                detail={},
            )
        )
    if status is not None and not store.close_lead(lead_id, status):
        raise LookupError(f"lead '{lead_id}' is no longer an open, routed lead")
    return status or Outcome.ROUTED.value


def events(store: Store, lead_id: str) -> list[dict[str, Any]]:
    """A lead's lifecycle, oldest first."""
    query = (
        select(lead_events)
        .where(lead_events.c.lead_id == lead_id)
        .order_by(lead_events.c.at, lead_events.c.id)
    )
    with store.engine.connect() as conn:
        return [
            {
                "at": row["at"],
                "kind": row["kind"],
                "rep": row["rep_id"],
                "actor": row["actor"],
                "detail": row["detail"] or {},
            }
            for row in conn.execute(query).mappings()
        ]


def reassignments(store: Store, lead_id: str) -> int:
    """How many times the lead was taken from a rep and given to another, or recycled."""
    query = select(func.count()).where(
        lead_events.c.lead_id == lead_id, lead_events.c.kind.in_(("reassigned", "recycled"))
    )
    with store.engine.connect() as conn:
        return int(conn.execute(query).scalar_one())
