"""Erasure in the SQL store: find one person's rows and rewrite them, inside the caller's
transaction. Rows are rewritten in Python (JSON is stored as JSON on PostgreSQL and as text on
SQLite), never deleted, so counts stay; only cached enrichment answers about the person go.

Which rows: the person's leads (by email in any email field of the cleaned or raw data,
case-insensitively, or by id; then the other leads of every email found, and the leads they are
duplicates of or that are duplicates of them), their decisions, activities (by lead or email),
outbox messages, stored API answers, SLA timers and lifecycle events; and in every other row,
any text that quotes one of the person's email addresses ("mentions").
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    Table,
    Text,
    cast,
    delete,
    false,
    func,
    or_,
    select,
    true,
    update,
)

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.enrichment_tables import enrichment_cache
from leadroute.adapters.store.lifecycle_store import event_row
from leadroute.adapters.store.scoring_tables import activities
from leadroute.adapters.store.service_tables import idempotency, lead_events, outbox, timers
from leadroute.adapters.store.sql import Store
from leadroute.domain.lifecycle import LifecycleEvent
from leadroute.domain.privacy import (
    ERASED,
    PersonRows,
    PersonScrubber,
    emails_in,
    erased_marker,
)

__all__ = ["Erasure", "ErasureStore", "PersonRows", "PrivacyStore"]

_IN_CHUNK = 500


@dataclass(frozen=True)
class _Part:
    """A table the erasure visits: its key, the column tying a row to a lead, the columns
    that may hold personal text (JSON or plain)."""

    name: str
    table: Table
    key: str
    lead_column: str
    columns: tuple[str, ...]


_PARTS: tuple[_Part, ...] = (
    _Part("leads", t.leads, "id", "id", ("data", "raw", "reason")),
    _Part("decisions", t.decisions, "id", "lead_id", ("record", "reason")),
    _Part("activities", activities, "id", "lead_id", ("email", "url", "properties", "key")),
    _Part("outbox", outbox, "id", "lead_id", ("payload", "last_error", "key")),
    _Part("idempotency", idempotency, "key", "lead_id", ("response", "key")),
    _Part("timers", timers, "id", "lead_id", ("detail",)),
    _Part("lead_events", lead_events, "id", "lead_id", ("detail",)),
)


def _needle(text: str) -> str:
    """How `text` appears inside stored JSON, lower-cased."""
    return orjson.dumps(text.casefold()).decode()[1:-1]


def _mentioning(columns: Iterable[Column[Any]], needles: Iterable[str]) -> ColumnElement[bool]:
    """Rows whose columns contain one of `needles` (lower-cased text as stored, see
    `_needle`). A needle that is not ASCII matches every row (SQLite folds ASCII only):
    Python decides."""
    needles = sorted(set(needles))
    if not needles:
        return false()
    if not all(n.isascii() for n in needles):
        return true()
    return or_(
        *(
            func.lower(cast(column, Text)).contains(n, autoescape=True)
            for column in columns
            for n in needles
        )
    )


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


class PrivacyStore:
    """The SQL side of erasing one person; every method runs in the caller's transaction."""

    def __init__(self, token: Callable[[], str] = lambda: secrets.token_hex(8)) -> None:
        self.token = token  # replaces a unique key that quotes the person

    def find(self, conn: Connection, *, email: str | None, lead_id: str | None) -> PersonRows:
        """The person's leads and emails: by email and id, then by every email they use and
        their duplicate links, until nothing new turns up."""
        person = PersonRows()
        want_emails = {email.strip().casefold()} if email else set()
        want_ids = {lead_id} if lead_id else set()
        seen_emails: set[str] = set()
        while want_emails or want_ids:
            rows: list[Mapping[Any, Any]] = []
            for part in _chunks(want_ids - set(person.leads)):
                rows += conn.execute(select(t.leads).where(t.leads.c.id.in_(part))).mappings()
            if want_emails:
                query = select(t.leads).where(
                    _mentioning((t.leads.c.data, t.leads.c.raw), map(_needle, want_emails))
                )
                for found in conn.execute(query).mappings():
                    if (emails_in(found["data"]) | emails_in(found["raw"])) & want_emails:
                        rows.append(found)
            person.emails |= want_emails
            seen_emails |= want_emails
            fresh = [r for r in rows if r["id"] not in person.leads]
            for row in fresh:
                person.leads[row["id"]] = (row["data"], row["raw"])
            want_emails = set()
            for row in fresh:
                want_emails |= emails_in(row["data"]) | emails_in(row["raw"])
            want_emails -= seen_emails
            want_ids = {r["duplicate_of"] for r in fresh if r["duplicate_of"]}
            for part in _chunks({r["id"] for r in fresh}):
                want_ids |= set(
                    conn.scalars(select(t.leads.c.id).where(t.leads.c.duplicate_of.in_(part)))
                )
            want_ids -= set(person.leads)
            person.linked |= want_ids
        person.linked &= set(person.leads)
        return person

    def erase(
        self, conn: Connection, person: PersonRows, *, lead_ids: Sequence[str], at: str
    ) -> tuple[dict[str, int], dict[str, int], dict[str, set[str]]]:
        """Rewrite the person's rows and every mention of their emails.

        Returns (rows rewritten per table, other rows rewritten per table because they quoted
        the person, personal fields erased per lead)."""
        full = person.scrubber()
        quoted = PersonScrubber(person.emails)
        ids = set(lead_ids)
        own: dict[str, int] = {}
        others: dict[str, int] = {}
        erased_fields: dict[str, set[str]] = {i: set() for i in ids}
        for part in _PARTS:
            table = part.table
            lead_col = table.c[part.lead_column]
            done: set[Any] = set()
            count = 0
            selectors: list[ColumnElement[bool]] = [lead_col.in_(c) for c in _chunks(ids)]
            if part.name == "activities" and person.emails:
                selectors.append(activities.c.email.in_(sorted(person.emails)))
            for selector in selectors:
                for row in conn.execute(select(table).where(selector)).mappings().all():
                    if row[part.key] in done:
                        continue
                    done.add(row[part.key])
                    changes = self._own(part, row, full, at, erased_fields)
                    count += self._apply(conn, part, row, changes)
            own[part.name] = count
            count = 0
            needles = {_needle(e) for e in person.emails}
            if part.name == "idempotency":
                needles |= {f'"{_needle(i)}"' for i in ids}
            columns = [table.c[c] for c in part.columns]
            quoting = select(table).where(_mentioning(columns, needles))
            for row in conn.execute(quoting).mappings().all():
                if row[part.key] in done:
                    continue
                changes = self._quoted(part, row, quoted, ids, at)
                count += self._apply(conn, part, row, changes)
            others[part.name] = count
        return own, others, erased_fields

    def forget_lookups(self, conn: Connection, values: Iterable[str]) -> int:
        """Delete cached enrichment answers looked up by, or quoting, the person's values."""
        needles = {_needle(v) for v in values if len(v) >= 6 and ERASED not in v}
        if not needles:
            return 0
        query = delete(enrichment_cache).where(
            _mentioning((enrichment_cache.c.key, enrichment_cache.c.fields), needles)
        )
        return int(conn.execute(query).rowcount or 0)

    # -- per table -----------------------------------------------------------------------------

    def _own(
        self,
        part: _Part,
        row: Mapping[Any, Any],
        scrub: PersonScrubber,
        at: str,
        erased_fields: dict[str, set[str]],
    ) -> dict[str, Any]:
        name = part.name
        if name == "leads":
            data, in_data = scrub.fields(row["data"])
            raw, in_raw = scrub.fields(row["raw"])
            erased_fields.setdefault(row["id"], set()).update(in_data | in_raw)
            return {"data": data, "raw": raw, "reason": _text(scrub, row["reason"])}
        if name == "decisions":
            return {"record": scrub.record(row["record"]), "reason": scrub.text(row["reason"])}
        if name == "activities":
            return {
                "email": None,
                "url": None,
                "properties": None,
                "key": self._key(scrub, row["key"]),
            }
        if name == "outbox":
            payload = row["payload"]
            done = isinstance(payload, dict) and payload.get("erased") is True
            return {
                "payload": payload if done else erased_marker(at),
                "last_error": _text(scrub, row["last_error"]),
                "key": self._key(scrub, row["key"]),
            }
        if name == "idempotency":
            response = row["response"]
            done = isinstance(response, dict) and response.get("erased") is True
            return {
                "response": response if done else erased_marker(at),
                "key": self._key(scrub, row["key"]),
            }
        return {"detail": scrub.record(row["detail"])}

    def _quoted(
        self, part: _Part, row: Mapping[Any, Any], scrub: PersonScrubber, ids: set[str], at: str
    ) -> dict[str, Any]:
        """Changes to a row that is not the person's but quotes them."""
        changes: dict[str, Any] = {}
        for column in part.columns:
            value = row[column]
            if column == "key":
                changes["key"] = self._key(scrub, value)
            elif column == "email":
                changes["email"] = None if value and scrub.mentions(value) else value
            elif part.name == "idempotency" and column == "response":
                if scrub.mentions(value) or _names_lead(value, ids):
                    changes["response"] = erased_marker(at)
            else:
                changes[column] = scrub.deep(value)
        return changes

    def _key(self, scrub: PersonScrubber, key: str | None) -> str | None:
        if key is None or not scrub.mentions(key):
            return key
        return f"erased:{self.token()}"

    def _apply(
        self, conn: Connection, part: _Part, row: Mapping[Any, Any], changes: dict[str, Any]
    ) -> int:
        changed = {k: v for k, v in changes.items() if v != row[k]}
        if not changed:
            return 0
        key = part.table.c[part.key]
        conn.execute(update(part.table).where(key == row[part.key]).values(**changed))
        return 1


def _text(scrub: PersonScrubber, value: str | None) -> str | None:
    return scrub.text(value) if value is not None else None


def _names_lead(value: Any, ids: set[str]) -> bool:
    """True if a JSON value holds one of the lead ids as a whole string."""
    if isinstance(value, str):
        return value in ids
    if isinstance(value, list):
        return any(_names_lead(v, ids) for v in value)
    if isinstance(value, dict):
        return any(_names_lead(v, ids) for v in value.values())
    return False


class Erasure:
    """One erasure's transaction (the `ErasureWork` port): find the person, rewrite their
    rows, forget cached lookups, write the `erased` events."""

    def __init__(self, privacy: PrivacyStore, conn: Connection) -> None:
        self._privacy, self._conn = privacy, conn

    def find(self, *, email: str | None, lead_id: str | None) -> PersonRows:
        return self._privacy.find(self._conn, email=email, lead_id=lead_id)

    def erase(
        self, person: PersonRows, *, lead_ids: Sequence[str], at: str
    ) -> tuple[dict[str, int], dict[str, int], dict[str, set[str]]]:
        return self._privacy.erase(self._conn, person, lead_ids=lead_ids, at=at)

    def forget_lookups(self, values: Iterable[str]) -> int:
        return self._privacy.forget_lookups(self._conn, values)

    def add_events(self, events: Sequence[LifecycleEvent]) -> None:
        if events:
            self._conn.execute(lead_events.insert(), [event_row(e) for e in events])


class ErasureStore:
    """The `PersonErasure` of a `Store`."""

    def __init__(self, store: Store, *, privacy: PrivacyStore | None = None) -> None:
        self.store = store
        self.privacy = privacy if privacy is not None else PrivacyStore()

    @contextmanager
    def erasure(self, *, keep: bool = True) -> Iterator[Erasure]:
        """An erasure in one write transaction: committed at the end if `keep`, else rolled
        back (a dry run); rolled back on an error either way."""
        with self.store.write() as conn:
            work = Erasure(self.privacy, conn)
            yield work
            if not keep:
                conn.rollback()
