"""Console access over HTTP: logout and the other ways a session ends, on two servers sharing
one store; the login throttle's answers; the cookie's flags; the account, users and audit pages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.services.console_auth import ACCOUNT, ConsoleAuth
from tests.api.server import serve
from tests.console.helpers import PASSWORD, SCRIPT, Console, console, csrf, login


class Clock:
    """Starts at the real time (a server on the real clock shares the store) and moves on
    only when told."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def site(store: Store) -> Iterator[Console]:
    with console(store) as served:
        yield served


@contextmanager
def second_server(store: Store, auth: ConsoleAuth | None = None) -> Iterator[str]:
    """Another server process over the same store; its base URL."""
    with serve(create_app(store, auth=False, console_auth=auth)) as client:
        yield str(client.base_url)


def _opens(client: httpx.Client, base_url: str | None = None) -> bool:
    """Whether the client's cookie opens the overview (on `base_url`, default its own; a cookie
    for 127.0.0.1 goes to every port of it)."""
    answer = client.get(f"{base_url}/console/" if base_url else "/console/")
    if answer.status_code == 303:
        assert "/console/login" in answer.headers["location"]
        return False
    assert answer.status_code == 200, answer.text
    return True


def _logout(client: httpx.Client) -> httpx.Response:
    token = csrf(client.get("/console/").text)
    return client.post("/console/logout", data={"csrf": token})


def test_logout_ends_the_session_for_the_cookie_from_before(site: Console, store: Store) -> None:
    with login(site.base_url, "ada") as ada, second_server(store) as other:
        cookie = ada.cookies.get("leadroute_console")
        assert cookie and _opens(ada) and _opens(ada, other)
        answer = _logout(ada)
        assert answer.status_code == 303 and answer.headers["location"].endswith("/login")
        assert "leadroute_console=" in answer.headers["set-cookie"]  # dropped in the browser
        # A copy of the cookie from before logout opens nothing, on either server.
        with httpx.Client(base_url=site.base_url, cookies={"leadroute_console": cookie}) as copy:
            assert not _opens(copy)
            assert not _opens(copy, other)


def test_sign_out_everywhere_and_a_password_change_end_every_session(
    site: Console, store: Store
) -> None:
    with (
        login(site.base_url, "ada") as laptop,
        login(site.base_url, "ada") as phone,
        login(site.base_url, "mia") as mia,
        second_server(store) as other,
    ):
        page = laptop.get("/console/account").text
        assert page.count("<tr>") == 3  # the header and two sessions
        assert "(this browser)" in page
        token = csrf(page)
        answer = laptop.post("/console/account/signout", data={"csrf": token})
        assert answer.status_code == 303
        assert not _opens(phone) and not _opens(phone, other) and _opens(mia)

    with login(site.base_url, "ada") as laptop, login(site.base_url, "ada") as phone:
        token = csrf(laptop.get("/console/account").text)
        wrong = laptop.post(
            "/console/account/password",
            data={"csrf": token, "current": "not it", "new": "new password 1", "again": "x"},
        )
        assert wrong.status_code == 422 and "differ" in wrong.text
        wrong = laptop.post(
            "/console/account/password",
            data={
                "csrf": token,
                "current": "not it",
                "new": "new password 1",
                "again": "new password 1",
            },
        )
        assert wrong.status_code == 422 and "current password is wrong" in wrong.text
        assert _opens(phone)
        changed = laptop.post(
            "/console/account/password",
            data={
                "csrf": token,
                "current": PASSWORD,
                "new": "new password 1",
                "again": "new password 1",
            },
        )
        assert changed.status_code == 303
        assert not _opens(phone) and not _opens(laptop)


def test_an_admin_signs_a_user_out_everywhere_unlocks_and_removes_them(
    site: Console, store: Store
) -> None:
    with login(site.base_url, "admin") as admin, login(site.base_url, "ada") as ada:
        with login(site.base_url, "mia") as mia:
            assert mia.get("/console/users").status_code == 403
            assert mia.get("/console/audit").status_code == 403
            token = csrf(mia.get("/console/").text)
            refused = mia.post("/console/users/ada/signout", data={"csrf": token})
            assert refused.status_code == 403 and _opens(ada)
        page = admin.get("/console/users")
        assert page.status_code == 200 and "Sign ada out everywhere" in page.text
        token = csrf(page.text)
        assert admin.post("/console/users/ada/signout", data={"csrf": ""}).status_code == 403
        assert _opens(ada)
        answer = admin.post("/console/users/ada/signout", data={"csrf": token})
        assert answer.status_code == 303 and not _opens(ada)
        assert admin.post("/console/users/ghost/signout", data={"csrf": token}).status_code == 404

    with login(site.base_url, "admin") as admin, login(site.base_url, "cy") as cy:
        token = csrf(admin.get("/console/users").text)
        assert admin.post("/console/users/admin/remove", data={"csrf": token}).status_code == 409
        assert admin.post("/console/users/cy/remove", data={"csrf": token}).status_code == 303
        assert not _opens(cy)
        assert "cy" not in [u.username for u in ConsoleAuth(store).users.list()]
        audit = admin.get("/console/audit").text
        for action in ("signed_out_everywhere", "user_removed", "login"):
            assert action in audit
        assert admin.get("/console/audit?action=nonsense").status_code == 404
        only = admin.get("/console/audit", params={"action": "user_removed"}).text
        assert only.count("<tr>") == 2


def test_a_locked_account_is_refused_even_with_the_right_password(store: Store) -> None:
    clock = Clock()
    auth = ConsoleAuth(store, clock=clock)
    with console(store) as site, second_server(store, auth) as other:
        with httpx.Client(base_url=other) as browser:
            token = csrf(browser.get("/console/login").text)
            statuses = []
            for _ in range(ACCOUNT.lock_after):
                answer = browser.post(
                    "/console/login",
                    data={"csrf": token, "username": "ada", "password": "guess"},
                )
                statuses.append(answer.status_code)
                clock.now += timedelta(seconds=61)
            assert statuses == [401] * (ACCOUNT.lock_after - 1) + [429]
            right = browser.post(
                "/console/login", data={"csrf": token, "username": "ada", "password": PASSWORD}
            )
            assert right.status_code == 429 and "locked until" in right.text
            assert 0 < int(right.headers["retry-after"]) <= 15 * 60
        # The lock is in the store: the first server refuses too.
        with httpx.Client(base_url=site.base_url) as browser:
            token = csrf(browser.get("/console/login").text)
            answer = browser.post(
                "/console/login", data={"csrf": token, "username": "ada", "password": PASSWORD}
            )
            assert answer.status_code == 429
        with login(site.base_url, "admin") as admin:
            page = admin.get("/console/users").text
            assert "Unlock ada" in page
            admin.post("/console/users/ada/unlock", data={"csrf": csrf(page)})
        with login(site.base_url, "ada") as ada:
            assert _opens(ada)


def test_an_idle_session_ends(store: Store) -> None:
    clock = Clock()
    auth = ConsoleAuth(store, clock=clock, idle=timedelta(minutes=30))
    with console(store), second_server(store, auth) as other, login(other, "ada") as ada:
        clock.now += timedelta(minutes=20)
        assert _opens(ada)
        clock.now += timedelta(minutes=31)
        assert not _opens(ada)


def test_the_cookie_is_secure_behind_an_https_public_url(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    with console(store) as site:
        plain = httpx.get(f"{site.base_url}/console/login").headers["set-cookie"].lower()
        assert "httponly" in plain and "samesite=lax" in plain and "secure" not in plain
        monkeypatch.setenv("LEADROUTE_PUBLIC_URL", "https://routing.example.com")
        with second_server(store) as other:
            answer = httpx.get(f"{other}/console/login")
            flags = answer.headers["set-cookie"].lower().split("; ")
            assert "secure" in flags and "httponly" in flags


def test_audit_pages_escape_what_users_typed(site: Console) -> None:
    with httpx.Client(base_url=site.base_url) as browser:
        token = csrf(browser.get("/console/login").text)
        browser.post("/console/login", data={"csrf": token, "username": SCRIPT, "password": "x"})
    with login(site.base_url, "admin") as admin:
        page = admin.get("/console/audit").text
        assert SCRIPT not in page and "&lt;script&gt;" in page
