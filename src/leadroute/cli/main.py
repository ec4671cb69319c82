"""`leadroute`: route leads by rules as code, and see why each lead went where it did."""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from leadroute.cli import render
from leadroute.cli.activity import activity_app
from leadroute.cli.backtest import backtest_command
from leadroute.cli.common import (
    DbOption,
    console,
    errors,
    fail,
    open_store,
    progress_bar,
    root,
)
from leadroute.cli.console_users import user_app
from leadroute.cli.keys import key_app
from leadroute.cli.outbox import outbox_app
from leadroute.cli.privacy import erase
from leadroute.cli.report import report_app
from leadroute.cli.score import score_app
from leadroute.domain.org import Org, RepStatus

if TYPE_CHECKING:
    from leadroute.adapters.leadfile import ColumnMapping
    from leadroute.adapters.store.sql import Store
    from leadroute.domain.config import RoutingConfig
    from leadroute.services.configs import LoadedConfig

app = typer.Typer(help=__doc__, no_args_is_help=True, pretty_exceptions_enable=False)
rep_app = typer.Typer(help="Manage reps: pause, resume, deactivate (re-routes open leads).")
org_app = typer.Typer(help="Load and inspect the org: reps, teams, territories, accounts.")
config_app = typer.Typer(help="Routing config versions: list, activate, show.")
lead_app = typer.Typer(help="Work on single leads: act, close, history, brief.")
app.add_typer(rep_app, name="rep")
app.add_typer(org_app, name="org")
app.add_typer(config_app, name="config")
app.add_typer(lead_app, name="lead")
app.add_typer(report_app, name="report")
app.add_typer(activity_app, name="activity")
app.add_typer(score_app, name="score")
app.add_typer(key_app, name="key")
app.add_typer(user_app, name="user")
app.add_typer(outbox_app, name="outbox")
app.command("erase")(erase)
app.command("backtest")(backtest_command)

MappingOption = Annotated[
    Path | None,
    typer.Option("--mapping", help="mapping file: columns -> fields, channel, source (YAML)"),
]


def _mapping(path: Path | None) -> ColumnMapping | None:
    from leadroute.adapters.leadfile import load_mapping

    if path is None:
        return None
    try:
        return load_mapping(path)
    except ValueError as exc:
        raise fail(str(exc)) from None


def _org(org_file: Path | None, store: Store | None) -> Org:
    from leadroute.adapters.orgfile import OrgFileError, load_org

    if org_file is not None:
        try:
            return load_org(org_file)
        except OrgFileError as exc:
            raise fail(str(exc)) from None
    if store is None:
        return Org()
    return store.load_org()


def _print_problems(loaded: LoadedConfig) -> None:
    for problem in loaded.problems:
        style = "red" if problem.severity == "error" else "yellow"
        errors.print(f"[{style}]{problem}[/]", highlight=False)


def _activate(store: Store, path: Path, org: Org, if_invalid: str) -> tuple[RoutingConfig, int]:
    """Validate a config file against the org, store it as a version and make it active."""
    from leadroute.services.configs import load_config_file
    from leadroute.services.routing import predictor_for

    loaded = load_config_file(path, org)
    _print_problems(loaded)
    if not loaded.ok or loaded.config is None:
        raise fail(f"{path}: invalid; {if_invalid}")
    try:
        predictor_for(store, loaded.config)
    except LookupError as exc:
        raise fail(f"{path}: {exc}; {if_invalid}") from None
    seq = store.save_config(
        content_hash=loaded.config.content_hash,
        name=loaded.config.name,
        document=loaded.document,
        source=loaded.source,
        activate=True,
    )
    return loaded.config, seq


@app.command()
def check(
    config: Annotated[Path, typer.Argument(help="routing config YAML")],
    org_file: Annotated[
        Path | None, typer.Option("--org", help="org YAML (else the store)")
    ] = None,
    leads: Annotated[Path | None, typer.Option(help="CSV/JSONL of leads to dry-run")] = None,
    mapping: MappingOption = None,
    db: DbOption = None,
) -> None:
    """Validate a config: errors at file:line, unreachable nodes, empty pools, unknown names."""
    from leadroute.adapters.leadfile import read_leads
    from leadroute.services.configs import load_config_file
    from leadroute.services.simulate import simulate

    store = None if org_file else open_store(db)
    org = _org(org_file, store)
    if org_file is None and not org.reps:
        raise fail(
            "no org to check against: pass --org org.yaml, or load one with `leadroute org load`"
        )
    loaded = load_config_file(config, org)
    _print_problems(loaded)
    if not loaded.ok or loaded.config is None:
        raise fail(
            f"{config}: invalid, {sum(p.severity == 'error' for p in loaded.problems)} error(s)"
        )
    cfg = loaded.config
    warnings = sum(p.severity == "warning" for p in loaded.problems)
    console.print(
        f"[green]{config}: valid[/] ({len(cfg.nodes)} nodes, {len(cfg.pools)} pools, "
        f"hash {cfg.content_hash}, {warnings} warning(s))"
    )
    if leads is None:
        return
    rows = list(
        read_leads(
            leads,
            vocabulary=cfg.vocabulary,
            mapping=_mapping(mapping),
            limits=root().lead_limits(),
        )
    )
    good = [r.lead for r in rows if r.lead is not None]
    now = datetime.now(UTC)
    result = simulate(cfg, org, good, now=lambda lead: lead.received_at or now)
    table = Table(title=f"Dry run of {len(rows)} leads from {leads}")
    table.add_column("#", justify="right")
    table.add_column("node")
    table.add_column("action")
    table.add_column("leads", justify="right")
    for node in cfg.nodes:
        count = result.nodes.get(node.id, 0)
        style = "dim" if count == 0 else ""
        table.add_row(
            str(node.index + 1),
            node.id + (" (fallback)" if node.fallback else ""),
            node.action.describe(),
            f"[{style}]{count}[/]" if style else str(count),
        )
    console.print(table)
    unrouted = result.outcomes.get("unrouted", 0)
    rejected = len(rows) - len(good)
    console.print(
        f"{result.fell_to_fallback} leads fell to the fallback; {unrouted} unrouted; "
        f"{rejected} rejected rows; routed {result.outcomes.get('routed', 0)}, "
        f"held {result.outcomes.get('held', 0)}"
    )
    idle = [n.id for n in cfg.nodes if not result.nodes.get(n.id)]
    if idle:
        console.print(f"[yellow]nodes that took no lead: {', '.join(idle)}[/]")


@app.command()
def route(
    leads: Annotated[Path, typer.Argument(help="CSV or JSON-lines file of leads")],
    config: Annotated[Path | None, typer.Option(help="routing config YAML to activate")] = None,
    org_file: Annotated[Path | None, typer.Option("--org", help="org YAML to load first")] = None,
    output: Annotated[Path | None, typer.Option(help="write decisions as JSON lines")] = None,
    channel: Annotated[str | None, typer.Option(help="channel for rows without one")] = None,
    mapping: MappingOption = None,
    db: DbOption = None,
) -> None:
    """Route a batch of leads, store every decision and print a summary per route and rep."""
    from leadroute.adapters.leadfile import batch_id_for, read_leads

    if not leads.exists():
        raise fail(f"{leads}: no such file")
    store = open_store(db)
    if org_file is not None:
        store.save_org(_org(org_file, None))
    base_dir = config.parent if config is not None else Path(".")
    service = root().routing(store, base_dir=base_dir)
    org = store.load_org()
    if config is not None:
        routing, seq = _activate(store, config, org, "nothing was routed")
        service.use(routing, seq, org)
    else:
        try:
            service.use_active()
        except (LookupError, ValueError) as exc:
            raise fail(str(exc)) from None
    batch_id = batch_id_for(leads)
    rows = read_leads(
        leads,
        vocabulary=service.router.config.vocabulary,
        batch_id=batch_id,
        channel=channel,
        mapping=_mapping(mapping),
        limits=root().lead_limits(),
    )
    out = output.open("w", encoding="utf-8") if output else None
    try:
        with progress_bar() as progress:
            task = progress.add_task(f"routing {leads.name}", total=None)
            result = service.route_batch(
                rows,
                batch_id=batch_id,
                output=out,
                on_ingested=lambda n: progress.update(task, total=n),
                progress=lambda n: progress.advance(task, n),
            )
    finally:
        if out:
            out.close()
    render.summary(console, result, service.router.org)
    if output:
        console.print(f"decisions written to {output}")
    if not result.adds_up:
        raise typer.Exit(2)


@app.command("import")
def import_leads(
    leads: Annotated[Path, typer.Argument(help="CSV or JSON-lines file of leads")],
    channel: Annotated[str | None, typer.Option(help="channel for rows without one")] = None,
    mapping: MappingOption = None,
    db: DbOption = None,
) -> None:
    """Store leads without routing them (route later with `leadroute route-pending`)."""
    from leadroute.adapters.leadfile import batch_id_for, read_leads

    if not leads.exists():
        raise fail(f"{leads}: no such file")
    service = root().routing(open_store(db))
    batch_id = batch_id_for(leads)
    result = service.import_batch(
        read_leads(
            leads,
            batch_id=batch_id,
            channel=channel,
            mapping=_mapping(mapping),
            limits=root().lead_limits(),
        ),
        batch_id=batch_id,
    )
    console.print(
        f"{result.input_rows} records read: "
        + ", ".join(f"{v} {k}" for k, v in sorted(result.outcomes.items()))
        + f" ({'counts add up' if result.accounted else 'COUNTS DO NOT ADD UP'})"
    )


@lead_app.command("close")
def lead_close(
    lead: Annotated[str, typer.Argument(help="lead id")],
    status: Annotated[str, typer.Option(help="contacted, converted or disqualified")] = "contacted",
    db: DbOption = None,
) -> None:
    """Mark a routed lead as worked; it no longer counts as open for load balancing."""

    service = root().routing(open_store(db))
    try:
        service.close_lead(lead, status)
    except (LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"lead {lead} is now {status}")


@lead_app.command("act")
def lead_act(
    lead: Annotated[str, typer.Argument(help="lead id")],
    action: Annotated[str, typer.Argument(help="accept, contacted, convert or disqualify")],
    actor: Annotated[str | None, typer.Option(help="who (default: the owner)")] = None,
    db: DbOption = None,
) -> None:
    """Record what the rep did with an assigned lead; any action stops its SLA clock."""
    from leadroute.services.lifecycle import act

    try:
        status = act(open_store(db), lead, action, now=datetime.now(UTC), actor=actor)
    except (LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"lead {lead}: {action} recorded; status {status}")


@lead_app.command("history")
def lead_history(lead: Annotated[str, typer.Argument(help="lead id")], db: DbOption = None) -> None:
    """The lead's lifecycle: assigned, reminded, escalated, reassigned, accepted..."""
    from leadroute.adapters.registry import lifecycle_log
    from leadroute.services.lifecycle import events

    rows = events(lifecycle_log(open_store(db)), lead)
    if not rows:
        raise fail(f"no lifecycle events for lead '{lead}'")
    table = Table("at", "event", "rep", "by", "detail")
    for row in rows:
        detail = ", ".join(f"{k}={v}" for k, v in row["detail"].items())
        table.add_row(
            row["at"].isoformat(timespec="seconds"),
            row["kind"],
            row["rep"] or "",
            row["actor"] or "",
            detail,
        )
    console.print(table)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="work off what is due, then stop")] = False,
    interval: Annotated[float, typer.Option(help="seconds to wait when idle")] = 1.0,
    lease_seconds: Annotated[
        float, typer.Option(help="a claimed timer is retried after this long")
    ] = 120.0,
    db: DbOption = None,
) -> None:
    """Fire due SLA timers (remind, escalate, reassign, recycle) and deliver the outbox.

    Safe to run several at once on PostgreSQL; stops cleanly on SIGTERM or Ctrl-C."""
    import signal
    import threading
    from datetime import timedelta

    composition = root()
    job = composition.worker(composition.store(db), lease=timedelta(seconds=lease_seconds))
    if once:
        report = job.run_once()
    else:
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        report = job.run(stop, interval=interval)
    console.print(
        f"reminded {report.reminded}, breached {report.breached} (reassigned "
        f"{report.reassigned}, recycled {report.recycled}), skipped {report.skipped}"
    )


@lead_app.command("brief")
def lead_brief(
    lead: Annotated[str, typer.Argument(help="lead id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the brief as JSON")] = False,
    db: DbOption = None,
) -> None:
    """What the rep gets with the lead: who, why them, scores with reasons, recent activity."""

    try:
        brief = root().routing(open_store(db)).brief(lead)
    except LookupError as exc:
        raise fail(str(exc)) from None
    if as_json:
        sys.stdout.write(json.dumps(brief.as_record(), indent=2, default=str) + "\n")
        return
    console.print(brief.text(), highlight=False, markup=False)


@app.command("route-pending")
def route_pending(
    limit: Annotated[int | None, typer.Option(help="route at most this many")] = None,
    retry_held: Annotated[
        bool, typer.Option("--retry-held", help="also route held leads again (once each)")
    ] = False,
    db: DbOption = None,
) -> None:
    """Route leads waiting in the store with the active config (safe to run in parallel)."""

    store = open_store(db)
    service = root().routing(store)
    try:
        result = service.route_pending(limit=limit)
        if retry_held:
            again = service.retry_held()
            console.print(
                f"retried {again.total} held leads: "
                + ", ".join(f"{v} {k}" for k, v in sorted(again.outcomes.items()))
            )
    except (LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    detail = ", ".join(f"{v} {k}" for k, v in sorted(result.outcomes.items()))
    console.print(f"routed {result.total} pending leads" + (f": {detail}" if detail else ""))


@app.command()
def explain(
    lead: Annotated[str, typer.Argument(help="lead id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the decision record")] = False,
    history: Annotated[
        bool, typer.Option("--history", help="every decision, oldest first")
    ] = False,
    db: DbOption = None,
) -> None:
    """Show why a lead went where it did: every node tried, values, reps skipped and why."""
    store = open_store(db)
    stored = store.lead(lead)
    records = store.decisions(lead)
    if stored is None:
        raise fail(f"no lead '{lead}' in the store")
    if not records:
        message = f"lead '{lead}' is {stored.status}"
        if stored.reason:
            message += f": {stored.reason}"
        if as_json:
            console.print_json(
                json.dumps(
                    {
                        "lead_id": lead,
                        "outcome": stored.status,
                        "reason": stored.reason,
                        "nodes": [],
                    }
                )
            )
            return
        console.print(message)
        return
    shown = records if history else [r for r in records if r.current] or records[-1:]
    if as_json:
        payload = [r.record | {"decision_id": r.id, "current": r.current} for r in shown]
        sys.stdout.write(
            json.dumps(payload if history else payload[0], indent=2, default=str) + "\n"
        )
        return
    for stored_decision in shown:
        render.decision(console, stored_decision.record, current=stored_decision.current)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    rate_per_minute: Annotated[
        int | None,
        typer.Option(help="requests per API key and minute (default $LEADROUTE_RATE_PER_MINUTE)"),
    ] = None,
    header_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="seconds a client may take to send a request's line and headers "
            "(default $LEADROUTE_HEADER_TIMEOUT, 10)",
        ),
    ] = None,
    body_timeout: Annotated[
        float | None,
        typer.Option(
            min=0.001,
            help="seconds a client may take to send a request's whole body; later: 408 "
            "(default $LEADROUTE_BODY_TIMEOUT, 30)",
        ),
    ] = None,
    keep_alive_timeout: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="seconds an idle connection is kept open between requests "
            "(default $LEADROUTE_KEEP_ALIVE_TIMEOUT, 5)",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Serve the HTTP API: leads in real time, activities, reps, configs, webhooks (see /docs)."""
    import uvicorn

    composition = root().fixed()  # the settings read once, for the whole server
    store = composition.store(db)
    app_ = composition.api(store, rate_per_minute=rate_per_minute, body_timeout=body_timeout)
    config = composition.server(
        app_,
        host=host,
        port=port,
        header_timeout=header_timeout,
        keep_alive_timeout=keep_alive_timeout,
    )
    server = uvicorn.Server(config)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:  # as uvicorn.run: the port is taken, the address is wrong...
        raise typer.Exit(3)


@app.command()
def schema(
    output: Annotated[Path | None, typer.Option(help="write to a file")] = None,
) -> None:
    """Print the JSON Schema of routing config files."""
    from leadroute.domain.schema import config_schema

    text = json.dumps(config_schema(), indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
    else:
        sys.stdout.write(text + "\n")


@app.command()
def reference() -> None:
    """Print the config reference (fields and operators) as Markdown."""
    from leadroute.reference import config_reference

    sys.stdout.write(config_reference())


@app.command()
def demo(
    directory: Annotated[Path, typer.Option("--dir", help="where to write the sample")] = Path(
        "leadroute-demo"
    ),
    leads: Annotated[int, typer.Option(help="number of sample leads")] = 10_000,
    template: Annotated[str, typer.Option(help="template to route with")] = "territory_segment",
    db: DbOption = None,
) -> None:
    """Build a sample org and 10,000 leads, route them with a shipped template, show results."""
    from leadroute.sample import write_sample
    from leadroute.templates import template_path

    try:
        template_file = template_path(template)
    except LookupError as exc:
        raise fail(str(exc)) from None
    directory.mkdir(parents=True, exist_ok=True)
    files = write_sample(directory, leads=leads)
    config_path = directory / "routing.yaml"
    shutil.copyfile(template_file, config_path)
    db_url = db
    if db_url is None:
        db_file = directory / "leadroute.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db_file}{suffix}").unlink(missing_ok=True)
        db_url = f"sqlite:///{db_file}"
    console.print(
        f"Sample org and {leads:,} leads written to {directory}/ "
        f"({files.org.name}, {files.leads.name}); routing with {config_path}"
    )
    route(
        files.leads,
        config=config_path,
        org_file=files.org,
        output=directory / "decisions.jsonl",
        channel=None,
        db=db_url,
    )
    some = _first_lead(db_url)
    db_flag = "" if db else f" --db {db_url}"
    console.print(
        "\n[bold]What to try next[/] (with the virtualenv active: source .venv/bin/activate)"
    )
    console.print(f"  leadroute explain {some}{db_flag}        why this lead went where it did")
    console.print(f"  leadroute check {config_path} --org {files.org} --leads {files.leads}")
    console.print(f"  leadroute rep deactivate REP_ID{db_flag}   hand a rep's open leads on")
    console.print("  leadroute schema                     JSON Schema for config files")
    console.print(f"  leadroute report flow{db_flag}         how many leads each node took")
    console.print(f"  leadroute user add admin --role admin{db_flag}")
    console.print(f"  leadroute serve{db_flag}   then the console: http://127.0.0.1:8000/console/")


def _first_lead(db_url: str) -> str:
    from leadroute.adapters.store.sql import Store

    store = Store(db_url)
    routed = store.leads(status="routed", limit=1)
    return routed[0].lead.id if routed else "LEAD_ID"


@rep_app.command("deactivate")
def rep_deactivate(rep: str, db: DbOption = None) -> None:
    """Deactivate a rep and re-route its open leads through the flow."""

    service = root().routing(open_store(db))
    try:
        decisions = service.deactivate_rep(rep)
    except (LookupError, ValueError) as exc:
        raise fail(str(exc)) from None
    console.print(f"{rep} deactivated; {len(decisions)} open leads re-routed")
    for decision in decisions:
        target = decision.rep_id or decision.queue or decision.outcome.value
        console.print(f"  {decision.lead_id} → {target}  ({decision.reason})")


def _set_status(rep: str, status: RepStatus, db: str | None) -> None:
    if not open_store(db).set_rep_status(rep, status):
        raise fail(f"unknown rep '{rep}'")
    console.print(f"{rep} is now {status.value}")


@rep_app.command("pause")
def rep_pause(rep: str, db: DbOption = None) -> None:
    """Pause a rep: no new leads until resumed; open leads stay."""
    _set_status(rep, RepStatus.PAUSED, db)


@rep_app.command("resume")
def rep_resume(rep: str, db: DbOption = None) -> None:
    """Resume a paused rep (no catch-up burst under the default absence policy)."""
    _set_status(rep, RepStatus.ACTIVE, db)


@org_app.command("load")
def org_load(
    file: Path,
    replace: Annotated[bool, typer.Option(help="drop org rows not in the file")] = False,
    db: DbOption = None,
) -> None:
    """Load reps, teams, territories, segments and accounts from YAML (and CSV) into the store."""

    org = _org(file, None)
    service = root().routing(open_store(db))
    handed = service.load_org(org, replace=replace)
    console.print(
        f"loaded {len(org.reps)} reps, {len(org.teams)} teams, "
        f"{len(org.territories)} territories, {len(org.segments)} segments, "
        f"{len(org.accounts)} accounts"
    )
    for rep_id, decisions in handed.items():
        console.print(f"{rep_id} is now inactive: {len(decisions)} open leads re-routed")


@org_app.command("show")
def org_show(db: DbOption = None) -> None:
    """List reps with role, teams, status, weight and caps."""
    org = open_store(db).load_org()
    table = Table(title=f"{len(org.reps)} reps")
    for column in ("id", "name", "role", "teams", "time zone", "status", "weight", "caps"):
        table.add_column(column)
    for rep in org.reps.values():
        caps = ", ".join(f"{k} {v}" for k, v in rep.caps.items()) or "—"
        table.add_row(
            rep.id,
            rep.name,
            rep.role.value,
            ", ".join(rep.teams),
            rep.timezone,
            rep.status.value,
            f"{rep.weight:g}",
            caps,
        )
    console.print(table)


@config_app.command("list")
def config_list(db: DbOption = None) -> None:
    """Every stored config version: sequence, hash, name, when, which is active."""
    table = Table(title="Routing config versions")
    for column in ("seq", "hash", "name", "created", "active"):
        table.add_column(column)
    for cfg in open_store(db).configs():
        table.add_row(
            str(cfg.seq),
            cfg.hash,
            cfg.name,
            f"{cfg.created_at:%Y-%m-%d %H:%M}",
            "[green]active[/]" if cfg.active else "",
        )
    console.print(table)


@config_app.command("activate")
def config_activate(file: Path, db: DbOption = None) -> None:
    """Validate a config against the stored org and make it the active version."""
    store = open_store(db)
    routing, seq = _activate(store, file, store.load_org(), "the active config is unchanged")
    console.print(f"activated {routing.name} as version #{seq} (hash {routing.content_hash})")


@config_app.command("show")
def config_show(seq: Annotated[int | None, typer.Argument()] = None, db: DbOption = None) -> None:
    """Print a stored config version (default: the active one)."""
    stored = open_store(db).config(seq)
    if stored is None:
        raise fail("no such config version")
    sys.stdout.write(stored.source)
