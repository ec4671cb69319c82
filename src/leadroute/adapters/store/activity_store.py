"""Engagement activities in the SQL store: written once (a resent event id is not counted
twice), read per person and per account for intent, and searched for leads parked in a hold or a
nurture queue whom new activity may wake up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.scoring_tables import activities
from leadroute.adapters.store.sql import Store, aware
from leadroute.domain.decision import Outcome
from leadroute.domain.intent import Activity

_IN_CHUNK = 900  # keeps IN lists under SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class LeadRef:
    """What ties a stored lead to activity: its email and matched account."""

    id: str
    email: str | None
    account_id: str | None
    status: str
    queue: str | None


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield list(values[start : start + _IN_CHUNK])


def _activity(row: Mapping[Any, Any]) -> Activity:
    return Activity(
        type=row["type"],
        occurred_at=aware(row["occurred_at"]),
        email=row["email"],
        lead_id=row["lead_id"],
        account_id=row["account_id"],
        domain=row["domain"],
        url=row["url"],
        product=row["product"],
        source=row["source"],
        key=row["key"],
        properties=row["properties"] or {},
    )


class ActivityStore:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.engine = store.engine

    def add(self, items: Sequence[Activity], *, received_at: datetime) -> list[bool]:
        """Store activities; for each, True if stored, False if its event id was seen before
        (in the store, or earlier in `items`)."""
        keys = [a.key for a in items if a.key]
        known: set[str] = set()
        with self.store.write() as conn:
            for part in _chunks(keys):
                query = select(activities.c.key).where(activities.c.key.in_(part))
                known.update(k for (k,) in conn.execute(query))
            stored: list[bool] = []
            rows: list[dict[str, Any]] = []
            for activity in items:
                if activity.key is not None and activity.key in known:
                    stored.append(False)
                    continue
                if activity.key is not None:
                    known.add(activity.key)
                stored.append(True)
                rows.append(
                    {
                        "key": activity.key,
                        "type": activity.type,
                        "occurred_at": activity.occurred_at,
                        "email": activity.email,
                        "lead_id": activity.lead_id,
                        "account_id": activity.account_id,
                        "domain": activity.domain,
                        "url": activity.url,
                        "product": activity.product,
                        "source": activity.source,
                        "properties": dict(activity.properties) or None,
                        "received_at": received_at,
                    }
                )
            if rows:
                stmt = self.store.insert(activities).on_conflict_do_nothing(index_elements=["key"])
                conn.execute(stmt, rows)
        return stored

    def for_people(
        self, emails: Sequence[str], lead_ids: Sequence[str], *, since: datetime
    ) -> dict[str, dict[int, Activity]]:
        """Activities since `since` keyed by person, 'email:<address>' and 'lead:<id>' (an
        event with both is under both), each a map of event id -> activity."""
        found: dict[str, dict[int, Activity]] = defaultdict(dict)
        emails, lead_ids = sorted(set(emails)), sorted(set(lead_ids))
        half = _IN_CHUNK // 2
        c = activities.c
        columns = (c.id, c.type, c.occurred_at, c.email, c.lead_id, c.product)
        with self.engine.connect() as conn:
            for start in range(0, max(len(emails), len(lead_ids)), half):
                some_emails = emails[start : start + half]
                some_ids = lead_ids[start : start + half]
                query = select(*columns).where(
                    or_(c.email.in_(some_emails), c.lead_id.in_(some_ids)),
                    c.occurred_at >= since,
                )
                for row in conn.execute(query):
                    activity = Activity(
                        row.type,
                        aware(row.occurred_at),
                        email=row.email,
                        lead_id=row.lead_id,
                        product=row.product,
                    )
                    if row.email:
                        found[f"email:{row.email}"][row.id] = activity
                    if row.lead_id:
                        found[f"lead:{row.lead_id}"][row.id] = activity
        return found

    def for_accounts(
        self,
        account_ids: Sequence[str] | None,
        *,
        since: datetime,
        types: Sequence[str] | None = None,
        domains: Mapping[str, str] | None = None,
    ) -> dict[str, list[Activity]]:
        """Each account's activities since `since` (every account with activity if None).

        `domains` (account id -> domain) also counts activity that arrived before its company
        was an account: unlinked events whose domain is the account's."""
        found: dict[str, list[Activity]] = defaultdict(list)
        base = select(activities).where(activities.c.occurred_at >= since)
        if types is not None:
            base = base.where(activities.c.type.in_(list(types)))
        linked = base.where(activities.c.account_id.is_not(None))
        queries = (
            [linked]
            if account_ids is None
            else [
                linked.where(activities.c.account_id.in_(part))
                for part in _chunks(sorted(set(account_ids)))
            ]
        )
        owners = {domain: account for account, domain in (domains or {}).items() if domain}
        unlinked = base.where(activities.c.account_id.is_(None))
        queries += [
            unlinked.where(activities.c.domain.in_(part)) for part in _chunks(sorted(owners))
        ]
        with self.engine.connect() as conn:
            for query in queries:
                for row in conn.execute(query.order_by(activities.c.occurred_at)).mappings():
                    account_id = row["account_id"] or owners[row["domain"]]
                    found[account_id].append(_activity(row))
        return found

    def recent(self, *, email: str | None, lead_id: str, limit: int = 10) -> list[Activity]:
        """A person's latest activities, newest first."""
        where = activities.c.lead_id == lead_id
        if email:
            where = or_(where, activities.c.email == email)
        query = select(activities).where(where).order_by(activities.c.occurred_at.desc())
        with self.engine.connect() as conn:
            return [_activity(r) for r in conn.execute(query.limit(limit)).mappings()]

    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(activities)).scalar_one())

    def leads(self, lead_ids: Sequence[str]) -> dict[str, LeadRef]:
        """Stored leads by id, with their email and matched account."""
        found: dict[str, LeadRef] = {}
        with self.engine.connect() as conn:
            for part in _chunks(sorted(set(lead_ids))):
                query = select(*_REF_COLUMNS).where(t.leads.c.id.in_(part))
                for row in conn.execute(query).mappings():
                    found[row["id"]] = _ref(row)
        return found

    def parked(
        self,
        *,
        emails: Sequence[str],
        lead_ids: Sequence[str],
        account_ids: Sequence[str],
        held: bool,
        queues: Sequence[str],
    ) -> list[LeadRef]:
        """Leads held (if `held`) or routed to one of `queues` that belong to one of these
        people or accounts: the ones new activity may move across a threshold."""
        parked = []
        if held:
            parked.append(t.leads.c.status == Outcome.HELD.value)
        if queues:
            parked.append(
                (t.leads.c.status == Outcome.ROUTED.value) & t.leads.c.queue.in_(list(queues))
            )
        if not parked:
            return []
        email = func.lower(t.leads.c.data["email"].as_string())
        found: dict[str, LeadRef] = {}
        with self.engine.connect() as conn:
            for column, values in (
                (email, emails),
                (t.leads.c.id, lead_ids),
                (t.leads.c.account_id, account_ids),
            ):
                for part in _chunks(sorted(set(values))):
                    query = select(*_REF_COLUMNS).where(or_(*parked), column.in_(part))
                    for row in conn.execute(query).mappings():
                        found[row["id"]] = _ref(row)
        return sorted(found.values(), key=lambda ref: ref.id)


_REF_COLUMNS = (
    t.leads.c.id,
    t.leads.c.data["email"].as_string().label("email"),
    t.leads.c.account_id,
    t.leads.c.status,
    t.leads.c.queue,
)


def _ref(row: Mapping[Any, Any]) -> LeadRef:
    email = row["email"]
    return LeadRef(
        row["id"],
        email.strip().lower() if isinstance(email, str) and email.strip() else None,
        row["account_id"],
        row["status"],
        row["queue"],
    )
