"""Console sessions, the login throttle and the audit trail, in the store (so every server sees
the same ones: a logout or a lock on one server holds on all of them at once)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from leadroute.adapters.store.console_tables import audit_events, console_sessions, login_throttle
from leadroute.adapters.store.sql import Store, aware

TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most once a minute


def token_id(token: str) -> str:
    """The stored id of a session token: its SHA-256 (a 256-bit random token needs no salt)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredSession:
    id: str
    username: str
    csrf: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    address: str | None = None
    user_agent: str | None = None


class SessionStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def create(
        self,
        username: str,
        *,
        now: datetime,
        lifetime: timedelta,
        address: str | None = None,
        user_agent: str | None = None,
    ) -> tuple[str, StoredSession]:
        """A new session: (the token for the cookie, the stored row)."""
        token = secrets.token_urlsafe(32)
        row = StoredSession(
            id=token_id(token),
            username=username,
            csrf=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + lifetime,
            address=(address or "")[:64] or None,
            user_agent=(user_agent or "")[:200] or None,
        )
        with self.store.write() as conn:
            conn.execute(insert(console_sessions).values(**_values(row)))
        return token, row

    def get(self, token: str, *, now: datetime, idle: timedelta) -> StoredSession | None:
        """The live session of `token`, its last use moved to `now`; None when there is none or
        it passed its absolute end or its idle limit (then it is deleted)."""
        sid = token_id(token)
        query = select(console_sessions).where(console_sessions.c.id == sid)
        with self.store.engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            return None
        found = _session(row)
        if found.expires_at <= now or found.last_seen_at + idle <= now:
            self.end(sid)
            return None
        if now - found.last_seen_at >= TOUCH_EVERY:
            with self.store.write() as conn:
                conn.execute(
                    update(console_sessions)
                    .where(console_sessions.c.id == sid)
                    .values(last_seen_at=now)
                )
        return found

    def end(self, sid: str) -> bool:
        with self.store.write() as conn:
            return bool(
                conn.execute(delete(console_sessions).where(console_sessions.c.id == sid)).rowcount
            )

    def end_user(self, username: str) -> int:
        """End every session of `username`; how many there were."""
        with self.store.write() as conn:
            gone = conn.execute(
                delete(console_sessions).where(console_sessions.c.username == username)
            )
            return int(gone.rowcount or 0)

    def of_user(self, username: str) -> list[StoredSession]:
        query = (
            select(console_sessions)
            .where(console_sessions.c.username == username)
            .order_by(console_sessions.c.created_at)
        )
        with self.store.engine.connect() as conn:
            return [_session(r) for r in conn.execute(query).mappings()]

    def counts(self, *, now: datetime, idle: timedelta) -> dict[str, int]:
        """Live sessions per user."""
        query = (
            select(console_sessions.c.username, func.count())
            .where(console_sessions.c.expires_at > now)
            .where(console_sessions.c.last_seen_at > now - idle)
            .group_by(console_sessions.c.username)
        )
        with self.store.engine.connect() as conn:
            return {name: int(n) for name, n in conn.execute(query)}

    def purge(self, *, now: datetime, idle: timedelta) -> int:
        """Delete the sessions that have ended; how many."""
        ended = (console_sessions.c.expires_at <= now) | (
            console_sessions.c.last_seen_at <= now - idle
        )
        with self.store.write() as conn:
            return int(conn.execute(delete(console_sessions).where(ended)).rowcount or 0)


@dataclass(frozen=True, slots=True)
class Failures:
    """A throttle key's record: failures in a row, and until when attempts are refused."""

    key: str
    failures: int
    last_failed_at: datetime
    next_attempt_at: datetime | None = None
    locked_until: datetime | None = None


# (failures so far, now) -> (no attempt before, locked until)
Plan = Callable[[int, datetime], tuple[datetime | None, datetime | None]]


class ThrottleStore:
    """Failed logins per key, counted in one transaction so that servers agree."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, keys: list[str]) -> list[Failures]:
        query = select(login_throttle).where(login_throttle.c.key.in_(keys))
        with self.store.engine.connect() as conn:
            return [_failures(r) for r in conn.execute(query).mappings()]

    def fail(self, key: str, *, now: datetime, forget_before: datetime, plan: Plan) -> Failures:
        """Count one more failure of `key` (starting again at 1 when the last one was before
        `forget_before`) and store when the next attempt may come, as `plan` says."""
        for attempt in range(2):
            try:
                with self.store.write() as conn:
                    row = (
                        conn.execute(
                            select(login_throttle)
                            .where(login_throttle.c.key == key)
                            .with_for_update()
                        )
                        .mappings()
                        .first()
                    )
                    stale = row is None or aware(row["last_failed_at"]) < forget_before
                    failures = 1 if stale or row is None else int(row["failures"]) + 1
                    wait, lock = plan(failures, now)
                    if row is not None and not stale and row["locked_until"] is not None:
                        lock = max(lock or now, aware(row["locked_until"]))
                    values = {
                        "failures": failures,
                        "last_failed_at": now,
                        "next_attempt_at": wait,
                        "locked_until": lock,
                    }
                    if row is None:
                        conn.execute(insert(login_throttle).values(key=key, **values))
                    else:
                        conn.execute(
                            update(login_throttle)
                            .where(login_throttle.c.key == key)
                            .values(**values)
                        )
                return Failures(key, failures, now, wait, lock)
            except IntegrityError:  # another server inserted the key first: count again
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def clear(self, keys: list[str]) -> int:
        with self.store.write() as conn:
            gone = conn.execute(delete(login_throttle).where(login_throttle.c.key.in_(keys)))
            return int(gone.rowcount or 0)


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    action: str
    actor: str | None
    target: str | None
    address: str | None
    detail: dict[str, Any]

    def as_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "action": self.action,
            "actor": self.actor,
            "target": self.target,
            "address": self.address,
            "detail": self.detail,
        }


class AuditLog:
    """Who did what, when and from where; rows are only ever added."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        action: str,
        *,
        at: datetime,
        actor: str | None = None,
        target: str | None = None,
        address: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.store.write() as conn:
            conn.execute(
                insert(audit_events).values(
                    at=at,
                    action=action,
                    actor=(actor or "")[:120] or None,
                    target=(target or "")[:200] or None,
                    address=(address or "")[:64] or None,
                    detail=detail or {},
                )
            )

    def list(
        self,
        *,
        since: datetime | None = None,
        action: str | None = None,
        actor: str | None = None,
        limit: int = 200,
    ) -> list[AuditEvent]:
        """The newest events first."""
        query = select(audit_events).order_by(audit_events.c.id.desc()).limit(limit)
        if since is not None:
            query = query.where(audit_events.c.at >= since)
        if action:
            query = query.where(audit_events.c.action == action)
        if actor:
            query = query.where(audit_events.c.actor == actor)
        with self.store.engine.connect() as conn:
            return [_event(r) for r in conn.execute(query).mappings()]


def _values(row: StoredSession) -> dict[str, Any]:
    return {
        "id": row.id,
        "username": row.username,
        "csrf": row.csrf,
        "created_at": row.created_at,
        "last_seen_at": row.last_seen_at,
        "expires_at": row.expires_at,
        "address": row.address,
        "user_agent": row.user_agent,
    }


def _session(row: Any) -> StoredSession:
    return StoredSession(
        id=row["id"],
        username=row["username"],
        csrf=row["csrf"],
        created_at=aware(row["created_at"]),
        last_seen_at=aware(row["last_seen_at"]),
        expires_at=aware(row["expires_at"]),
        address=row["address"],
        user_agent=row["user_agent"],
    )


def _when(value: Any) -> datetime | None:
    return None if value is None else aware(value)


def _failures(row: Any) -> Failures:
    return Failures(
        key=row["key"],
        failures=int(row["failures"]),
        last_failed_at=aware(row["last_failed_at"]),
        next_attempt_at=_when(row["next_attempt_at"]),
        locked_until=_when(row["locked_until"]),
    )


def _event(row: Any) -> AuditEvent:
    return AuditEvent(
        id=int(row["id"]),
        at=aware(row["at"]),
        action=row["action"],
        actor=row["actor"],
        target=row["target"],
        address=row["address"],
        detail=dict(row["detail"] or {}),
    )
