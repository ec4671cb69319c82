"""`leadroute report ...`: speed to lead and conversion, data completeness, fairness of the
hand-out over time, and which criteria convert best; as Rich tables, CSV or JSON."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from leadroute.cli.common import DbOption, console, fail, open_store
from leadroute.services.reports import CRITERIA, DEFAULT_CRITERIA

if TYPE_CHECKING:
    from leadroute.services.reports import (
        CriteriaReport,
        CriterionValue,
        FairnessReport,
    )

report_app = typer.Typer(
    help="Reports: speed to lead and conversion; fairness over time; which criteria convert "
    "best; data completeness.",
    no_args_is_help=True,
)

DAYS = 30  # the default period of fairness and criteria: the last 30 days

SinceOption = Annotated[
    datetime | None,
    typer.Option(help=f"from this day (YYYY-MM-DD, UTC; default: {DAYS} days ago)"),
]
UntilOption = Annotated[
    datetime | None, typer.Option(help="and before this day (YYYY-MM-DD, UTC; default: no end)")
]
CsvOption = Annotated[Path | None, typer.Option("--csv", help="also write CSV here")]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON")]


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment and moment.tzinfo is None else moment


def _since(moment: datetime | None) -> datetime:
    if moment is not None:
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=DAYS)


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    from leadroute.services.reports import to_csv

    try:
        path.write_text(to_csv(rows), encoding="utf-8")
    except OSError as exc:
        raise fail(f"{path}: cannot write: {exc.strerror}") from None


@report_app.command("performance")
def report_performance(
    by: Annotated[str, typer.Option(help="route, rep, config, source or segment")] = "route",
    since: Annotated[
        datetime | None, typer.Option(help="leads captured since (YYYY-MM-DD)")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="and before (YYYY-MM-DD)")] = None,
    csv_file: CsvOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Speed to lead (to assignment, to first touch) and conversion, by route, rep, config
    version, source or segment."""
    from leadroute.services.reports import performance, performance_rows

    try:
        groups = performance(open_store(db), by=by, since=_utc(since), until=_utc(until))
    except ValueError as exc:
        raise fail(str(exc)) from None
    records = [g.as_record() for g in groups]
    if csv_file is not None:
        _write_csv(csv_file, performance_rows(groups))
    if as_json:
        sys.stdout.write(json.dumps(records, indent=2) + "\n")
        return

    def secs(value: object) -> str:
        return "" if value is None else f"{value:,.0f}s"

    table = Table(title=f"Speed to lead and conversion by {by}")
    headers = (by, "leads", "routed", "held", "to assign p50", "p90", "touched",
               "to touch p50", "p90 ", "converted", "conversion")  # fmt: skip
    for header in headers:
        table.add_column(header, justify="left" if header == by else "right")
    for r in records:
        outcomes: dict[str, int] = r["outcomes"]
        conversion = r["conversion"]
        table.add_row(
            str(r["key"]),
            str(r["leads"]),
            str(sum(v for k, v in outcomes.items() if k not in ("held", "unrouted"))),
            str(outcomes.get("held", 0)),
            secs(r["speed_to_assign_p50_s"]),
            secs(r["speed_to_assign_p90_s"]),
            str(r["touched"]),
            secs(r["speed_to_touch_p50_s"]),
            secs(r["speed_to_touch_p90_s"]),
            str(r["converted"]),
            f"{conversion:.0%}" if conversion is not None else "",
        )
    console.print(table)


@report_app.command("completeness")
def report_completeness(
    batch: Annotated[str | None, typer.Option(help="only this batch id")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="only leads received since (YYYY-MM-DD)")
    ] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="attributes to report (repeatable)")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Share of leads missing each attribute, and how many leads each gap kept from sales."""
    from leadroute.services.reports import completeness

    result = completeness(open_store(db), since=_utc(since), batch_id=batch, fields=field or ())
    if as_json:
        sys.stdout.write(json.dumps(result.as_record(), indent=2) + "\n")
        return
    table = Table(title=f"Completeness of {result.leads} leads")
    for column in ("field", "missing", "share missing", "leads blocked"):
        table.add_column(column, justify="left" if column == "field" else "right")
    for name, missing, share, blocked in result.rows():
        table.add_row(name, str(missing), f"{share:.1%}", str(blocked))
    console.print(table)
    console.print(
        f"{result.held_incomplete} leads held as incomplete (minimal viable lead); "
        "each is counted under every attribute it lacks."
    )


@report_app.command("fairness")
def report_fairness(
    since: SinceOption = None,
    until: UntilOption = None,
    period: Annotated[str, typer.Option(help="day or week (UTC; weeks from Monday)")] = "day",
    by: Annotated[str, typer.Option(help="pool (that gave the lead) or team (of the rep)")] = (
        "pool"
    ),
    csv_file: CsvOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Fairness over time: leads given to each rep per day or week, per pool or team, with the
    fewest, the most, the spread and the Gini coefficient; in a weighted pool, each rep's leads
    over its weighted share. A pool's reps are its active members now (0 when they got none)."""
    from leadroute.services.reports import fairness

    try:
        report = fairness(
            open_store(db), since=_since(since), until=_utc(until), period=period, by=by
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    if csv_file is not None:
        _write_csv(csv_file, report.csv_rows())
    if as_json:
        sys.stdout.write(json.dumps(report.as_record(), indent=2) + "\n")
        return
    _show_fairness(report)


def _show_fairness(report: FairnessReport) -> None:
    span = f"since {report.since:%Y-%m-%d}" + (
        f" until {report.until:%Y-%m-%d}" if report.until else ""
    )
    table = Table(title=f"Fairness per {report.period} and {report.by} ({span}, UTC)")
    columns = (
        "period",
        report.by,
        "reps",
        "leads",
        "min-max",
        "spread",
        "Gini",
        "leads / share",
        "per rep",
    )
    for column in columns:
        left = column in ("period", report.by, "per rep")
        table.add_column(column, justify="left" if left else "right")
    for row in [*report.rows, *report.overall]:
        f, ratios = row.spread, row.ratios()
        style = "bold" if row.period == "all" else ""
        table.add_row(
            row.period,
            escape(row.scope),
            str(f.reps),
            f"{f.leads:,}",
            f"{f.low:,}-{f.high:,}",
            f"{f.spread:,}",
            f"{f.gini:.3f}",
            f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "",
            escape(", ".join(f"{r.rep_id} {r.leads}" for r in row.reps)),
            style=style,
        )
    table.caption = (
        "Gini: 0 is an even split, near 1 is one rep taking everything. leads / share: in a "
        "weighted pool, leads over the rep's weighted share (1.00 is exact)."
    )
    if not report.rows:
        console.print("No lead was assigned in this period.")
        return
    console.print(table)


@report_app.command("criteria")
def report_criteria(
    since: SinceOption = None,
    until: UntilOption = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help=f"criterion (repeatable): {', '.join(CRITERIA)}, or any lead field; "
            f"default: {', '.join(DEFAULT_CRITERIA)}",
        ),
    ] = None,
    min_leads: Annotated[
        int, typer.Option(min=1, help="fewer closed leads than this are flagged too few")
    ] = 30,
    top: Annotated[int, typer.Option(help="rows of the best-values table")] = 15,
    csv_file: CsvOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Which criteria produce the best results: for each criterion, the leads captured in the
    period grouped by value, with conversion (converted among converted + disqualified), its
    95% Wilson interval, lift over the overall conversion, and speed to first touch."""
    from leadroute.services.reports import criteria

    try:
        report = criteria(
            open_store(db),
            since=_since(since),
            until=_utc(until),
            fields=field or DEFAULT_CRITERIA,
            min_leads=min_leads,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None
    if csv_file is not None:
        _write_csv(csv_file, report.csv_rows())
    if as_json:
        sys.stdout.write(json.dumps(report.as_record(), indent=2) + "\n")
        return
    _show_criteria(report, top)


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _criteria_table(title: str, first: str, values: list[CriterionValue]) -> Table:
    table = Table(title=title)
    for column in (
        first,
        "leads",
        "closed",
        "converted",
        "conversion",
        "95% interval",
        "lift",
        "signal",
        "to touch p50",
    ):
        table.add_column(column, justify="left" if column in (first, "signal") else "right")
    for v in values:
        record = v.as_record()
        interval = v.interval
        touch = record["speed_to_touch_p50_s"]
        style = {"better": "green", "worse": "red", "too few": "dim"}.get(v.signal, "")
        table.add_row(
            escape(v.value if first != "criterion = value" else f"{v.criterion} = {v.value}"),
            f"{v.leads:,}",
            f"{v.closed:,}",
            f"{v.converted:,}",
            _percent(v.conversion),
            f"{interval[0]:.1%}-{interval[1]:.1%}" if interval else "",
            f"{v.lift:.2f}" if v.lift is not None else "",
            v.signal,
            f"{touch:,.0f}s" if touch is not None else "",
            style=style,
        )
    return table


def _show_criteria(report: CriteriaReport, top: int) -> None:
    closed = report.converted + report.disqualified
    span = f"since {report.since:%Y-%m-%d}" + (
        f" until {report.until:%Y-%m-%d}" if report.until else ""
    )
    console.print(
        f"{report.leads:,} leads captured {span} (UTC); {closed:,} closed, {report.converted:,} "
        f"converted: overall conversion {_percent(report.conversion) or '—'}.",
        highlight=False,
    )
    if not closed:
        console.print("No lead was converted or disqualified yet: nothing to compare.")
        return
    best = report.ranked()[:top]
    title = f"Best values by lift (top {len(best)}, at least {report.min_leads} closed leads)"
    console.print(_criteria_table(title, "criterion = value", best))
    for criterion in report.criteria:
        separation = criterion.separation
        title = f"By {criterion.name}" + (
            f" (lift from worst to best: {separation:.2f})" if separation is not None else ""
        )
        console.print(_criteria_table(title, criterion.name, criterion.values))
    console.print(
        f"[dim]conversion: converted / (converted + disqualified). lift: conversion / overall. "
        f"signal: better or worse when the 95% Wilson interval lies wholly above or below the "
        f"overall conversion; too few under {report.min_leads} closed leads.[/]",
        highlight=False,
    )


@report_app.command("flow")
def report_flow(
    version: Annotated[
        int | None, typer.Option("--version", help="config version (default: the active one)")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="decisions from this day (YYYY-MM-DD, UTC)")
    ] = None,
    until: UntilOption = None,
    as_json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Per-node counts of a config version's flow: how many decisions reached each node,
    matched it, were taken by it and fell through (the numbers of the console's flow graph)."""
    from leadroute.adapters.registry import flow_reads
    from leadroute.services.flow import flow_counts

    try:
        flow = flow_counts(
            flow_reads(open_store(db)), seq=version, since=_utc(since), until=_utc(until)
        )
    except LookupError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(flow.as_record(), indent=2) + "\n")
        return
    console.print(
        f"#{flow.seq} {escape(flow.name)}: {flow.decisions:,} decisions"
        + (
            f"; {flow.other_versions:,} more in the period by other versions"
            if flow.other_versions
            else ""
        ),
        highlight=False,
    )
    table = Table(
        "#", "node", "condition", "action", "reached", "matched", "took", "fell through", "outcomes"
    )
    for i, node in enumerate(flow.nodes, 1):
        table.add_row(
            str(i),
            escape(node.id) + (" (fallback)" if node.fallback else ""),
            escape(node.condition),
            escape(node.action),
            f"{node.reached:,}",
            f"{node.matched:,}",
            f"{node.taken:,}",
            f"{node.fell_through:,}",
            ", ".join(f"{k} {v:,}" for k, v in sorted(node.outcomes.items())),
        )
    console.print(table)
    for reason, count in sorted(flow.before_flow.items()):
        console.print(f"held before the flow: {escape(reason)}: {count:,}", highlight=False)
    if flow.unplaced:
        console.print(f"unrouted (no node placed the lead): {flow.unplaced:,}", highlight=False)
