"""`leadroute erase`: erase a person's data (GDPR), keeping every count."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from leadroute.cli.common import DbOption, console, fail, open_store

if TYPE_CHECKING:
    from leadroute.services.privacy import ErasureReport


def _show(report: ErasureReport) -> None:
    verb = "would rewrite" if report.dry_run else "rewrote"
    console.print(
        f"{len(report.lead_ids)} lead(s): {', '.join(report.lead_ids) or '-'}", highlight=False
    )
    if report.linked:
        console.print(f"found through duplicate links: {', '.join(report.linked)}")
    rows = ", ".join(f"{n} {table}" for table, n in report.rows.items() if n) or "nothing"
    console.print(f"{verb}: {rows}", highlight=False)
    if report.mentions:
        quoted = ", ".join(f"{n} {table}" for table, n in report.mentions.items())
        console.print(f"other rows quoting the person: {quoted}", highlight=False)
    if report.cached_lookups:
        console.print(f"cached enrichment answers deleted: {report.cached_lookups}")


def erase(
    email: Annotated[str | None, typer.Option(help="the person's email (any case)")] = None,
    lead: Annotated[str | None, typer.Option(help="the id of one of the person's leads")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask to confirm")] = False,
    db: DbOption = None,
) -> None:
    """Erase a person's data from leads, decisions, activities, the outbox and stored answers.

    Rows stay (with "[erased]" in place of personal data), so every count and report stays.
    Without --yes, shows what would be touched and asks first."""
    from leadroute.adapters.registry import person_erasure
    from leadroute.services.privacy import erase_person
    from leadroute.services.routing import utc_now

    if (email is None) == (lead is None):
        raise fail("give exactly one of --email and --lead")
    erasure = person_erasure(open_store(db))
    try:
        if not yes:
            preview = erase_person(erasure, email=email, lead_id=lead, now=utc_now(), dry_run=True)
            if not preview.found:
                console.print("nothing stored about that person")
                return
            _show(preview)
            if not typer.confirm("erase this person's data? this cannot be undone"):
                raise typer.Exit(1)
        report = erase_person(erasure, email=email, lead_id=lead, now=utc_now(), actor="cli")
    except ValueError as exc:
        raise fail(str(exc)) from None
    if not report.found:
        console.print("nothing stored about that person")
        return
    _show(report)
    console.print(f"erased at {report.at.isoformat()}", highlight=False)
