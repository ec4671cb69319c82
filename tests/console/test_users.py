"""Console users: passwords are hashed and checked; `leadroute user add` and `list`."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadroute.adapters.store.console_store import ConsoleUserStore, check_password, hash_password
from leadroute.adapters.store.sql import Store
from leadroute.cli.console_users import user_app
from leadroute.domain.org import Rep, build_org


def test_passwords_are_salted_hashes() -> None:
    first, second = hash_password("s3cret-pass"), hash_password("s3cret-pass")
    assert first != second and "s3cret" not in first and first.startswith("$argon2id$")
    assert check_password("s3cret-pass", first) and not check_password("other-pass", first)
    assert not check_password("s3cret-pass", "garbage")


def test_users_are_checked_when_added(store: Store) -> None:
    users = ConsoleUserStore(store)
    users.add("root", "long enough!", role="admin", rep_id=None)
    assert users.verify("root", "long enough!") is not None
    assert users.verify("root", "wrong one!") is None and users.verify("ghost", "x") is None
    for name, password, role, rep, message in (
        ("root", "long enough!", "admin", None, "exists"),
        ("x y", "long enough!", "admin", None, "username"),
        ("a", "short", "admin", None, "12 characters"),
        ("a", "x" * 129, "admin", None, "at most 128"),
        ("b", "long enough!", "boss", None, "role must be"),
        ("c", "long enough!", "rep", None, "needs --rep"),
    ):
        with pytest.raises(ValueError, match=message):
            users.add(name, password, role=role, rep_id=rep)


def test_the_cli_adds_and_lists_users(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'cli.db'}"  # the CLI opens its own store
    store = Store(db_url)
    store.migrate()
    store.save_org(build_org(reps=[Rep(id="r1", name="Ada")]))
    runner = CliRunner()
    added = runner.invoke(
        user_app,
        ["add", "ada", "--role", "rep", "--rep", "r1", "--password-stdin", "--db", db_url],
        input="a long password\n",
    )
    assert added.exit_code == 0, added.output
    assert ConsoleUserStore(store).verify("ada", "a long password") is not None
    ghost = runner.invoke(
        user_app,
        ["add", "bo", "--role", "rep", "--rep", "r9", "--password-stdin", "--db", db_url],
        input="a long password\n",
    )
    assert ghost.exit_code == 1 and "no rep 'r9'" in ghost.output
    listed = runner.invoke(user_app, ["list", "--db", db_url])
    assert listed.exit_code == 0 and "ada" in listed.output and "r1" in listed.output
    store.dispose()


def test_the_cli_changes_passwords_signs_out_unlocks_removes_and_shows_the_audit(
    tmp_path: Path,
) -> None:
    from leadroute.services.console_auth import ACCOUNT, ConsoleAuth

    db_url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = Store(db_url)
    store.migrate()
    store.save_org(build_org(reps=[Rep(id="r1", name="Ada")]))
    auth = ConsoleAuth(store)
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None) -> str:
        done = runner.invoke(user_app, [*args, "--db", db_url], input=stdin)
        assert done.exit_code == 0, done.output
        return done.output

    run("add", "ada", "--role", "rep", "--rep", "r1", "--password-stdin", stdin="first password\n")
    token = auth.login("ada", "first password", address="a").token
    assert token is not None and auth.session(token) is not None
    assert "1 session(s) ended" in run(
        "passwd", "ada", "--password-stdin", stdin="second password\n"
    )
    assert auth.session(token) is None
    assert auth.users.verify("ada", "second password") is not None

    token = auth.login("ada", "second password", address="a").token
    assert token is not None
    assert "signed out everywhere: 1 session(s) ended" in run("signout", "ada")
    assert auth.session(token) is None

    now = auth.clock()
    for _ in range(ACCOUNT.lock_after):  # failed logins, counted as a server counts them
        auth.throttle.fail(
            "user:ada", now=now, forget_before=now - ACCOUNT.forget_after, plan=ACCOUNT.plan
        )
    assert auth.login("ada", "second password", address="a").refused is not None
    assert "unlocked" in run("unlock", "ada")
    assert auth.login("ada", "second password", address="a").user is not None

    assert "removed 'ada'" in run("remove", "ada")
    assert auth.users.get("ada") is None
    missing = runner.invoke(user_app, ["remove", "ada", "--db", db_url])
    assert missing.exit_code == 1 and "no user 'ada'" in missing.output

    lines = run("audit", "--json").splitlines()
    actions = [line.split('"action": "')[1].split('"')[0] for line in lines]
    assert actions[::-1] == [
        "user_added",
        "login",
        "password_changed",
        "login",
        "signed_out_everywhere",
        "login_refused",
        "unlocked",
        "login",
        "user_removed",
    ]
    assert "user_removed" in run("audit", "--action", "user_removed")
    store.dispose()


def test_scrypt_hashes_of_earlier_versions_are_replaced_by_argon2id_at_login(store: Store) -> None:
    import hashlib
    import os

    from sqlalchemy import select, update

    from leadroute.adapters.store.console_tables import console_users

    users = ConsoleUserStore(store)
    users.add("old", "an old password", role="admin", rep_id=None)
    salt = os.urandom(16)
    digest = hashlib.scrypt(b"an old password", salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt${2**14}$8$1${salt.hex()}${digest.hex()}"  # as earlier versions stored it

    def stored() -> str:
        with store.engine.connect() as conn:
            query = select(console_users.c.password_hash)
            return str(conn.execute(query.where(console_users.c.username == "old")).scalar())

    with store.write() as conn:
        conn.execute(update(console_users).values(password_hash=legacy))
    assert users.verify("old", "not the password") is None
    assert stored() == legacy  # a wrong password changes nothing
    assert users.verify("old", "an old password") is not None
    upgraded = stored()
    assert upgraded.startswith("$argon2id$") and "m=19456,t=2,p=1" in upgraded
    assert users.verify("old", "an old password") is not None
    assert stored() == upgraded  # hashed once, not at every login
