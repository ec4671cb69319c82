"""`leadroute activity`: import and add engagement events, list hot accounts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from leadroute.cli.common import (
    DbOption,
    console,
    errors,
    fail,
    open_store,
    progress_bar,
    root,
)

if TYPE_CHECKING:
    from leadroute.services.activities import ActivitySummary

activity_app = typer.Typer(
    help="Engagement activities: import a file, add one event, list hot (surging) accounts.",
    no_args_is_help=True,
)


def _report(summary: ActivitySummary) -> None:
    console.print(
        f"{summary.received:,} events: {summary.stored:,} stored, "
        f"{summary.duplicates:,} duplicates, {len(summary.rejected):,} rejected "
        f"({'counts add up' if summary.adds_up else 'COUNTS DO NOT ADD UP'})"
    )
    if summary.by_type:
        kinds = ", ".join(f"{n:,} {t}" for t, n in sorted(summary.by_type.items()))
        console.print(f"stored by type: {kinds}", highlight=False)
    for _, reason in summary.rejected[:20]:
        errors.print(f"[yellow]rejected[/] {reason}", highlight=False)
    if len(summary.rejected) > 20:
        errors.print(f"... and {len(summary.rejected) - 20:,} more rejected")
    for decision in summary.rerouted:
        where = decision.rep_id or decision.queue or decision.outcome.value
        console.print(
            f"re-routed {decision.lead_id} -> {where}: {decision.reason}", highlight=False
        )


@activity_app.command("import")
def activity_import(
    file: Annotated[Path, typer.Argument(help="CSV or JSON-lines file of events")],
    source: Annotated[str | None, typer.Option(help="source for events without one")] = None,
    reroute: Annotated[
        bool, typer.Option(help="re-route parked leads whose intent crosses a tier")
    ] = True,
    db: DbOption = None,
) -> None:
    """Import events (type, occurred_at, email/lead_id/domain, url, product, id)."""
    from leadroute.adapters.activityfile import read_activities
    from leadroute.services.activities import ActivityService

    if not file.exists():
        raise fail(f"{file}: no such file")
    service = ActivityService(root().routing(open_store(db)))
    events = list(read_activities(file))
    with progress_bar() as progress:
        task = progress.add_task("recording", total=len(events))
        summary = service.record(
            events,
            source=source,
            reroute=reroute,
            progress=lambda n: progress.advance(task, n),
        )
    _report(summary)
    if not summary.adds_up:
        raise typer.Exit(2)


@activity_app.command("add")
def activity_add(
    type_: Annotated[str, typer.Argument(metavar="TYPE", help="e.g. demo_request, page_view")],
    email: Annotated[str | None, typer.Option(help="the person's email")] = None,
    lead: Annotated[str | None, typer.Option(help="the lead's id")] = None,
    domain: Annotated[str | None, typer.Option(help="company domain (anonymous visit)")] = None,
    url: Annotated[str | None, typer.Option(help="page URL")] = None,
    product: Annotated[str | None, typer.Option(help="product of the content")] = None,
    at: Annotated[str | None, typer.Option(help="when (ISO 8601; default now)")] = None,
    db: DbOption = None,
) -> None:
    """Record one event now and re-route the parked leads it moves."""
    from leadroute.services.activities import ActivityService

    event: dict[str, Any] = {
        "type": type_,
        "email": email,
        "lead_id": lead,
        "domain": domain,
        "url": url,
        "product": product,
        "occurred_at": at or datetime.now(UTC).isoformat(),
    }
    service = ActivityService(root().routing(open_store(db)))
    summary = service.record([(None, event)], source="cli")
    if summary.rejected:
        raise fail(summary.rejected[0][1])
    _report(summary)


@activity_app.command("hot")
def activity_hot(
    limit: Annotated[int, typer.Option(help="show at most this many accounts")] = 20,
    db: DbOption = None,
) -> None:
    """Accounts by web visits in the surge window against their daily baseline."""
    from leadroute.adapters.store.activity_store import ActivityStore
    from leadroute.domain.intent import VISIT_TYPES, IntentModel, IntentScorer

    store = open_store(db)
    routing = root().routing(store)
    intent = routing.router.config.intent if store.config() is not None else None
    scorer = intent or IntentScorer(IntentModel())
    now = datetime.now(UTC)
    surge = scorer.model.surge
    since = now - timedelta(days=surge.window_days + surge.baseline_days)
    visits = ActivityStore(store).for_accounts(None, since=since, types=VISIT_TYPES)
    org = store.load_org()
    rows = []
    for account_id, acts in visits.items():
        result = scorer.account(acts, now)
        rows.append((result.surging, result.window_visits, account_id, result))
    rows.sort(key=lambda r: (not r[0], -r[1], r[2]))
    table = Table(
        title=f"web visits: last {surge.window_days} days vs the {surge.baseline_days} before"
    )
    for column in ("account", "name", "window visits", "baseline/day", "surging"):
        table.add_column(column)
    for surging, window, account_id, result in rows[:limit]:
        account = org.accounts.get(account_id)
        table.add_row(
            account_id,
            account.name if account else "",
            str(window),
            f"{result.baseline_daily:.2f}",
            "[red]yes[/]" if surging else "no",
        )
    console.print(table)
    hot = sum(1 for r in rows if r[0])
    console.print(f"{hot} surging of {len(rows)} accounts with visits")
