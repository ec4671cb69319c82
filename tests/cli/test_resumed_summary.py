"""The summary of a resumed `leadroute route` counts what the store holds.

`leadroute route FILE` runs as a real process on a generated file of 3,000 rows, is killed with
SIGKILL once some leads have a decision, and is run again over the same file. The second run's
summary must describe the whole file as the store holds it: the outcome table adds up to the
input rows; the route table adds up to the leads decided (routed, held, unrouted); the rep and
queue tables add up to the leads routed; the held reasons add up to the leads held; and each
table equals the store's count of current decisions, node by node and rep by rep (a duplicate
given to its owner counts under the route "(none)"). Before the fix, the route and rep tables
counted only the second run's decisions (2,776 of the 2,994 decided in one run here).
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from leadroute.adapters.leadfile import batch_id_for, read_leads
from leadroute.adapters.orgfile import load_org
from leadroute.adapters.store.sql import Store
from leadroute.domain.backtest import NO_ROUTE
from leadroute.sample import write_sample
from leadroute.services.configs import load_config_file
from leadroute.templates import template_path
from tests.cli.test_faults_kill_import import Batch, _kill_mid_way, _start

ROWS = 3_000


def _prepare(store: Store, directory: Path) -> Batch:
    files = write_sample(directory, leads=ROWS, seed=5)
    org = load_org(files.org)
    store.save_org(org)
    loaded = load_config_file(template_path("territory_segment"), org)
    assert loaded.config is not None, loaded.problems
    store.save_config(
        content_hash=loaded.config.content_hash,
        name=loaded.config.name,
        document=loaded.document,
        source=loaded.source,
        activate=True,
    )
    batch_id = batch_id_for(files.leads)
    leads: set[str] = set()
    rejected: set[str] = set()
    for row in read_leads(files.leads, vocabulary=loaded.config.vocabulary, batch_id=batch_id):
        if row.lead is None or row.lead.id in leads:
            rejected.add(f"{batch_id}-{row.row}")
        else:
            leads.add(row.lead.id)
    return Batch(files.leads, batch_id, leads, rejected)


def _table(output: str, title: str) -> dict[str, int]:
    """The rows of a Rich table printed under `title`: first cell -> last cell (a count)."""
    lines = output.splitlines()
    start = next((i for i, line in enumerate(lines) if line.strip() == title), None)
    if start is None:
        return {}
    rows: dict[str, int] = {}
    in_body = False
    for line in lines[start + 1 :]:
        if line.startswith("┡"):
            in_body = True
            continue
        if not in_body:
            continue
        if not line.startswith("│"):
            break  # the footer's rule or the bottom of the table
        cells = [cell.strip() for cell in line.strip().strip("│").split("│")]
        rows[cells[0]] = int(cells[-1])
    return rows


def _store_counts(
    store: Store, batch: Batch
) -> tuple[Counter[str], Counter[str], Counter[str], Counter[str]]:
    """(leads by status, current decisions by node, by rep, by queue) for the batch's leads."""
    with store.engine.connect() as conn:
        statuses = conn.execute(
            text("select status, count(*) from leads where batch_id = :b group by status"),
            {"b": batch.batch_id},
        ).all()
        decided = conn.execute(
            text(
                "select d.node, d.rep_id, d.queue from decisions d "
                "join leads l on l.id = d.lead_id "
                "where l.batch_id = :b and d.is_current"
            ),
            {"b": batch.batch_id},
        ).all()
    nodes = Counter(node or NO_ROUTE for node, _, _ in decided)
    reps = Counter(rep for _, rep, _ in decided if rep)
    queues = Counter(queue for _, _, queue in decided if queue)
    return Counter({s: int(n) for s, n in statuses}), nodes, reps, queues


def test_resumed_route_summary_counts_what_the_store_holds(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    store.migrate()
    try:
        batch = _prepare(store, tmp_path)
        first = _start(("route", "{file}"), batch, db_url, tmp_path / "killed.log")
        _, decided = _kill_mid_way(first, store, batch, "routed")
        assert first.returncode == -signal.SIGKILL
        assert 0 < decided < len(batch.lead_ids), decided

        log = tmp_path / "again.log"
        again = _start(("route", "{file}"), batch, db_url, log)
        assert again.wait(timeout=600) == 0, log.read_text(encoding="utf-8")[-3000:]
        output = log.read_text(encoding="utf-8")
        assert f"{decided} leads were already in the store and kept" in output, output[-3000:]

        outcomes = _table(output, "Leads by outcome")
        routes = _table(output, "Leads by route")
        reps = _table(output, "Leads by rep")
        queues = _table(output, "Leads by queue")
        held = _table(output, "Held: reasons")
        unrouted = _table(output, "Unrouted: reasons")
        assert outcomes and routes and reps, output[-3000:]

        statuses, nodes, owners, queued = _store_counts(store, batch)
        assert statuses["new"] == 0
        assert {k: v for k, v in outcomes.items() if v} == dict(statuses)
        assert sum(outcomes.values()) == batch.rows
        decided_total = outcomes["routed"] + outcomes["held"] + outcomes["unrouted"]
        assert decided_total == len(batch.lead_ids)
        assert sum(routes.values()) == decided_total
        assert sum(reps.values()) + sum(queues.values()) == outcomes["routed"]
        assert sum(held.values()) == outcomes["held"]
        assert sum(unrouted.values()) == outcomes["unrouted"]
        assert routes == dict(nodes)
        assert routes.get(NO_ROUTE), "duplicates given to their owner are counted too"
        assert reps == dict(owners)
        assert queues == dict(queued)
    finally:
        store.dispose()
