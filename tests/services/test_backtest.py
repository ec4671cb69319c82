"""Backtesting a draft config against the stored leads (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import func, select

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import Account, Caps, Org
from leadroute.services.activities import ActivityService
from leadroute.services.backtest import backtest
from leadroute.services.routing import RoutingService
from tests.services import fixtures

# The active config's flow, with North America sent to a pool of two reps instead of four.
PAIR = (
    fixtures.CONFIG.replace("name: service-test", "name: pair-draft")
    .replace("pools:\n", "pools:\n  pair:\n    members: [r1, r2]\n    fairness_window: all\n")
    .replace("then: {distribute: sales}", "then: {distribute: pair}")
)

# Every North American lead to r1 by name; everyone else held for review.
ONE_REP = """
name: one-rep
flow:
  - id: named
    when: {account.named: true}
    then: {assign_owner: {}}
  - id: na
    when: {territory: na}
    then: {assign: r1}
  - id: review
    fallback: true
    then: {hold: needs review}
"""

SINCE = fixtures.NOW - timedelta(days=1)


def _routed_store(store: Store, org: Org) -> None:
    """Eight North American leads, one of the named account Acme, two from Germany, routed by
    the active config; then a duplicate of the third lead, routed to its owner."""
    config, seq = fixtures.activate(store, org)
    service = RoutingService(store, clock=lambda: fixtures.NOW)
    service.use(config, seq, org)
    acme = Lead(
        "L-acme",
        {"email": "bo@acme.com", "company": "Acme", "country": "US", "employees": 300},
        channel="api",
        received_at=fixtures.NOW - timedelta(minutes=1),
    )
    store.add_leads([*fixtures.leads(8), acme, *fixtures.leads(2, country="DE", start=8)])
    service.route_pending()
    duplicate = Lead(
        "L-dup",
        {"email": "p2@co2.com", "company": "Co 2", "country": "US", "employees": 50},
        channel="api",
        received_at=fixtures.NOW,
    )
    store.add_leads([duplicate])
    service.route_pending()


def _row_counts(store: Store) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            table.name: int(conn.scalar(select(func.count()).select_from(table)) or 0)
            for table in t.metadata.sorted_tables
        }


def test_a_draft_moves_leads_and_writes_nothing(store: Store) -> None:
    org = fixtures.org(4)
    _routed_store(store, org)
    assert store.lead("L-dup").duplicate_of == "L00002"  # type: ignore[union-attr]
    before_rows = _row_counts(store)
    draft, _ = fixtures.config(org, PAIR)
    seen: list[int] = []
    report = backtest(store, draft, since=SINCE, progress=seen.append, on_total=seen.append)

    assert _row_counts(store) == before_rows
    assert seen == [12, 12]  # the total, then one chunk
    assert report.leads == 12 and report.skipped == {}
    # round robin over four reps, then over two: the third and fourth leads of each round move
    assert report.reps.before == Counter({"r1": 3, "r2": 2, "r3": 3, "r4": 2})
    assert report.reps.after == Counter({"r1": 6, "r2": 4})
    assert report.matrix == Counter(
        {
            ("rep:r1", "rep:r1"): 3,
            ("rep:r2", "rep:r2"): 2,
            ("rep:r3", "rep:r1"): 3,  # the duplicate follows its original to r1
            ("rep:r4", "rep:r2"): 2,
            ("queue:nurture", "queue:nurture"): 2,
        }
    )
    assert report.changed == 5
    assert report.examples[("rep:r3", "rep:r1")] == ["L00002", "L00006", "L-dup"]
    assert (
        report.routes.before
        == report.routes.after
        == Counter({"na": 8, "named": 1, "fallback": 2, "(none)": 1})
    )
    assert report.queues.after == Counter({"nurture": 2})
    fairness = {f.scope: f for f in report.fairness}
    assert set(fairness) == {"overall", "pair", "sales"}
    assert (fairness["sales"].before.spread, fairness["sales"].after.spread) == (1, 6)
    assert fairness["sales"].after.gini > fairness["sales"].before.gini
    assert fairness["pair"].after.leads == 10 and fairness["pair"].after.spread == 2
    assert report.violations_after == [] and report.unrouted_reasons == Counter()
    assert any("duplicates" in note for note in report.notes)
    record = report.as_record()
    assert record["changed"] == 5 and sum(row["leads"] for row in record["matrix"]) == 12


def test_caps_holds_and_the_period_in_the_replay(store: Store) -> None:
    org = fixtures.org(4)
    org = org.with_rep(replace(org.reps["r1"], caps=Caps(day=3)))
    _routed_store(store, org)
    old = Lead("L-old", {"email": "x@old.com", "country": "US"}, received_at=SINCE - timedelta(1))
    waiting = Lead("L-new", {"email": "y@new.com", "country": "US"}, received_at=fixtures.NOW)
    store.add_leads([old])
    RoutingService(store, clock=lambda: fixtures.NOW).route_pending()
    store.add_leads([waiting])
    before_rows = _row_counts(store)
    draft, _ = fixtures.config(org, ONE_REP)

    report = backtest(store, draft, since=SINCE, until=fixtures.NOW + timedelta(hours=1))

    assert _row_counts(store) == before_rows
    assert report.leads == 12 and report.skipped == {"new": 1}  # L-old is before the period
    assert report.outcomes.after == Counter({"routed": 10, "held": 2})
    assert report.held_reasons == Counter({"review: held (needs review)": 2})
    # assign ignores caps: r1 takes the named lead and all eight others (the duplicate is free)
    [violation] = report.violations_after
    assert (violation.rep_id, violation.period, violation.key) == ("r1", "day", "2026-11-24")
    assert (violation.cap, violation.leads, violation.over) == (3, 9, 6)
    assert report.violations_before == []  # the pool kept r1 within its cap


def test_the_replay_uses_the_stored_account_and_org(store: Store) -> None:
    org = fixtures.org(4)
    _routed_store(store, org)
    # Acme changes hands after its lead was routed; the replay uses the org as stored now.
    store.save_org(
        Org(
            org.reps,
            org.teams,
            org.territories,
            org.segments,
            {"a1": Account("a1", "Acme", "acme.com", owner_id="r4", named=True)},
        )
    )
    draft, _ = fixtures.config(org)
    report = backtest(store, draft, since=SINCE)
    assert report.matrix[("rep:r1", "rep:r4")] == 1
    assert report.examples[("rep:r1", "rep:r4")] == ["L-acme"]
    assert report.changed == 1


def test_intent_comes_from_the_decision_records_and_the_drafts_tiers(store: Store) -> None:
    from tests.services import test_activities as intent_setup

    org = intent_setup._org()
    config, _ = fixtures.activate(store, org, intent_setup.CONFIG)
    routing = RoutingService(store, clock=lambda: fixtures.NOW)
    ActivityService(routing, clock=lambda: fixtures.NOW).record(
        intent_setup._events(("demo_request", "p1@co1.com", 0))  # 50 points: high
    )
    leads = [intent_setup._lead(1, employees=500, title="VP Sales")]
    leads.append(intent_setup._lead(2, employees=500, title="VP Sales"))
    routing.route_batch(intent_setup._rows(leads), batch_id="b1")
    assert [store.decisions(f"L{i}")[0].node for i in (1, 2)] == ["fast_track", "spread"]

    same = backtest(store, config, since=SINCE)
    assert same.routes.after == Counter({"fast_track": 1, "spread": 1})
    assert same.changed == 0 and "intent: scores recorded" in " ".join(same.notes)
    higher, _ = fixtures.config(org, intent_setup.CONFIG.replace("{high: 30}", "{high: 60}"))
    raised = backtest(store, higher, since=SINCE)
    assert raised.routes.after == Counter({"spread": 2})
