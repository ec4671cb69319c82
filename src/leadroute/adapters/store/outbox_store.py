"""The outbox: messages queued with the change that caused them, delivered by workers.

A message is `pending` until it is due, `sending` while a worker holds it, then `sent`, or
`dead` once it may not be retried (a permanent error, or max_attempts tries).

Claiming is one short transaction: due messages are picked (PostgreSQL: FOR UPDATE SKIP LOCKED,
so workers never wait on each other; SQLite: BEGIN IMMEDIATE, one writer at a time), and each is
set to `sending` with its try counted and `next_attempt_at` moved to the end of a lease. Another
worker does not see it again until the lease ends, so a message is sent once; if its worker
dies, the message is claimed again after the lease. The try count claimed is the fence: a
worker whose lease ran out (the message was claimed again) cannot overwrite the newer outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select, update

from leadroute.adapters.store.lease import claim
from leadroute.adapters.store.service_tables import outbox
from leadroute.adapters.store.sql import Store
from leadroute.domain.notify import OutboxMessage
from leadroute.domain.outbox import (
    DEAD,
    DEFAULT_LEASE,
    MAX_ERROR,
    PENDING,
    SENDING,
    SENT,
    STATUSES,
    OutboxRow,
)
from leadroute.domain.outbox import utc as _utc

__all__ = [
    "DEAD",
    "DEFAULT_LEASE",
    "PENDING",
    "SENDING",
    "SENT",
    "STATUSES",
    "OutboxRow",
    "OutboxStore",
    "outbox_rows",
]


def _row(row: Any) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        key=row["key"],
        channel=row["channel"],
        target=row["target"],
        event=row["event"],
        lead_id=row["lead_id"],
        payload=row["payload"],
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=_utc(row["next_attempt_at"]),
        last_error=row["last_error"],
        created_at=_utc(row["created_at"]),
        sent_at=_utc(row["sent_at"]) if row["sent_at"] is not None else None,
    )


def outbox_rows(messages: Iterable[OutboxMessage], now: datetime) -> list[dict[str, Any]]:
    """Table rows of new messages, due at `now` (one per key), e.g. for `RoutingSession.stage`."""
    now = _utc(now)
    rows: dict[str, dict[str, Any]] = {}
    for m in messages:
        rows.setdefault(
            m.key,
            {
                "key": m.key,
                "channel": m.channel,
                "target": m.target,
                "event": m.event,
                "lead_id": m.lead_id,
                "payload": dict(m.payload),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            },
        )
    return list(rows.values())


class OutboxStore:
    """The outbox table of a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    # -- queueing ----------------------------------------------------------------------------

    def add(self, conn: Connection, messages: Iterable[OutboxMessage], now: datetime) -> int:
        """Queue messages in the caller's transaction; a key already queued is skipped.
        Returns how many were new."""
        rows = outbox_rows(messages, now)
        if not rows:
            return 0
        stmt = self.store.insert(outbox).on_conflict_do_nothing(index_elements=["key"])
        return len(conn.execute(stmt.returning(outbox.c.id), rows).all())

    def add_now(self, messages: Iterable[OutboxMessage], now: datetime) -> int:
        """Queue messages in a transaction of their own."""
        with self.store.write() as conn:
            return self.add(conn, messages, now)

    # -- delivering --------------------------------------------------------------------------

    def claim_due(
        self, limit: int, now: datetime, *, lease: timedelta = DEFAULT_LEASE
    ) -> list[OutboxRow]:
        """Take up to `limit` due messages (oldest due first) for `lease`; each comes back with
        its try counted. Messages of a worker whose lease ran out are due again.

        One lead's messages to one receiver go out in the order they were written: a message
        waits while an earlier one of the same lead, channel and target is pending or being
        sent (retried, or claimed by another worker), so a CRM never gets an older owner after
        a newer one. A dead message no longer holds the later ones back."""
        now = _utc(now)
        earlier = outbox.alias("earlier")
        waiting = (
            select(earlier.c.id)
            .where(
                earlier.c.lead_id == outbox.c.lead_id,
                earlier.c.channel == outbox.c.channel,
                earlier.c.target == outbox.c.target,
                earlier.c.id < outbox.c.id,
                earlier.c.status.in_((PENDING, SENDING)),
            )
            .exists()
        )
        query = (
            select(outbox.c.id)
            .where(
                outbox.c.status.in_((PENDING, SENDING)), outbox.c.next_attempt_at <= now, ~waiting
            )
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
        )
        claimed = {
            "status": SENDING,
            "attempts": outbox.c.attempts + 1,
            "next_attempt_at": now + lease,
        }
        with self.store.write() as conn:
            rows = claim(conn, self.store.dialect, query, table=outbox, values=claimed)
        return [_row(r) for r in rows]

    def mark_sent(self, row: OutboxRow, *, now: datetime) -> bool:
        """Record a delivery; False if the claim was lost (its lease ran out and it was taken
        again)."""
        with self.store.write() as conn:
            result = conn.execute(
                self._claimed(row).values(status=SENT, sent_at=_utc(now), last_error=None)
            )
            return bool(result.rowcount)

    def record_failure(self, row: OutboxRow, *, status: str, due: datetime, error: str) -> bool:
        """Record a failed try: the message goes to `status` (pending or dead, see
        `domain.outbox.after_failure`), due at `due`, with the error. False if the claim was
        lost (its lease ran out and it was taken again)."""
        with self.store.write() as conn:
            result = conn.execute(
                self._claimed(row).values(
                    status=status, next_attempt_at=_utc(due), last_error=error[:MAX_ERROR]
                )
            )
        return bool(result.rowcount)

    def _claimed(self, row: OutboxRow) -> Any:
        return update(outbox).where(
            outbox.c.id == row.id, outbox.c.status == SENDING, outbox.c.attempts == row.attempts
        )

    # -- operating ---------------------------------------------------------------------------

    def get(self, message_id: int) -> OutboxRow | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(outbox).where(outbox.c.id == message_id)).mappings().first()
        return _row(row) if row is not None else None

    def list(
        self,
        *,
        status: str | None = None,
        lead_id: str | None = None,
        limit: int | None = None,
    ) -> list[OutboxRow]:
        """Messages, oldest first, optionally of one status and/or one lead."""
        query = select(outbox).order_by(outbox.c.id)
        if status is not None:
            query = query.where(outbox.c.status == status)
        if lead_id is not None:
            query = query.where(outbox.c.lead_id == lead_id)
        if limit is not None:
            query = query.limit(limit)
        with self.store.engine.connect() as conn:
            return [_row(r) for r in conn.execute(query).mappings()]

    def retry_dead(self, message_id: int, *, now: datetime) -> bool:
        """Give a dead message a fresh set of tries, due now. False if it is not dead."""
        with self.store.write() as conn:
            result = conn.execute(
                update(outbox)
                .where(outbox.c.id == message_id, outbox.c.status == DEAD)
                .values(status=PENDING, attempts=0, next_attempt_at=_utc(now))
            )
            return bool(result.rowcount)

    def counts(self) -> dict[str, int]:
        """How many messages are in each status (every status present, 0 if none)."""
        query = select(outbox.c.status, func.count()).group_by(outbox.c.status)
        counts = dict.fromkeys(STATUSES, 0)
        with self.store.engine.connect() as conn:
            for status, n in conn.execute(query):
                counts[status] = int(n)
        return counts

    def due_count(self, now: datetime) -> int:
        """How many messages are due (for a worker's metrics)."""
        query = select(func.count()).where(
            outbox.c.status.in_((PENDING, SENDING)), outbox.c.next_attempt_at <= _utc(now)
        )
        with self.store.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())
