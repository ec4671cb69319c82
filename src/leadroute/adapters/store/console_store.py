"""Console users: add, list, look up and check a password.

Passwords are hashed with Argon2id (argon2-cffi; OWASP's setting: 19 MiB, 2 passes, 1 lane).
Hashes made by earlier versions (scrypt) still verify, and are replaced by an Argon2id hash the
next time their user logs in, as are Argon2 hashes made with weaker settings than today's."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update

from leadroute.adapters.store.console_tables import console_users
from leadroute.adapters.store.sql import Store, aware

ROLES = ("admin", "manager", "rep")
_N, _R, _P = 2**14, 8, 1  # the scrypt settings of earlier versions (still verified)
_ARGON2 = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,120}$")


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    username: str
    role: str
    rep_id: str | None
    created_at: datetime

    def as_record(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "role": self.role,
            "rep_id": self.rep_id,
            "created_at": self.created_at.isoformat(),
        }


def hash_password(password: str) -> str:
    return _ARGON2.hash(password)


def check_password(password: str, stored: str) -> bool:
    if stored.startswith("$argon2"):
        try:
            return _ARGON2.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        found = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(found.hex(), digest)


def needs_rehash(stored: str) -> bool:
    """Whether a hash is of an older kind or weaker settings than `hash_password` makes."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _ARGON2.check_needs_rehash(stored)
    except InvalidHashError:
        return True


MIN_PASSWORD, MAX_PASSWORD = 12, 128  # OWASP ASVS 4.0 2.1.1 and 2.1.2


def check_strength(password: str) -> None:
    """ValueError unless the password is 12 to 128 characters long (any characters: spaces and
    passphrases welcome, no composition rules, as ASVS 2.1.9 asks)."""
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"a password has at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise ValueError(f"a password has at most {MAX_PASSWORD} characters")


@cache
def _decoy() -> str:
    """A hash to check the passwords of unknown users against, made once, so that a login as
    nobody costs one hash, like a login as somebody."""
    return hash_password(secrets.token_urlsafe(16))


class ConsoleUserStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def add(self, username: str, password: str, *, role: str, rep_id: str | None) -> ConsoleUser:
        if not _NAME.match(username):
            raise ValueError("a username is 1-120 letters, digits or _.@-")
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        if role != "admin" and not rep_id:
            raise ValueError(f"a {role} needs --rep (the rep they are)")
        check_strength(password)
        if self.get(username) is not None:
            raise ValueError(f"user '{username}' exists")
        now = datetime.now(UTC)
        with self.store.write() as conn:
            conn.execute(
                insert(console_users).values(
                    username=username,
                    password_hash=hash_password(password),
                    role=role,
                    rep_id=rep_id,
                    created_at=now,
                )
            )
        return ConsoleUser(username, role, rep_id, now)

    def get(self, username: str) -> ConsoleUser | None:
        row = self._row(username)
        return _user(row) if row is not None else None

    def list(self) -> list[ConsoleUser]:
        query = select(console_users).order_by(console_users.c.username)
        with self.store.engine.connect() as conn:
            return [_user(r) for r in conn.execute(query).mappings()]

    def verify(self, username: str, password: str) -> ConsoleUser | None:
        """The user if the password is theirs, else None."""
        row = self._row(username)
        stored = _decoy() if row is None else row["password_hash"]
        matches = check_password(password, stored)  # one hash either way
        if row is None or not matches:
            return None
        if needs_rehash(stored):  # an older kind of hash: replace it now that we know the password
            with self.store.write() as conn:
                conn.execute(
                    update(console_users)
                    .where(console_users.c.username == username)
                    .values(password_hash=hash_password(password))
                )
        return _user(row)

    def set_password(self, username: str, password: str) -> None:
        """Replace the user's password (LookupError for an unknown user)."""
        check_strength(password)
        with self.store.write() as conn:
            changed = conn.execute(
                update(console_users)
                .where(console_users.c.username == username)
                .values(password_hash=hash_password(password))
            )
        if not changed.rowcount:
            raise LookupError(f"no user '{username}'")

    def remove(self, username: str) -> None:
        """Delete the user (LookupError for an unknown one)."""
        with self.store.write() as conn:
            gone = conn.execute(delete(console_users).where(console_users.c.username == username))
        if not gone.rowcount:
            raise LookupError(f"no user '{username}'")

    def _row(self, username: str) -> Any:
        query = select(console_users).where(console_users.c.username == username)
        with self.store.engine.connect() as conn:
            return conn.execute(query).mappings().first()


def _user(row: Any) -> ConsoleUser:
    return ConsoleUser(row["username"], row["role"], row["rep_id"], aware(row["created_at"]))
