"""`leadroute outbox`: what waits to be delivered, what is dead and why; re-drive dead messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadroute.adapters.store.outbox_store import STATUSES
from leadroute.cli.common import DbOption, console, fail, open_store

if TYPE_CHECKING:
    pass

outbox_app = typer.Typer(
    help="The notification and CRM outbox: counts, dead messages, re-drive.", no_args_is_help=True
)


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str, typer.Option(help=f"one of {', '.join(STATUSES)}")] = "dead",
    lead: Annotated[str | None, typer.Option(help="only this lead's messages")] = None,
    limit: Annotated[int, typer.Option(help="show at most this many")] = 100,
    db: DbOption = None,
) -> None:
    """Counts by status, then the messages of one status (default: dead) with their last error."""
    from leadroute.adapters.store.outbox_store import OutboxStore

    if status not in STATUSES:
        raise fail(f"unknown status '{status}': use one of {', '.join(STATUSES)}")
    store = open_store(db)
    try:
        queue = OutboxStore(store)
        counts = queue.counts()
        rows = queue.list(status=status, lead_id=lead, limit=limit)
    finally:
        store.dispose()
    console.print(", ".join(f"{counts[s]} {s}" for s in STATUSES))
    if not rows:
        return
    table = Table(title=f"{status} messages")
    for column in ("id", "channel", "target", "event", "lead", "tries", "last error"):
        table.add_column(column, justify="right" if column in ("id", "tries") else "left")
    for row in rows:
        table.add_row(
            str(row.id),
            row.channel,
            row.target,
            row.event,
            row.lead_id or "",
            str(row.attempts),
            row.last_error or "",
        )
    console.print(table)


@outbox_app.command("retry-dead")
def outbox_retry_dead(
    ids: Annotated[
        list[int] | None, typer.Argument(help="message ids (default: every dead one)")
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(help="only this channel kind: slack, email, webhook, salesforce..."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Give dead messages a fresh set of tries once their cause is fixed; a running
    `leadroute worker` delivers them (with the same delivery id as before)."""
    from leadroute.adapters.registry import outbox_queue
    from leadroute.services.outbox import retry_dead

    store = open_store(db)
    try:
        again = retry_dead(
            outbox_queue(store), now=datetime.now(UTC), ids=ids or (), channel=channel
        )
    except LookupError as exc:
        raise fail(str(exc)) from None
    finally:
        store.dispose()
    console.print(f"{len(again)} dead messages queued again")
    for row in again:
        console.print(
            f"  #{row.id} {row.channel}/{row.target} {row.event} lead {row.lead_id or '-'}: "
            f"was {row.last_error or 'dead'}",
            highlight=False,
            markup=False,
        )
