"""Reports over stored leads and decisions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadroute.adapters.store.sql import Store

DEFAULT_FIELDS = (
    "email",
    "first_name",
    "last_name",
    "company",
    "title",
    "phone",
    "country",
    "state",
    "industry",
    "employees",
    "annual_revenue",
    "domain",
    "lead_source",
)


@dataclass
class Completeness:
    """For each attribute, how many leads lack it, and how many leads each gap kept from sales."""

    leads: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    blocked: Counter[str] = field(default_factory=Counter)
    held_incomplete: int = 0
    fields: tuple[str, ...] = ()

    def share_missing(self, name: str) -> float:
        return self.missing[name] / self.leads if self.leads else 0.0

    def rows(self) -> list[tuple[str, int, float, int]]:
        """(field, leads missing it, share, leads it blocked), most blocking first."""
        rows = [(f, self.missing[f], self.share_missing(f), self.blocked[f]) for f in self.fields]
        return sorted(rows, key=lambda r: (-r[3], -r[1], r[0]))

    def as_record(self) -> dict[str, object]:
        return {
            "leads": self.leads,
            "held_incomplete": self.held_incomplete,
            "fields": [
                {"field": f, "missing": n, "share_missing": round(share, 4), "blocked": b}
                for f, n, share, b in self.rows()
            ],
        }


def completeness(
    store: Store,
    *,
    since: datetime | None = None,
    batch_id: str | None = None,
    fields: Iterable[str] = (),
) -> Completeness:
    """Share of leads missing each attribute, and the leads each gap blocked (held as
    incomplete by the minimal viable lead), for a batch or a period. Rejected rows are left out:
    they never became leads."""
    report = Completeness()
    wanted = dict.fromkeys(fields or DEFAULT_FIELDS)
    held_ids: list[str] = []
    for stored in store.iter_leads(since=since, batch_id=batch_id):
        if stored.status == "rejected":
            continue
        report.leads += 1
        data = stored.lead.fields
        for name in wanted:
            value = data.get(name)
            if value is None or value == "" or value == []:
                report.missing[name] += 1
        if stored.status == "held":
            held_ids.append(stored.lead.id)
    for decision in store.current_decisions(held_ids):
        gaps = decision.record.get("missing") or []
        if gaps:
            report.held_incomplete += 1
            for name in gaps:
                report.blocked[name] += 1
                wanted.setdefault(name)
    report.fields = tuple(wanted)
    return report


# -- performance: speed to lead and conversion, by route, rep, config, source or segment -------

GROUPINGS = ("route", "rep", "config", "source", "segment")
TOUCHES = ("accepted", "contacted", "converted", "disqualified")


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Performance:
    """One group's leads: what became of them, how fast, how many converted."""

    key: str
    leads: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    to_assign: list[float] = field(default_factory=list)  # seconds, capture -> decision
    to_touch: list[float] = field(default_factory=list)  # seconds, capture -> first touch
    converted: int = 0
    disqualified: int = 0

    @property
    def conversion(self) -> float | None:
        """Converted among the leads worked to an end (converted or disqualified)."""
        closed = self.converted + self.disqualified
        return self.converted / closed if closed else None

    def as_record(self) -> dict[str, Any]:
        def seconds(value: float | None) -> float | None:
            return round(value, 1) if value is not None else None

        return {
            "key": self.key,
            "leads": self.leads,
            "outcomes": dict(self.outcomes),
            "speed_to_assign_p50_s": seconds(_quantile(self.to_assign, 0.5)),
            "speed_to_assign_p90_s": seconds(_quantile(self.to_assign, 0.9)),
            "touched": len(self.to_touch),
            "speed_to_touch_p50_s": seconds(_quantile(self.to_touch, 0.5)),
            "speed_to_touch_p90_s": seconds(_quantile(self.to_touch, 0.9)),
            "converted": self.converted,
            "disqualified": self.disqualified,
            "conversion": round(self.conversion, 4) if self.conversion is not None else None,
        }


def performance(
    store: Store,
    *,
    by: str = "route",
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Performance]:
    """Speed to lead (capture to decision, capture to first touch) and conversion of the
    leads captured in a period, grouped by their current route, rep, config version, source or
    size segment. Rejected rows are left out."""
    if by not in GROUPINGS:
        raise ValueError(f"group by one of {', '.join(GROUPINGS)}")
    org = store.load_org() if by == "segment" else None
    leads = {
        s.lead.id: s
        for s in store.iter_leads(since=since)
        if s.status != "rejected"
        and (until is None or (s.lead.received_at is not None and s.lead.received_at < until))
    }
    touched = store.first_events(list(leads), TOUCHES)
    groups: dict[str, Performance] = {}
    for decision in store.current_decisions(list(leads)):
        stored = leads[decision.lead_id]
        record = decision.record
        if by == "route":
            key = decision.node or "(none)"
        elif by == "rep":
            key = decision.rep_id or (f"queue:{decision.queue}" if decision.queue else "(none)")
        elif by == "config":
            config = record.get("config") or {}
            key = f"#{config.get('seq')} {config.get('name', '')}".strip()
        elif by == "source":
            key = stored.lead.source or stored.lead.channel or "(unknown)"
        else:
            assert org is not None
            key = org.segment_of(stored.lead.fields) or "(unknown)"
        group = groups.setdefault(key, Performance(key))
        group.leads += 1
        group.outcomes[stored.status] += 1
        received = stored.lead.received_at
        first = _first_decided(store, decision) if decision.supersedes else decision.decided_at
        if received is not None:
            group.to_assign.append(max(0.0, (first - received).total_seconds()))
            touch = touched.get(decision.lead_id)
            if touch is not None:
                group.to_touch.append(max(0.0, (touch - received).total_seconds()))
        group.converted += stored.status == "converted"
        group.disqualified += stored.status == "disqualified"
    return sorted(groups.values(), key=lambda g: (-g.leads, g.key))


def _first_decided(store: Store, decision: Any) -> datetime:
    """When the lead was first decided (a re-routed lead's speed counts from its first)."""
    history = store.decisions(decision.lead_id)
    return history[0].decided_at if history else decision.decided_at
