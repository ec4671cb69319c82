"""Console access: sessions in the store, the login throttle (on a fake clock), the audit trail.

Every test runs on SQLite and, where reachable, PostgreSQL. Two `ConsoleAuth` over one store
stand for two servers: what one ends or locks, the other sees at once.
"""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta

import pytest

from leadroute.adapters.store.console_store import ConsoleUserStore
from leadroute.adapters.store.sql import Store
from leadroute.services.console_auth import ACCOUNT, ADDRESS, ConsoleAuth

PASSWORD = "correct horse battery"
START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _auth(store: Store, clock: Clock) -> ConsoleAuth:
    return ConsoleAuth(store, idle=timedelta(minutes=30), lifetime=timedelta(hours=12), clock=clock)


@pytest.fixture
def auth(store: Store, clock: Clock) -> ConsoleAuth:
    ConsoleUserStore(store).add("admin", PASSWORD, role="admin", rep_id=None)
    ConsoleUserStore(store).add("ada", PASSWORD, role="rep", rep_id="r1")
    return _auth(store, clock)


def _actions(auth: ConsoleAuth) -> list[str]:
    return [e.action for e in reversed(auth.audit.list(limit=10_000))]


# -- sessions ----------------------------------------------------------------------------------


def test_a_login_starts_a_session_that_logout_ends_on_every_server(
    auth: ConsoleAuth, store: Store, clock: Clock
) -> None:
    other_server = _auth(store, clock)
    result = auth.login("ada", PASSWORD, address="10.0.0.1", user_agent="Firefox")
    assert result.user is not None and result.token and result.session is not None
    assert result.session.id != result.token  # the store keeps a hash, not the cookie's token
    found = other_server.session(result.token)
    assert found is not None and found.username == "ada" and found.address == "10.0.0.1"
    auth.logout(result.session.id, username="ada", address="10.0.0.1")
    assert other_server.session(result.token) is None
    assert auth.session(result.token) is None
    assert _actions(auth) == ["login", "logout"]


def test_a_session_ends_when_idle_and_at_its_absolute_end(auth: ConsoleAuth, clock: Clock) -> None:
    idle = auth.login("ada", PASSWORD, address="a").token
    assert idle is not None
    clock.advance(minutes=29)
    assert auth.session(idle) is not None  # used: the idle clock starts again
    clock.advance(minutes=29)
    assert auth.session(idle) is not None
    clock.advance(minutes=31)
    assert auth.session(idle) is None  # 31 minutes without a request

    busy = auth.login("ada", PASSWORD, address="a").token
    assert busy is not None
    for _ in range(12 * 4 - 1):  # a request every 15 minutes for 11 h 45
        clock.advance(minutes=15)
        assert auth.session(busy) is not None
    clock.advance(minutes=15)
    assert auth.session(busy) is None  # 12 hours after login, however busy


def test_password_change_removal_and_sign_out_everywhere_end_every_session(
    auth: ConsoleAuth, store: Store, clock: Clock
) -> None:
    other_server = _auth(store, clock)
    tokens = [auth.login("ada", PASSWORD, address=f"10.0.0.{i}").token for i in range(3)]
    admin = auth.login("admin", PASSWORD, address="10.0.0.9").token
    assert all(tokens) and admin

    with pytest.raises(ValueError, match="current password is wrong"):
        auth.change_password("ada", "a new password", by="ada", current="not it at all")
    assert all(other_server.session(t) for t in tokens if t)
    assert auth.change_password("ada", "a new password", by="ada", current=PASSWORD) == 3
    assert not any(other_server.session(t) for t in tokens if t)
    assert other_server.session(admin) is not None  # other users keep theirs
    assert auth.login("ada", PASSWORD, address="x").user is None
    again = auth.login("ada", "a new password", address="x").token
    assert again is not None

    assert auth.sign_out_everywhere("ada", by="admin") == 1
    assert other_server.session(again) is None
    with pytest.raises(LookupError):
        auth.sign_out_everywhere("ghost", by="admin")

    last = auth.login("ada", "a new password", address="x").token
    assert last is not None
    assert auth.remove_user("ada", by="admin") == 1
    assert other_server.session(last) is None and auth.users.get("ada") is None
    audit = {e.action: e for e in auth.audit.list(limit=100)}
    assert audit["password_changed"].target == "ada"
    assert audit["password_changed"].detail == {"sessions_ended": 3}
    assert audit["signed_out_everywhere"].actor == "admin"
    assert audit["user_removed"].detail == {"sessions_ended": 1}


def test_ended_sessions_are_purged_at_the_next_login(
    auth: ConsoleAuth, store: Store, clock: Clock
) -> None:
    for _ in range(5):
        auth.login("ada", PASSWORD, address="a")
    clock.advance(hours=13)
    auth.login("admin", PASSWORD, address="a")
    assert [s.username for s in auth.sessions.of_user("ada")] == []
    assert len(auth.sessions.of_user("admin")) == 1


# -- the throttle ------------------------------------------------------------------------------


def test_failures_make_an_account_wait_longer_then_lock_it(auth: ConsoleAuth, clock: Clock) -> None:
    waits = []
    for attempt in range(1, ACCOUNT.lock_after + 1):
        result = auth.login("ada", "wrong password", address=f"10.1.0.{attempt}")
        assert result.user is None and result.failures == attempt
        found = auth.throttle.get(["user:ada"])[0]
        if found.next_attempt_at is not None:
            waits.append((found.next_attempt_at - clock.now).total_seconds())
            early = auth.login("ada", PASSWORD, address="10.9.9.9")
            assert early.user is None and early.refused is not None
            assert early.failures == 0  # refused before the password was looked at
            if found.locked_until is None:
                clock.now = found.next_attempt_at
    # free failures, then 1, 2, 4 ... seconds, then locked for 15 minutes
    assert waits[: ACCOUNT.lock_after - ACCOUNT.free - 1] == [1, 2, 4, 8, 16, 32]
    assert waits[-1] == ACCOUNT.lock_for.total_seconds()

    locked = auth.login("ada", PASSWORD, address="10.9.9.9")  # the right password
    assert locked.user is None and locked.refused is not None and locked.refused.locked
    assert "locked until" in locked.refused.message
    assert locked.refused.retry_after == 15 * 60
    clock.advance(minutes=15, seconds=1)
    assert auth.login("ada", PASSWORD, address="10.9.9.9").user is not None
    assert auth.throttle.get(["user:ada"]) == []  # success clears the account's failures
    actions = _actions(auth)
    assert actions.count("login_failed") == ACCOUNT.lock_after
    assert actions.count("login_locked") == 1
    assert actions.count("login_refused") == ACCOUNT.lock_after - ACCOUNT.free + 1
    assert actions[-1] == "login"


def test_the_lock_holds_on_every_server_and_an_admin_can_lift_it(
    auth: ConsoleAuth, store: Store, clock: Clock
) -> None:
    other_server = _auth(store, clock)
    for attempt in range(ACCOUNT.lock_after):
        server = (auth, other_server)[attempt % 2]  # a load balancer's round robin
        server.login("ada", "wrong password", address=f"10.2.0.{attempt}")
        clock.advance(seconds=61)
    refused = other_server.login("ada", PASSWORD, address="10.2.1.1").refused
    assert refused is not None and refused.locked
    assert auth.unlock("ada", by="admin")
    assert other_server.login("ada", PASSWORD, address="10.2.1.1").user is not None


def test_unknown_users_are_throttled_like_known_ones(auth: ConsoleAuth, clock: Clock) -> None:
    """The answers do not tell whether a username exists."""
    seen = {}
    for name in ("ada", "nobody"):
        answers = []
        for attempt in range(ACCOUNT.lock_after + 1):
            result = auth.login(name, "wrong password", address=f"{name}-{attempt}")
            answers.append((result.failures, result.refused and result.refused.locked))
            clock.advance(seconds=61)
        seen[name] = answers
    assert seen["ada"] == seen["nobody"]


def test_an_address_is_throttled_across_accounts(auth: ConsoleAuth, clock: Clock) -> None:
    """One address guessing many usernames (password spraying) is slowed, then locked."""
    for attempt in range(ADDRESS.lock_after):
        result = auth.login(f"user{attempt}", "Winter2026!", address="203.0.113.7")
        assert result.refused is None or attempt + 1 == ADDRESS.lock_after
        clock.advance(seconds=61)
    refused = auth.login("ada", PASSWORD, address="203.0.113.7").refused
    assert refused is not None and "your address is locked" in refused.message
    assert auth.login("ada", PASSWORD, address="198.51.100.1").user is not None


def test_failures_are_forgotten_after_an_hour_without_one(auth: ConsoleAuth, clock: Clock) -> None:
    for _ in range(ACCOUNT.free):
        auth.login("ada", "wrong password", address="a")
    clock.advance(minutes=61)
    assert auth.login("ada", "wrong password", address="a").failures == 1


# -- equal work for unknown and known users ----------------------------------------------------


def test_a_login_as_nobody_takes_as_long_as_a_wrong_password(store: Store, clock: Clock) -> None:
    """One password hash either way: the ratio of the median times of interleaved attempts
    (a wrong password for a user who exists, and any password for one who does not) is near 1
    (it was 1.8-1.9 when an unknown user cost two hashes)."""
    users = ConsoleUserStore(store)
    users.add("known", PASSWORD, role="admin", rep_id=None)
    users.verify("nobody", "warm up")  # the decoy hash is made once, at the first unknown user
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(15):
        for name, times in (("known", known), ("nobody", unknown)):
            started = time.perf_counter()
            assert users.verify(name, "wrong password!") is None
            times.append(time.perf_counter() - started)
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.67 < ratio < 1.5, ratio
