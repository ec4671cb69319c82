"""`leadroute user`: the people who may log in to the web console (not API keys)."""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer
from rich.table import Table

from leadroute.adapters.store.console_store import ROLES, ConsoleUserStore
from leadroute.cli.common import DbOption, console, fail, open_store

user_app = typer.Typer(help="Console users: add one, list them.", no_args_is_help=True)


@user_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="the username to log in with")],
    role: Annotated[str, typer.Option("--role", help=f"one of {', '.join(ROLES)}")],
    rep: Annotated[
        str | None, typer.Option("--rep", help="the rep id this user is (managers and reps)")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="read the password from standard input")
    ] = False,
    db: DbOption = None,
) -> None:
    """Add a console user; the password is asked for (or read from stdin) and stored hashed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            raise fail("the passwords differ")
    store = open_store(db)
    if rep is not None and rep not in store.load_org().reps:
        raise fail(f"no rep '{rep}' in the org")
    try:
        user = ConsoleUserStore(store).add(name, password, role=role, rep_id=rep)
    except ValueError as exc:
        raise fail(str(exc)) from None
    console.print(f"added {user.role} '{user.username}'", highlight=False)


@user_app.command("list")
def user_list(db: DbOption = None) -> None:
    """Every console user: name, role, rep, when added."""
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
