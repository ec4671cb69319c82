"""Who may use the web console: logging in (throttled), sessions, logging out, passwords, signing a
user out everywhere, removing a user; each step written to the audit trail.

Sessions live in the store, so ending one (logout, a password change, a user's removal, an
admin's "sign out everywhere") ends it at once on every server. A session ends after
`idle` without a request and after `lifetime` in any case.

Failed logins are counted per account and per client address, in the store, so the count holds
across servers. After a few failures in a row each further attempt must wait (1 s, 2 s, 4 s, ...
up to a minute) and after more the account (or address) is locked for a while; an attempt that
comes too early is refused before its password is checked, so the right password does not open
a locked account. Unknown usernames are counted and locked like known ones, so the answers do
not tell who exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from leadroute.adapters.store.console_store import ConsoleUser, ConsoleUserStore
from leadroute.adapters.store.session_store import (
    AuditLog,
    Failures,
    SessionStore,
    StoredSession,
    ThrottleStore,
)
from leadroute.adapters.store.sql import Store


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """How failures in a row of one key are answered."""

    free: int  # failures in a row before attempts must wait
    lock_after: int  # failures in a row that lock the key
    lock_for: timedelta
    max_delay: timedelta
    forget_after: timedelta  # a key whose last failure is older starts again at 0

    def plan(self, failures: int, now: datetime) -> tuple[datetime | None, datetime | None]:
        """(no attempt before, locked until) after `failures` failures in a row."""
        if failures >= self.lock_after:
            until = now + self.lock_for
            return until, until
        if failures <= self.free:
            return None, None
        delay = min(timedelta(seconds=2 ** (failures - self.free - 1)), self.max_delay)
        return now + delay, None


ACCOUNT = ThrottlePolicy(
    free=3,
    lock_after=10,
    lock_for=timedelta(minutes=15),
    max_delay=timedelta(seconds=60),
    forget_after=timedelta(hours=1),
)
# Offices share an address behind NAT, so an address gets more room than an account.
ADDRESS = ThrottlePolicy(
    free=10,
    lock_after=50,
    lock_for=timedelta(minutes=15),
    max_delay=timedelta(seconds=60),
    forget_after=timedelta(hours=1),
)


@dataclass(frozen=True, slots=True)
class Refused:
    """A login attempt refused before its password was checked."""

    message: str
    retry_after: int  # seconds
    locked: bool


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: ConsoleUser | None = None
    token: str | None = None  # the new session's cookie value
    session: StoredSession | None = None
    refused: Refused | None = None
    failures: int = 0  # of the account, in a row, after this attempt


def _clock() -> datetime:
    return datetime.now(UTC)


class ConsoleAuth:
    def __init__(
        self,
        store: Store,
        *,
        idle: timedelta = timedelta(minutes=30),
        lifetime: timedelta = timedelta(hours=12),
        clock: Callable[[], datetime] = _clock,
        account: ThrottlePolicy = ACCOUNT,
        address: ThrottlePolicy = ADDRESS,
    ) -> None:
        self.users = ConsoleUserStore(store)
        self.sessions = SessionStore(store)
        self.throttle = ThrottleStore(store)
        self.audit = AuditLog(store)
        self.idle = idle
        self.lifetime = lifetime
        self.clock = clock
        self.account = account
        self.address = address

    # -- logging in and out ------------------------------------------------------------------

    def login(
        self, username: str, password: str, *, address: str, user_agent: str | None = None
    ) -> LoginResult:
        now = self.clock()
        policies = {_user_key(username): self.account, _address_key(address): self.address}
        refused = self._refused(policies, now)
        if refused is not None:
            self.audit.record(
                "login_refused",
                at=now,
                actor=username,
                address=address,
                detail={"reason": refused.message},
            )
            return LoginResult(refused=refused)
        user = self.users.verify(username, password)
        if user is None:
            return self._failed(username, address, policies, now)
        self.throttle.clear([_user_key(username)])
        token, row = self.sessions.create(
            user.username,
            now=now,
            lifetime=self.lifetime,
            address=address,
            user_agent=user_agent,
        )
        self.sessions.purge(now=now, idle=self.idle)
        self.audit.record("login", at=now, actor=user.username, address=address)
        return LoginResult(user=user, token=token, session=row)

    def session(self, token: str) -> StoredSession | None:
        """The live session of a cookie's token, or None."""
        return self.sessions.get(token, now=self.clock(), idle=self.idle)

    def logout(self, sid: str, *, username: str | None, address: str | None = None) -> None:
        """End the session `sid` (a stored session's id)."""
        if self.sessions.end(sid):
            self.audit.record("logout", at=self.clock(), actor=username, address=address)

    # -- users -------------------------------------------------------------------------------

    def change_password(
        self,
        username: str,
        new: str,
        *,
        by: str,
        current: str | None = None,
        address: str | None = None,
    ) -> int:
        """Set a new password (checking `current` when given); every session of the user ends.
        Returns how many sessions ended. ValueError for a wrong current password."""
        if current is not None and self.users.verify(username, current) is None:
            raise ValueError("the current password is wrong")
        self.users.set_password(username, new)
        self.throttle.clear([_user_key(username)])
        return self._end_sessions("password_changed", username, by=by, address=address)

    def sign_out_everywhere(self, username: str, *, by: str, address: str | None = None) -> int:
        if self.users.get(username) is None:
            raise LookupError(f"no user '{username}'")
        return self._end_sessions("signed_out_everywhere", username, by=by, address=address)

    def remove_user(self, username: str, *, by: str, address: str | None = None) -> int:
        self.users.remove(username)
        self.throttle.clear([_user_key(username)])
        return self._end_sessions("user_removed", username, by=by, address=address)

    def _end_sessions(self, action: str, username: str, *, by: str, address: str | None) -> int:
        """End every session of `username`, written to the audit trail as `action`."""
        ended = self.sessions.end_user(username)
        self.audit.record(
            action,
            at=self.clock(),
            actor=by,
            target=username,
            address=address,
            detail={"sessions_ended": ended},
        )
        return ended

    def unlock(self, username: str, *, by: str) -> bool:
        """Clear the account's failed logins (a lock with them)."""
        cleared = self.throttle.clear([_user_key(username)]) > 0
        self.audit.record("unlocked", at=self.clock(), actor=by, target=username)
        return cleared

    def user_added(self, user: ConsoleUser, *, by: str) -> None:
        self.audit.record(
            "user_added",
            at=self.clock(),
            actor=by,
            target=user.username,
            detail={"role": user.role, "rep": user.rep_id},
        )

    # -- the throttle ------------------------------------------------------------------------

    def _refused(self, policies: dict[str, ThrottlePolicy], now: datetime) -> Refused | None:
        for found in self.throttle.get(list(policies)):
            if found.locked_until is not None and found.locked_until > now:
                return _locked(found, now)
            if found.next_attempt_at is not None and found.next_attempt_at > now:
                wait = _seconds(found.next_attempt_at - now)
                return Refused(
                    f"Too many failed logins: wait {wait} s before trying again.", wait, False
                )
        return None

    def _failed(
        self, username: str, address: str, policies: dict[str, ThrottlePolicy], now: datetime
    ) -> LoginResult:
        counted: list[Failures] = []
        for key, policy in policies.items():
            counted.append(
                self.throttle.fail(
                    key, now=now, forget_before=now - policy.forget_after, plan=policy.plan
                )
            )
        account = counted[0]
        self.audit.record(
            "login_failed",
            at=now,
            actor=username,
            address=address,
            detail={"failures": account.failures},
        )
        refused = None
        for found, policy in zip(counted, policies.values(), strict=True):
            if found.locked_until is not None and found.failures >= policy.lock_after:
                self.audit.record(
                    "login_locked",
                    at=now,
                    actor=username,
                    target=found.key,
                    address=address,
                    detail={"until": found.locked_until.isoformat(), "failures": found.failures},
                )
                refused = refused or _locked(found, now)
        return LoginResult(refused=refused, failures=account.failures)


def _user_key(username: str) -> str:
    return f"user:{username[:150]}"


def _address_key(address: str) -> str:
    return f"addr:{address[:64]}"


def _seconds(delta: timedelta) -> int:
    return max(1, int(-(-delta.total_seconds() // 1)))


def _locked(found: Failures, now: datetime) -> Refused:
    assert found.locked_until is not None
    wait = _seconds(found.locked_until - now)
    until = found.locked_until.strftime("%H:%M UTC")
    whose = "this account" if found.key.startswith("user:") else "your address"
    return Refused(
        f"Too many failed logins: {whose} is locked until {until} ({-(-wait // 60)} min). "
        "An admin can unlock an account sooner.",
        wait,
        True,
    )
