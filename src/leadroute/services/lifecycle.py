"""A lead's life after routing: lifecycle events, SLA timers, and the rep's actions.

States: new -> assigned (a rep) or queued (nurture, self-serve...) or held/unrouted ->
accepted -> contacted -> converted | disqualified; an assigned lead nobody accepts in time is
reminded, escalated, reassigned, and after `max_reassignments` recycled to the SLA's queue.

What a decision sets off is staged on its routing session, so the decision, its lifecycle event
and its SLA timers are written in one transaction: a crash never leaves an assigned lead without
its timers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from leadroute.adapters import registry
from leadroute.adapters.store.sql import Store
from leadroute.domain.brief import build_brief
from leadroute.domain.config import RoutingConfig
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.lead import Lead
from leadroute.domain.lifecycle import (
    ACTIONS,
    EVENT_OF_ACTION,
    REASSIGNING,
    DecisionEffects,
    LifecycleEvent,
    SlaTimer,
    event_kind,
)
from leadroute.domain.notify import OutboxMessage, notify_event, plan
from leadroute.domain.org import Org
from leadroute.domain.sla import deadlines
from leadroute.ports import Clock, DecisionSession, LifecycleLog

__all__ = ["ACTIONS", "EVENT_OF_ACTION", "Lifecycle", "act", "event_kind", "events"]


def _log_of(source: LifecycleLog | Store) -> LifecycleLog:
    """The lifecycle log to use. `Lifecycle` and `act` take the SQL store itself too, as long
    as services.routing (on the allow-list of tests/test_architecture.py while it is rewritten
    with RoutingSession) hands it over."""
    return registry.lifecycle_log(source) if isinstance(source, Store) else source


class Lifecycle:
    """Stages events, timers and messages for decisions."""

    def __init__(
        self, log: LifecycleLog | Store, config: RoutingConfig, org: Org, clock: Clock
    ) -> None:
        self.log = _log_of(log)
        self.config = config
        self.org = org
        self.clock = clock

    def on_decision(
        self,
        session: DecisionSession,
        decision: Decision,
        *,
        previous_owner: str | None = None,
        cause: str | None = None,
        lead: Lead | None = None,
    ) -> str:
        """Stage what `decision` sets off on the session it is recorded in: its event, the
        lead's earlier timers cancelled (a re-route), its SLA timers, its messages. Returns the
        event's kind."""
        kind = event_kind(decision, previous_owner=previous_owner, cause=cause)
        detail: dict[str, Any] = {"route": decision.node, "outcome": decision.outcome.value}
        if decision.queue:
            detail["queue"] = decision.queue
        if previous_owner:
            detail["from"] = previous_owner
        if cause:
            detail["cause"] = cause
        timers: list[SlaTimer] = []
        if decision.rep_id is not None and decision.duplicate_of is None:
            timers = self.timers_for(decision)
        messages: list[OutboxMessage] = []
        event = notify_event(kind)
        if event is not None and (self.config.notifications or self.config.crm):
            messages = self.messages(event, decision.as_record(), lead, previous_rep=previous_owner)
        effects = DecisionEffects(
            event=LifecycleEvent(
                decision.lead_id, decision.decided_at, kind, decision.rep_id, "leadroute", detail
            ),
            cancel_timers=previous_owner is not None or decision.supersedes is not None,
            timers=tuple(timers),
            messages=tuple(messages),
        )
        self.log.stage(session, effects)
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
            lead = self.log.lead(lead_id) or Lead(lead_id, {})
        email = lead.fields.get("email")
        recent = self.log.recent_activities(
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

    def timers_for(self, decision: Decision) -> list[SlaTimer]:
        """The SLA timers of a decision giving the lead to a rep: the breach, and the reminder
        if the rule has one."""
        sla = self.config.sla
        if sla is None or decision.rep_id is None:
            return []
        rule = sla.rule_for(decision.node)
        if rule is None:
            return []
        rep = self.org.reps.get(decision.rep_id)
        due = deadlines(rule, rep, decision.decided_at, holidays=sla.holiday_country(rep))
        detail = {"route": decision.node, "accept_within_minutes": rule.accept_within}
        timers = [
            SlaTimer(
                decision.lead_id,
                "breach",
                due.due_at,
                decision.rep_id,
                decision.decided_at,
                detail,
            )
        ]
        if due.remind_at is not None:
            timers.append(
                SlaTimer(
                    decision.lead_id,
                    "reminder",
                    due.remind_at,
                    decision.rep_id,
                    decision.decided_at,
                    detail,
                )
            )
        return timers


def act(
    log: LifecycleLog | Store,
    lead_id: str,
    action: str,
    *,
    now: datetime,
    actor: str | None = None,
) -> str:
    """accept, contacted, convert or disqualify an assigned lead; returns its status.

    Every action stops the lead's SLA clock. Only a lead routed to a rep can be acted on.
    """
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    status = ACTIONS[action]
    lifecycle = _log_of(log)
    with lifecycle.hold(lead_id) as held:
        if held is None:
            raise LookupError(f"no lead '{lead_id}'")
        owner = held.owner_id
        if held.status != Outcome.ROUTED.value or owner is None:
            raise ValueError(
                f"lead '{lead_id}' is {held.status}, not assigned to a rep: nothing to {action}"
            )
        held.cancel_timers(now)
        held.add_event(
            LifecycleEvent(lead_id, now, EVENT_OF_ACTION[action], owner, actor or owner, {})
        )
    if status is not None and not lifecycle.close_lead(lead_id, status):
        raise LookupError(f"lead '{lead_id}' is no longer an open, routed lead")
    return status or Outcome.ROUTED.value


def events(log: LifecycleLog, lead_id: str) -> list[dict[str, Any]]:
    """A lead's lifecycle, oldest first."""
    return [event.as_record() for event in log.events(lead_id)]


def reassignments(log: LifecycleLog, lead_id: str) -> int:
    """How many times the lead was taken from a rep and given to another, or recycled."""
    return log.count_events(lead_id, REASSIGNING)
