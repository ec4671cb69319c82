"""The Decision: what routing decided for one lead, and every step of why."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from leadroute.domain.distribution import Candidate, PoolState


class Outcome(StrEnum):
    ROUTED = "routed"
    HELD = "held"
    UNROUTED = "unrouted"
    REJECTED = "rejected"


Getter = Callable[[Mapping[str, Any]], Any]


@dataclass(slots=True)
class NodeTrace:
    """One node tried. The values it compared are read from the lead's data when recorded."""

    node: str
    name: str
    matched: bool
    data: Mapping[str, Any]
    getters: tuple[tuple[str, Getter], ...] = ()
    condition: str = ""
    action: str | None = None
    result: str | None = None
    pool: str | None = None
    candidates: tuple[Candidate, ...] = ()

    @property
    def values(self) -> dict[str, Any]:
        return {name: get(self.data) for name, get in self.getters}

    def as_record(self, seen: dict[str, Any] | None = None) -> dict[str, Any]:
        """The node's part of the record; `seen` shares field values read by earlier nodes."""
        if seen is None:
            values = self.values
        else:
            values = {}
            for name, get in self.getters:
                if name not in seen:
                    seen[name] = get(self.data)
                values[name] = seen[name]
        record: dict[str, Any] = {"node": self.node}
        if self.name != self.node:
            record["name"] = self.name
        record["condition"] = self.condition
        record["matched"] = self.matched
        record["values"] = values
        if self.action:
            record["action"] = self.action
        if self.result:
            record["result"] = self.result
        if self.pool:
            record["pool"] = self.pool
            record["candidates"] = [c.as_record() for c in self.candidates]
        return record


@dataclass(slots=True)
class Decision:
    lead_id: str
    outcome: Outcome
    reason: str
    decided_at: datetime
    config_name: str = ""
    config_hash: str = ""
    config_seq: int | None = None
    node: str | None = None
    rep_id: str | None = None
    queue: str | None = None
    redirect_url: str | None = None
    message: str | None = None
    booking_link: str | None = None
    how: str | None = None
    nodes: list[NodeTrace] = field(default_factory=list)
    account: dict[str, Any] | None = None
    pool: str | None = None
    pool_state: PoolState | None = None
    timings: dict[str, float] = field(default_factory=dict)
    supersedes: int | None = None
    missing: list[str] = field(default_factory=list)
    data_quality: dict[str, Any] = field(default_factory=dict)
    duplicate_of: str | None = None
    scores: dict[str, Any] = field(default_factory=dict)
    _record: dict[str, Any] | None = field(default=None, repr=False, compare=False)

    @property
    def assigned(self) -> bool:
        return self.rep_id is not None

    def as_record(self) -> dict[str, Any]:
        """The permanent, JSON-ready decision record (built once, when first asked for)."""
        if self._record is None:
            self._record = self._build_record()
        return self._record

    def _build_record(self) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        return {
            "lead_id": self.lead_id,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "decided_at": self.decided_at.isoformat(),
            "config": {"name": self.config_name, "hash": self.config_hash, "seq": self.config_seq},
            "route": self.node,
            "rep": self.rep_id,
            "queue": self.queue,
            "redirect_url": self.redirect_url,
            "message": self.message,
            "booking_link": self.booking_link,
            "how": self.how,
            "pool": self.pool,
            "account": self.account,
            "nodes": [n.as_record(seen) for n in self.nodes],
            "timings": self.timings,
            "supersedes": self.supersedes,
            "missing": self.missing,
            "duplicate_of": self.duplicate_of,
            "data_quality": self.data_quality,
            "scores": self.scores,
        }


def rejected(lead_id: str, reason: str, at: datetime) -> Decision:
    return Decision(lead_id=lead_id, outcome=Outcome.REJECTED, reason=reason, decided_at=at)
