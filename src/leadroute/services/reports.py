"""Reports over stored leads and decisions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

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
