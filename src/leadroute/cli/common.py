"""What every command group shares: the consoles, the --db option, the store, errors, progress."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from leadroute.adapters.store.sql import Store
    from leadroute.bootstrap import Root


console = Console()
errors = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="database URL (default: $LEADROUTE_DB or sqlite:///leadroute.db)"),
]


def root() -> Root:
    """The composition root the commands build from: the settings as the environment holds
    them now (leadroute.bootstrap)."""
    from leadroute.bootstrap import Root

    return Root()


def open_store(db: str | None) -> Store:
    """The store at `db` (or the configured one), migrated to the newest schema."""
    return root().store(db)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print an error and return the exit to raise."""
    errors.print(f"[red]error:[/] {message}")
    return typer.Exit(code)


@contextmanager
def progress_bar() -> Iterator[Progress]:
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=errors, transient=False) as progress:
        yield progress
