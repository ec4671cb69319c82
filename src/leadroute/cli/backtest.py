"""`leadroute backtest DRAFT.yaml --since DATE`: replay a period's leads through a draft config
and show who would have got what. Nothing is written to the store."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadroute.cli.common import DbOption, console, errors, fail, open_store, progress_bar
from leadroute.domain.org import Org

if TYPE_CHECKING:
    from leadroute.domain.backtest import BacktestReport, BeforeAfter


def backtest_command(
    draft: Annotated[Path, typer.Argument(help="draft routing config YAML", metavar="DRAFT.yaml")],
    since: Annotated[datetime, typer.Option(help="leads received since (YYYY-MM-DD, UTC)")],
    until: Annotated[
        datetime | None, typer.Option(help="and before (YYYY-MM-DD, UTC; default: no end)")
    ] = None,
    top: Annotated[int, typer.Option(help="rows of the larger tables")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    db: DbOption = None,
) -> None:
    """Backtest a draft config: replay the leads received in a period through it, each at its
    own time, and compare with where they went: owner changes, load per rep, fairness, cap
    violations, and leads that would be held or unrouted. Nothing is written."""
    from leadroute.services.backtest import backtest
    from leadroute.services.configs import load_config_file

    if not draft.exists():
        raise fail(f"{draft}: no such file")
    store = open_store(db)
    org = store.load_org()
    loaded = load_config_file(draft, org)
    for problem in loaded.problems:
        style = "red" if problem.severity == "error" else "yellow"
        errors.print(f"[{style}]{problem}[/]", highlight=False)
    if not loaded.ok or loaded.config is None:
        raise fail(f"{draft}: invalid, nothing was replayed")
    try:
        with progress_bar() as progress:
            task = progress.add_task(f"replaying through {draft.name}", total=None)
            report = backtest(
                store,
                loaded.config,
                since=_utc(since),
                until=_utc(until) if until is not None else None,
                on_total=lambda n: progress.update(task, total=n),
                progress=lambda n: progress.advance(task, n),
            )
    except LookupError as exc:
        raise fail(f"{draft}: {exc}") from None
    if as_json:
        sys.stdout.write(json.dumps(report.as_record(), indent=2) + "\n")
        return
    show(report, org, top=top)


def show(report: BacktestReport, org: Org, *, top: int = 20) -> None:
    """The report as Rich tables."""
    period = f"since {report.since:%Y-%m-%d %H:%M}" + (
        f" until {report.until:%Y-%m-%d %H:%M}" if report.until else ""
    )
    share = report.changed / report.leads if report.leads else 0.0
    console.print(
        f"Backtest of [bold]{report.config_name}[/] ({report.config_hash}) on {report.leads:,} "
        f"leads received {period} UTC: [bold]{report.changed:,}[/] ({share:.1%}) would end "
        f"somewhere else. {report.seconds:.1f}s",
        highlight=False,
    )
    if report.skipped:
        left = ", ".join(f"{n:,} {status}" for status, n in sorted(report.skipped.items()))
        console.print(f"left out (never routed or rejected at intake): {left}", highlight=False)
    _owner_changes(report, top)
    _loads(report, org, top)
    _fairness(report)
    _counts("Leads per route", "route", report.routes, top)
    _counts("Leads per outcome", "outcome", report.outcomes, top)
    _violations(report, top)
    _held_and_unrouted(report, top)
    for note in report.notes:
        console.print(f"[dim]assumed: {note}[/]", highlight=False)


def _owner_changes(report: BacktestReport, top: int) -> None:
    rows = report.matrix_rows(changed_only=True)
    table = Table(title=f"Owner changes (top {min(top, len(rows))} of {len(rows)})")
    for column in ("from", "to", "leads", "e.g."):
        table.add_column(column, justify="right" if column == "leads" else "left")
    for before, after, n in rows[:top]:
        examples = ", ".join(report.examples.get((before, after), []))
        table.add_row(before, after, f"{n:,}", examples)
    table.caption = f"{report.leads - report.changed:,} leads would stay where they are"
    console.print(table)


def _loads(report: BacktestReport, org: Org, top: int) -> None:
    rows = report.reps.rows()
    table = Table(title=f"Load per rep (largest changes, {min(top, len(rows))} of {len(rows)})")
    for column in ("rep", "name", "before", "after", "change"):
        table.add_column(column, justify="left" if column in ("rep", "name") else "right")
    for rep_id, before, after, delta in rows[:top]:
        rep = org.reps.get(rep_id)
        style = "green" if delta > 0 else "red" if delta < 0 else "dim"
        table.add_row(
            rep_id,
            rep.name if rep else "",
            f"{before:,}",
            f"{after:,}",
            f"[{style}]{delta:+,}[/]",
        )
    console.print(table)


def _fairness(report: BacktestReport) -> None:
    table = Table(title="Fairness: leads per rep among the reps who could take them")
    for column in ("pool", "reps", "min-max before", "spread", "Gini", "min-max after",
                   "spread ", "Gini "):  # fmt: skip
        table.add_column(column, justify="left" if column == "pool" else "right")
    for row in report.fairness:
        b, a = row.before, row.after
        table.add_row(
            row.scope,
            str(a.reps),
            f"{b.low:,}-{b.high:,}",
            f"{b.spread:,}",
            f"{b.gini:.3f}",
            f"{a.low:,}-{a.high:,}",
            f"{a.spread:,}",
            f"{a.gini:.3f}",
        )
    table.caption = "Gini: 0 is an even split, near 1 is one rep taking everything"
    console.print(table)


def _counts(title: str, name: str, counts: BeforeAfter, top: int) -> None:
    table = Table(title=title)
    for column in (name, "before", "after", "change"):
        table.add_column(column, justify="left" if column == name else "right")
    for key, before, after, delta in counts.rows()[:top]:
        table.add_row(key, f"{before:,}", f"{after:,}", f"{delta:+,}")
    console.print(table)


def _violations(report: BacktestReport, top: int) -> None:
    found = report.violations_after
    if not found:
        console.print(
            f"No cap violations in the replay (current decisions: {len(report.violations_before)})."
        )
        return
    table = Table(
        title=f"Cap violations in the replay: {len(found)} "
        f"(current decisions: {len(report.violations_before)})"
    )
    for column in ("rep", "period", "in the rep's time zone", "cap", "leads", "over"):
        table.add_column(column, justify="right" if column in ("cap", "leads", "over") else "left")
    for v in found[:top]:
        table.add_row(v.rep_id, v.period, v.key, str(v.cap), f"{v.leads:,}", f"{v.over:,}")
    console.print(table)


def _held_and_unrouted(report: BacktestReport, top: int) -> None:
    rows = [("unrouted", r, n) for r, n in report.unrouted_reasons.items()]
    rows += [("held", r, n) for r, n in report.held_reasons.items()]
    rows.sort(key=lambda r: (-r[2], r[0], r[1]))
    if not rows:
        console.print("No lead would be held or unrouted in the replay.")
        return
    table = Table(title=f"Held or unrouted in the replay: {sum(n for _, _, n in rows):,} lead(s)")
    for column in ("outcome", "reason", "leads"):
        table.add_column(column, justify="right" if column == "leads" else "left")
    for outcome, reason, n in rows[:top]:
        table.add_row(outcome, reason, f"{n:,}")
    console.print(table)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment
