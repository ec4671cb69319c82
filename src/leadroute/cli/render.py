"""Rich rendering for the CLI: batch summaries, decision records, check reports."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from leadroute.domain.org import Org

if TYPE_CHECKING:
    from leadroute.services.routing import BatchSummary

OUTCOME_STYLE = {"routed": "green", "held": "yellow", "unrouted": "red", "rejected": "magenta"}


def summary(console: Console, result: BatchSummary, org: Org | None = None) -> None:
    from leadroute.domain.backtest import NO_ROUTE

    totals = Table(title="Leads by outcome", show_footer=True)
    totals.add_column("outcome", footer="total")
    totals.add_column("leads", justify="right", footer=str(result.total))
    for outcome in ("routed", "held", "unrouted", "rejected"):
        totals.add_row(
            f"[{OUTCOME_STYLE[outcome]}]{outcome}[/]", str(result.outcomes.get(outcome, 0))
        )
    console.print(totals)
    if result.already_decided:
        console.print(
            f"{result.already_decided} leads were already in the store and kept "
            "their earlier decision (every table counts them by that decision)."
        )
    _counter_table(
        console,
        "Leads by route",
        "route",
        result.routes,
        caption=f"{NO_ROUTE}: decided before any route (a duplicate given to its owner, "
        "a lead missing what the config requires)"
        if NO_ROUTE in result.routes
        else None,
    )
    reps = Table(title="Leads by rep")
    reps.add_column("rep")
    reps.add_column("name")
    reps.add_column("leads", justify="right")
    for rep_id, count in sorted(result.reps.items(), key=lambda kv: (-kv[1], kv[0])):
        name = org.reps[rep_id].name if org and rep_id in org.reps else ""
        reps.add_row(rep_id, name, str(count))
    if result.reps:
        console.print(reps)
    if result.queues:
        _counter_table(console, "Leads by queue", "queue", result.queues)
    for title, reasons in (("Held", result.held_reasons), ("Unrouted", result.unrouted_reasons)):
        if reasons:
            _counter_table(console, f"{title}: reasons", "reason", reasons)
    if result.rejections:
        table = Table(title=f"Rejected rows ({len(result.rejections)})")
        table.add_column("row", justify="right")
        table.add_column("reason")
        for row, reason in result.rejections[:20]:
            table.add_row(str(row or ""), reason)
        if len(result.rejections) > 20:
            table.add_row("...", f"{len(result.rejections) - 20} more")
        console.print(table)
    status = "[green]counts add up[/]" if result.adds_up else "[red]COUNTS DO NOT ADD UP[/]"
    rate = result.total / result.seconds if result.seconds else 0.0
    if result.input_rows is not None and result.input_rows != result.total:
        console.print(f"[red]{result.input_rows} records read but {result.total} accounted for[/]")
    console.print(
        f"{result.total} leads: "
        + ", ".join(
            f"{result.outcomes.get(o, 0)} {o}" for o in ("routed", "held", "unrouted", "rejected")
        )
        + f" ({status}); {result.seconds:.1f}s, {rate:,.0f} leads/s"
    )


def _counter_table(
    console: Console, title: str, column: str, counts: Counter[str], caption: str | None = None
) -> None:
    table = Table(title=title, caption=caption)
    table.add_column(column)
    table.add_column("leads", justify="right")
    for key, count in counts.most_common():
        table.add_row(key, str(count))
    console.print(table)


def _value(value: Any) -> str:
    return "—" if value is None else repr(value)


def decision(
    console: Console, record: dict[str, Any], *, index: int | None = None, current: bool = True
) -> None:
    from leadroute.domain.brief import score_lines

    outcome = record["outcome"]
    style = OUTCOME_STYLE.get(outcome, "white")
    config = record.get("config") or {}
    header = f"[bold]Lead {record['lead_id']}[/]: [{style}]{outcome}[/]"
    if record.get("rep"):
        header += f" to [bold]{record['rep']}[/]"
    if record.get("queue"):
        header += f" to queue [bold]{record['queue']}[/]"
    if not current:
        header += " [dim](superseded)[/]"
    console.print(header)
    console.print(f"  why: {record['reason']}")
    console.print(
        f"  config: {config.get('name')} #{config.get('seq')} "
        f"(hash {config.get('hash')}); decided {record['decided_at']}"
    )
    if record.get("account"):
        account = record["account"]
        console.print(
            f"  account: {account.get('name')} ({account.get('id')}), "
            f"{account.get('status')}, owner {account.get('owner') or '—'}"
        )
    else:
        console.print("  account: no matched account")
    if record.get("redirect_url") or record.get("message"):
        console.print(
            f"  hand-off: {record.get('redirect_url') or ''} {record.get('message') or ''}"
        )
    if record.get("booking_link"):
        console.print(f"  booking link: {record['booking_link']}")
    for number, node in enumerate(record.get("nodes", []), start=1):
        mark = "[green]✓[/]" if node["matched"] else "[dim]✗[/]"
        name = node.get("name", node["node"])
        console.print(f"  {number:>2}. {mark} {name} [dim]when {node['condition']}[/]")
        values = ", ".join(f"{k}={_value(v)}" for k, v in node.get("values", {}).items())
        if values:
            console.print(f"      values: {values}")
        if node.get("result"):
            console.print(f"      → {node['result']}")
        if node.get("candidates"):
            table = Table(show_header=True, header_style="dim", padding=(0, 1))
            for col in ("rep", "", "reason", "detail", "window count", "open"):
                table.add_column(col)
            for cand in node["candidates"]:
                chosen = cand.get("eligible") and not cand.get("reason")
                table.add_row(
                    cand["rep"],
                    "[green]chosen[/]" if chosen else "skipped",
                    cand.get("reason", ""),
                    cand.get("detail", ""),
                    str(cand.get("count", "")),
                    str(cand.get("open", "")),
                )
            console.print(table)
    for line in score_lines(record.get("scores") or {}):
        console.print(f"  {line}", highlight=False)
    if record.get("missing"):
        console.print(f"  missing (minimal viable lead): {', '.join(record['missing'])}")
    quality(console, record.get("data_quality") or {})
    timings = record.get("timings") or {}
    if timings:
        console.print("  timings: " + ", ".join(f"{k}={v}" for k, v in timings.items()))


def quality(console: Console, data: dict[str, Any]) -> None:
    """The data-quality part of a record: cleaning, duplicate, account match, enrichment."""
    if not data:
        return
    console.print("  data quality:")
    for flag in data.get("flags", []):
        console.print(f"    [yellow]flag[/] {flag.get('code')}: {flag.get('message')}")
    changes = data.get("changes") or {}
    shown = {k: v for k, v in changes.items() if v[0] not in (None, "")}
    if shown:
        text = "; ".join(f"{k} {v[0]!r} → {v[1]!r}" for k, v in shown.items())
        console.print(f"    cleaned: {text}")
    if data.get("duplicate"):
        dup = data["duplicate"]
        console.print(f"    duplicate of {dup.get('lead_id')} ({dup.get('reason')})")
    match = data.get("account_match") or {}
    if match:
        console.print(
            f"    account match: {match.get('reason')} (confidence {match.get('confidence')})"
        )
        for cand in (match.get("candidates") or [])[1:]:
            console.print(
                f"      also considered {cand.get('name')} ({cand.get('account_id')}): "
                f"{cand.get('method')} {cand.get('score')}"
            )
    enrichment = data.get("enrichment") or {}
    for name, prov in (enrichment.get("provenance") or {}).items():
        value = (enrichment.get("fields") or {}).get(name)
        console.print(
            f"    enriched {name}={value!r} from {prov.get('provider')} "
            f"(confidence {prov.get('confidence')}, cached {prov.get('cached')})"
        )
