"""Erasing a person (GDPR art. 17): their personal data goes, the counts stay.

`erase_person` finds every lead of the person (by email, case-insensitively, or by a lead's
id; then every lead sharing one of their emails and their duplicates) and, in one transaction:

- leads: personal fields (email, names, phones, street, title, LinkedIn, free text...) in the
  cleaned data and the raw input become "[erased]"; company, location and ids stay;
- decisions: personal values compared by each node, data-quality changes and flags on personal
  fields, and any text quoting the person become "[erased]"; the account stays;
- activities of the person (by lead or email): email, URL and properties are blanked; type,
  time, lead, account and domain stay, so intent counts and account surges stay;
- outbox messages of their leads: the payload becomes an erased marker, the status stays;
- stored API answers (idempotency) of or naming their leads: the answer becomes the marker;
- SLA timers and lifecycle events of their leads: personal values in the details go;
- any other row quoting one of their emails has the address replaced;
- cached enrichment answers looked up by their email or phone are deleted (a cache);
- one `erased` lifecycle event per lead records that it happened, with no personal data.

No row of leads, decisions, activities or the outbox is deleted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadroute.domain.lifecycle import LifecycleEvent
from leadroute.domain.privacy import PersonRows, is_personal
from leadroute.ports import PersonErasure

_PHONE = re.compile(r"^\+?[\d\s().-]{7,}$")


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure touched (no personal data in it: ids and counts only)."""

    lead_ids: tuple[str, ...]
    linked: tuple[str, ...]  # leads found through duplicate links
    rows: Mapping[str, int]  # the person's rows rewritten, per table
    mentions: Mapping[str, int]  # other rows rewritten because they quoted the person
    fields: Mapping[str, tuple[str, ...]]  # personal fields erased, per lead
    cached_lookups: int  # cached enrichment answers deleted
    events: int  # `erased` lifecycle events written
    at: datetime
    dry_run: bool = False

    @property
    def found(self) -> bool:
        return (
            bool(self.lead_ids)
            or any(self.rows.values())
            or any(self.mentions.values())
            or self.cached_lookups > 0
        )

    def as_record(self) -> dict[str, Any]:
        return {
            "lead_ids": list(self.lead_ids),
            "linked": list(self.linked),
            "rows": dict(self.rows),
            "mentions": dict(self.mentions),
            "fields": {k: list(v) for k, v in self.fields.items()},
            "cached_lookups": self.cached_lookups,
            "events": self.events,
            "at": self.at.isoformat(),
            "dry_run": self.dry_run,
        }


def erase_person(
    erasure: PersonErasure,
    *,
    email: str | None = None,
    lead_id: str | None = None,
    now: datetime,
    actor: str | None = None,
    dry_run: bool = False,
) -> ErasureReport:
    """Erase the person with this email or owning this lead; see the module's docstring.

    `actor` (who asked, e.g. an API key's name) goes on the lifecycle events. With `dry_run`
    everything is done and reported, then rolled back. `erasure` is where the person's rows
    are (the store's: `adapters.registry.person_erasure(store)`)."""
    if (email is None) == (lead_id is None):
        raise ValueError("give exactly one of email and lead_id")
    if email is not None and "@" not in email:
        raise ValueError(f"'{email}' is not an email address")
    with erasure.erasure(keep=not dry_run) as work:
        person = work.find(email=email, lead_id=lead_id)
        ids = sorted(person.leads)
        rows, mentions, fields = work.erase(person, lead_ids=ids, at=now.isoformat())
        cached = work.forget_lookups(_lookup_values(person))
        requested = "email" if email is not None else "lead_id"
        events = [
            LifecycleEvent(
                i,
                now,
                "erased",
                actor=actor,
                detail={"fields": sorted(fields.get(i, ())), "requested_by": requested},
            )
            for i in ids
        ]
        work.add_events(events)
    return ErasureReport(
        lead_ids=tuple(ids),
        linked=tuple(sorted(person.linked)),
        rows=rows,
        mentions={k: v for k, v in mentions.items() if v},
        fields={i: tuple(sorted(fields.get(i, ()))) for i in ids},
        cached_lookups=cached,
        events=len(events),
        at=now,
        dry_run=dry_run,
    )


def _lookup_values(person: PersonRows) -> set[str]:
    """What enrichment lookups of the person were keyed by: emails and phone numbers."""
    found = set(person.emails)
    for data, raw in person.leads.values():
        for fields in (data, raw or {}):
            for key, value in fields.items():
                if isinstance(value, str) and is_personal(key) and _PHONE.match(value.strip()):
                    found.add(value.strip())
    return found
