"""`leadroute user`: the people who may log in to the web console (not API keys)."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadroute.adapters.store.console_store import ROLES
from leadroute.cli.common import DbOption, console, fail, open_store, root

if TYPE_CHECKING:
    pass

user_app = typer.Typer(
    help="Console users: add, list, change a password, sign out everywhere, unlock, remove; "
    "the audit trail.",
    no_args_is_help=True,
)


def _actor() -> str:
    """Who acts from the command line, for the audit trail."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _password(stdin: bool) -> str:
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise fail("the passwords differ")
    return password


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="read the password from standard input")
]


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the username to log in with")],
    role: Annotated[str, typer.Option("--role", help=f"one of {', '.join(ROLES)}")],
    rep: Annotated[
        str | None, typer.Option("--rep", help="the rep id this user is (managers and reps)")
    ] = None,
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Add a console user; the password is asked for (or read from stdin) and stored hashed."""
    from leadroute.adapters.store.console_store import ConsoleUserStore

    password = _password(password_stdin)
    store = open_store(db)
    if rep is not None and rep not in store.load_org().reps:
        raise fail(f"no rep '{rep}' in the org")
    try:
        user = ConsoleUserStore(store).add(name, password, role=role, rep_id=rep)
    except ValueError as exc:
        raise fail(str(exc)) from None
    root().console_auth(store).user_added(user, by=_actor())
    console.print(f"added {user.role} '{user.username}'", highlight=False)


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """Every console user: name, role, rep, when added."""
    from leadroute.adapters.store.console_store import ConsoleUserStore

    users = ConsoleUserStore(open_store(db)).list()
    if not users:
        console.print("no console users; add one with: leadroute user add NAME --role admin")
        return
    table = Table()
    for column in ("user", "role", "rep", "created"):
        table.add_column(column)
    for user in users:
        table.add_row(
            user.username, user.role, user.rep_id or "-", user.created_at.strftime("%Y-%m-%d")
        )
    console.print(table)


Name = Annotated[str, typer.Argument(help="the username")]


@user_app.command("passwd")
def user_passwd(name: Name, password_stdin: PasswordStdin = False, db: DbOption = None) -> None:
    """Set a user's password; every console session of theirs ends at once."""

    password = _password(password_stdin)
    try:
        ended = root().console_auth(open_store(db)).change_password(name, password, by=_actor())
    except (LookupError, ValueError) as exc:
        raise fail(str(exc.args[0])) from None
    console.print(f"password of '{name}' changed; {ended} session(s) ended", highlight=False)


@user_app.command("signout")
def user_signout(name: Name, db: DbOption = None) -> None:
    """End every console session of a user, on every server (sign out everywhere)."""

    try:
        ended = root().console_auth(open_store(db)).sign_out_everywhere(name, by=_actor())
    except LookupError as exc:
        raise fail(str(exc.args[0])) from None
    console.print(f"'{name}' signed out everywhere: {ended} session(s) ended", highlight=False)


@user_app.command("unlock")
def user_unlock(name: Name, db: DbOption = None) -> None:
    """Clear a user's failed logins, and the lock they caused."""

    cleared = root().console_auth(open_store(db)).unlock(name, by=_actor())
    said = "unlocked" if cleared else "had no failed logins to clear"
    console.print(f"'{name}' {said}", highlight=False)


@user_app.command("remove")
def user_remove(name: Name, db: DbOption = None) -> None:
    """Remove a console user; their sessions end at once."""

    try:
        ended = root().console_auth(open_store(db)).remove_user(name, by=_actor())
    except LookupError as exc:
        raise fail(str(exc.args[0])) from None
    console.print(f"removed '{name}'; {ended} session(s) ended", highlight=False)


@user_app.command("audit")
def user_audit(
    action: Annotated[str | None, typer.Option(help="only this action, e.g. login_failed")] = None,
    user: Annotated[str | None, typer.Option("--user", help="only what this user did")] = None,
    days: Annotated[int, typer.Option(min=1, help="the last N days")] = 7,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 200,
    json_: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
    db: DbOption = None,
) -> None:
    """The audit trail: logins, failures, locks, logouts, password changes, sign-outs, users."""

    auth = root().console_auth(open_store(db))
    found = auth.audit.list(
        since=auth.clock() - timedelta(days=days), action=action, actor=user, limit=limit
    )
    if json_:
        for event in found:
            typer.echo(json.dumps(event.as_record()))
        return
    table = Table()
    for column in ("when (UTC)", "action", "user", "on", "address", "detail"):
        table.add_column(column)
    for event in found:
        detail = "; ".join(f"{k}: {v}" for k, v in sorted(event.detail.items()))
        table.add_row(
            event.at.strftime("%Y-%m-%d %H:%M:%S"),
            event.action,
            event.actor or "-",
            event.target or "-",
            event.address or "-",
            detail,
        )
    console.print(table if found else "nothing in the audit trail for this period")
