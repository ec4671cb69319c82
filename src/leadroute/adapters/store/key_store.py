"""API keys in the SQL store: created once, kept only as a prefix and a SHA-256 hash.

A key reads `lr_<prefix>_<secret>`: the prefix (8 hex characters) names the key in lists and
logs and finds its row; the secret is 32 random bytes from `secrets` (256 bits).

Why SHA-256 and not bcrypt/scrypt/argon2: slow password hashes exist because people choose
guessable passwords, and slowness makes guessing expensive. These keys are not chosen by people:
a 256-bit random secret cannot be guessed whatever the hash costs, so a fast hash loses nothing
if the table leaks, and checking a key costs microseconds instead of the ~100 ms a password hash
would add to every request. The hash is compared in constant time.

Scopes: `ingest` (send leads, activities, webhooks), `read` (read leads, decisions, briefs) and
`admin` (configs, reps, keys, erasure). `admin` implies the other two.
"""

from __future__ import annotations

import builtins
import hashlib
import hmac
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from leadroute.adapters.store.service_tables import api_keys
from leadroute.adapters.store.sql import Store

INGEST, READ, ADMIN = "ingest", "read", "admin"
SCOPES: tuple[str, ...] = (INGEST, READ, ADMIN)
SCOPE_HELP: Mapping[str, str] = {
    INGEST: "send leads, activities and webhooks",
    READ: "read leads, decisions and briefs",
    ADMIN: "configs, reps, keys and erasure (implies ingest and read)",
}

_KEY = re.compile(r"^lr_([0-9a-f]{8})_([A-Za-z0-9_-]{20,128})$")
_TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most once a minute per key


def utc_now() -> datetime:
    return datetime.now(UTC)


def _digest(plaintext: str) -> str:
    return "sha256:" + hashlib.sha256(plaintext.encode()).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key as everyone may see it: no secret, no hash."""

    id: int
    name: str
    prefix: str
    scopes: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def allows(self, scope: str) -> bool:
        """True if this key may do what `scope` covers (admin covers every scope)."""
        return scope in self.scopes or ADMIN in self.scopes

    def as_record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "prefix": self.prefix,
            "scopes": sorted(self.scopes),
            "created_at": self.created_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
        }


def _api_key(row: Mapping[Any, Any]) -> ApiKey:
    created = _aware(row["created_at"])
    assert created is not None
    return ApiKey(
        id=int(row["id"]),
        name=row["name"],
        prefix=row["prefix"],
        scopes=frozenset(row["scopes"] or ()),
        created_at=created,
        revoked_at=_aware(row["revoked_at"]),
        last_used_at=_aware(row["last_used_at"]),
    )


def check_scopes(scopes: Iterable[str]) -> frozenset[str]:
    """The scopes as a set; ValueError naming the unknown ones, or if there are none."""
    chosen = frozenset(s.strip().lower() for s in scopes)
    unknown = sorted(chosen - set(SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not chosen:
        raise ValueError(f"a key needs at least one scope: {', '.join(SCOPES)}")
    return chosen


class KeyStore:
    """Create, verify, list and revoke API keys."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.store = store
        self.clock = clock

    def create(self, name: str, scopes: Iterable[str]) -> tuple[str, ApiKey]:
        """A new key: (the plaintext, shown once and never stored, and its stored form).

        ValueError if the name is empty or taken (revoked keys keep their names), or a scope
        is unknown."""
        name = name.strip()
        if not name:
            raise ValueError("a key needs a name")
        chosen = check_scopes(scopes)
        prefix = secrets.token_hex(4)
        plaintext = f"lr_{prefix}_{secrets.token_urlsafe(32)}"
        now = self.clock()
        with self.store.write() as conn:
            if conn.scalar(select(api_keys.c.id).where(api_keys.c.name == name)) is not None:
                raise ValueError(f"a key named '{name}' exists (revoked keys keep their names)")
            inserted = conn.execute(
                api_keys.insert().values(
                    name=name,
                    prefix=prefix,
                    hash=_digest(plaintext),
                    scopes=sorted(chosen),
                    created_at=now,
                )
            ).inserted_primary_key
        assert inserted is not None
        return plaintext, ApiKey(int(inserted[0]), name, prefix, chosen, now)

    def verify(self, plaintext: str) -> ApiKey | None:
        """The active key `plaintext` is, or None (malformed, unknown or revoked)."""
        match = _KEY.match(plaintext.strip())
        if match is None:
            return None
        digest = _digest(match.group(0))
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(api_keys).where(api_keys.c.prefix == match.group(1))
            ).mappings()
            found = None
            for row in rows:  # several keys may share a prefix; compare every one
                if hmac.compare_digest(row["hash"].encode(), digest.encode()):
                    found = _api_key(row)
        if found is None or not found.active:
            return None
        now = self.clock()
        if found.last_used_at is None or now - found.last_used_at >= _TOUCH_EVERY:
            self._touch(found.id, now)
        return found

    def _touch(self, key_id: int, now: datetime) -> None:
        """Record use, at most once a minute per key, so verifying rarely writes."""
        with self.store.write() as conn:
            conn.execute(
                update(api_keys)
                .where(
                    api_keys.c.id == key_id,
                    or_(
                        api_keys.c.last_used_at.is_(None),
                        api_keys.c.last_used_at < now - _TOUCH_EVERY,
                    ),
                )
                .values(last_used_at=now)
            )

    def get(self, name: str) -> ApiKey | None:
        with self.store.engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.name == name)).mappings().first()
        return _api_key(row) if row is not None else None

    def list(self) -> builtins.list[ApiKey]:
        """Every key, revoked ones included, by name."""
        with self.store.engine.connect() as conn:
            rows = conn.execute(select(api_keys).order_by(api_keys.c.name)).mappings().all()
        return [_api_key(r) for r in rows]

    def revoke(self, name: str) -> ApiKey | None:
        """Revoke a key by name; None if there is none. Revoking twice keeps the first time."""
        now = self.clock()
        with self.store.write() as conn:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            row = conn.execute(select(api_keys).where(api_keys.c.name == name)).mappings().first()
        return _api_key(row) if row is not None else None
