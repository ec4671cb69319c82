"""Idempotency records: a retried request (same key) gets the original answer, never a second
lead or a second assignment.

A key is reserved before the work starts (a row without an answer), so two concurrent requests
with one key cannot both do the work: the second is told the first is in progress.

A reservation whose process died before it answered or released it (a server killed mid-request)
would stay "in progress" for ever: once it is older than `stale_after` (longer than any request
takes), a retry with the same request takes it over, with a compare-and-set so only one retry
does. The lead id comes from the key, so a lead the dead process stored is found, not doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from leadroute.adapters.store.service_tables import idempotency
from leadroute.adapters.store.sql import Store

IN_PROGRESS = 0
STALE_AFTER = timedelta(minutes=2)  # a reservation this old without an answer is abandoned


@dataclass(frozen=True, slots=True)
class Replay:
    status_code: int  # IN_PROGRESS while the first request is still at work
    response: dict[str, Any]
    same_request: bool


class IdempotencyStore:
    def __init__(self, store: Store, *, stale_after: timedelta = STALE_AFTER) -> None:
        self.store = store
        self.stale_after = stale_after

    def _take_over(self, conn: Connection, row: Any, request_hash: str, now: datetime) -> bool:
        """Take over an abandoned reservation of this same request; True if this call did."""
        if row.status_code != IN_PROGRESS or row.request_hash != request_hash:
            return False
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)
        if now - created < self.stale_after:
            return False
        taken = conn.execute(
            update(idempotency)
            .where(
                idempotency.c.key == row.key,
                idempotency.c.status_code == IN_PROGRESS,
                idempotency.c.created_at == row.created_at,
            )
            .values(created_at=now)
        )
        return taken.rowcount == 1

    def reserve(self, key: str, request_hash: str) -> Replay | None:
        """None: the key is new and now reserved for this request. Otherwise what the first
        request with this key answered (or that it is still in progress)."""
        with self.store.write() as conn:
            inserted = conn.execute(
                self.store.insert(idempotency)
                .values(
                    key=key,
                    request_hash=request_hash,
                    status_code=IN_PROGRESS,
                    response={},
                    created_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing()
                .returning(idempotency.c.key)
            ).first()
            if inserted is not None:
                return None
            row = conn.execute(select(idempotency).where(idempotency.c.key == key)).first()
            assert row is not None
            if self._take_over(conn, row, request_hash, datetime.now(UTC)):
                return None
        return Replay(row.status_code, dict(row.response), row.request_hash == request_hash)

    def complete(
        self, key: str, status_code: int, response: dict[str, Any], lead_id: str | None
    ) -> None:
        with self.store.write() as conn:
            conn.execute(
                update(idempotency)
                .where(idempotency.c.key == key)
                .values(status_code=status_code, response=response, lead_id=lead_id)
            )

    def reserve_many(self, items: list[tuple[str, str]]) -> dict[str, Replay | None]:
        """`reserve` for many (key, request hash) pairs in one transaction."""
        if not items:
            return {}
        now = datetime.now(UTC)
        hashes = dict(items)
        with self.store.write() as conn:
            reserved = set(
                conn.scalars(
                    self.store.insert(idempotency)
                    .values(
                        [
                            {
                                "key": key,
                                "request_hash": digest,
                                "status_code": IN_PROGRESS,
                                "response": {},
                                "created_at": now,
                            }
                            for key, digest in hashes.items()
                        ]
                    )
                    .on_conflict_do_nothing()
                    .returning(idempotency.c.key)
                )
            )
            others = [key for key in hashes if key not in reserved]
            found: dict[str, Replay | None] = dict.fromkeys(reserved)
            if others:
                rows = conn.execute(select(idempotency).where(idempotency.c.key.in_(others)))
                for row in rows.all():
                    if self._take_over(conn, row, hashes[row.key], now):
                        found[row.key] = None
                        continue
                    same = row.request_hash == hashes[row.key]
                    found[row.key] = Replay(row.status_code, dict(row.response), same)
        return found

    def complete_many(self, items: list[tuple[str, int, dict[str, Any], str | None]]) -> None:
        """`complete` for many (key, status code, response, lead id), in one transaction."""
        if not items:
            return
        with self.store.write() as conn:
            conn.execute(
                update(idempotency)
                .where(idempotency.c.key == bindparam("k"))
                .values(
                    status_code=bindparam("s"), response=bindparam("r"), lead_id=bindparam("l")
                ),
                [{"k": k, "s": s, "r": r, "l": lead} for k, s, r, lead in items],
            )

    def release(self, key: str) -> None:
        """Forget a reservation whose request failed, so a retry can do the work."""
        with self.store.write() as conn:
            conn.execute(
                delete(idempotency).where(
                    idempotency.c.key == key, idempotency.c.status_code == IN_PROGRESS
                )
            )
