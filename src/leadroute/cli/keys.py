"""`leadroute key`: create (the key is shown once), list and revoke API keys."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadroute.adapters.store.key_store import SCOPE_HELP, SCOPES
from leadroute.cli.common import DbOption, console, errors, fail, open_store

if TYPE_CHECKING:
    pass

key_app = typer.Typer(
    help="API keys: create one (shown once), list them, revoke one.", no_args_is_help=True
)

_SCOPES_TEXT = "; ".join(f"{s}: {SCOPE_HELP[s]}" for s in SCOPES)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "-"


@key_app.command("create")
def key_create(
    name: Annotated[str, typer.Argument(help="what the key is for, e.g. web-forms")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", "-s", help=f"repeat for several ({_SCOPES_TEXT})"),
    ],
    db: DbOption = None,
) -> None:
    """Create a key and print it once: it is stored only as a hash."""
    from leadroute.adapters.store.key_store import KeyStore

    try:
        plaintext, key = KeyStore(open_store(db)).create(name, scope)
    except ValueError as exc:
        raise fail(str(exc)) from None
    errors.print(
        f"created key '{key.name}' ({', '.join(sorted(key.scopes))}); "
        "copy it now, it cannot be shown again:"
    )
    print(plaintext)


@key_app.command("list")
def key_list(db: DbOption = None) -> None:
    """Every key: name, prefix, scopes, when created and last used, whether revoked."""
    from leadroute.adapters.store.key_store import KeyStore

    keys = KeyStore(open_store(db)).list()
    if not keys:
        console.print("no API keys; create one with: leadroute key create NAME --scope read")
        return
    table = Table()
    for column in ("name", "key", "scopes", "created", "last used", "status"):
        table.add_column(column)
    for key in keys:
        table.add_row(
            key.name,
            f"lr_{key.prefix}_...",
            ", ".join(sorted(key.scopes)),
            _when(key.created_at),
            _when(key.last_used_at),
            "active" if key.active else f"revoked {_when(key.revoked_at)}",
        )
    console.print(table)


@key_app.command("revoke")
def key_revoke(
    name: Annotated[str, typer.Argument(help="the key's name")],
    db: DbOption = None,
) -> None:
    """Revoke a key: it stops working at once here, within seconds in running servers."""
    from leadroute.adapters.store.key_store import KeyStore

    key = KeyStore(open_store(db)).revoke(name)
    if key is None:
        raise fail(f"no key named '{name}'")
    console.print(f"key '{name}' revoked at {_when(key.revoked_at)} UTC", highlight=False)
