"""A lead's lifecycle as values: the events that happen to it, the SLA timers a decision sets,
the rep's actions, and everything one decision sets off (written with the decision, at once).

Pure: services.lifecycle decides these; the stores (SQL, memory) keep them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadroute.domain.decision import Decision
from leadroute.domain.notify import OutboxMessage

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
# Events that take a lead from a rep and give it to another, or to the SLA's queue.
REASSIGNING = ("reassigned", "recycled")


@dataclass(frozen=True, slots=True)
class LifecycleEvent:
    """One thing that happened to a lead: assigned, reminded, accepted, converted..."""

    lead_id: str
    at: datetime
    kind: str
    rep_id: str | None = None
    actor: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        """The event as the API, the console and the CLI show it."""
        return {
            "at": self.at,
            "kind": self.kind,
            "rep": self.rep_id,
            "actor": self.actor,
            "detail": dict(self.detail),
        }


@dataclass(frozen=True, slots=True)
class SlaTimer:
    """A timer a decision sets: `breach` when the SLA runs out, `reminder` before."""

    lead_id: str
    kind: str
    due_at: datetime
    rep_id: str
    created_at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DecisionEffects:
    """What one decision sets off, stored in the decision's transaction: its lifecycle event,
    the lead's earlier timers cancelled (a re-route), its new timers, its messages (queued,
    due at `event.at`)."""

    event: LifecycleEvent
    cancel_timers: bool = False
    timers: tuple[SlaTimer, ...] = ()
    messages: tuple[OutboxMessage, ...] = ()


def event_kind(decision: Decision, *, previous_owner: str | None, cause: str | None) -> str:
    """The lifecycle event a decision is: assigned, reassigned, queued, recycled, held..."""
    if decision.rep_id is not None:
        return "reassigned" if previous_owner is not None else "assigned"
    if decision.queue is not None:
        return "recycled" if cause == "sla" else "queued"
    return decision.outcome.value
