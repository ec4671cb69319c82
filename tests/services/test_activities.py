"""Activities in, intent out: ingest, decay into the decision record, surges, the fit x intent
matrix, and re-routing parked leads when new activity crosses a threshold."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import Account, Rep, Segment, Territory, build_org
from leadroute.services.activities import ActivityService
from leadroute.services.routing import RoutingService
from tests.services.fixtures import NOW, activate

CONFIG = """
name: intent-paths
pools:
  ae: {members: [team:ae], fairness_window: all}
  sdr: {members: [team:sdr], fairness_window: all}
queues:
  nurture: {}
scoring:
  fit:
    rules:
      - {when: {employees: {gte: 200}}, points: 40, reason: mid-market or larger}
      - {when: {seniority: [vp, c_level]}, points: 30, reason: senior buyer}
      - {when: {free_email: true}, points: -30, reason: free mail}
    tiers: {A: 60, B: 40, C: 20}
  intent:
    half_life_days: 7
    tiers: {high: 30}
    surge: {window_days: 3, baseline_days: 30, ratio: 10, min_visits: 10}
    reroute: {held: true, queues: [nurture]}
  matrix:
    A: {high: fast_track, low: spread}
    B: {high: fast_track, low: spread}
    C: {high: qualify, low: nurture}
    D: {high: qualify, low: nurture}
flow:
  - id: fast_track
    when: {path: fast_track}
    then: {distribute: ae}
  - id: spread
    when: {path: spread}
    then: {distribute: ae}
  - id: qualify
    when: {path: qualify}
    then: {distribute: sdr}
  - id: nurture
    fallback: true
    then: {queue: nurture}
"""


def _org() -> Any:
    reps = [Rep(id=f"ae{i}", name=f"AE {i}", teams=("ae",)) for i in (1, 2)]
    reps += [Rep(id=f"sdr{i}", name=f"SDR {i}", teams=("sdr",)) for i in (1, 2)]
    return build_org(
        reps=reps,
        territories=[Territory("na", "North America", frozenset({"US"}))],
        segments=[Segment("smb", "SMB", high=200), Segment("mm", "Mid", low=200)],
        accounts=[Account("acc1", "Globex", "globex.com")],
    )


def _lead(i: int, *, employees: int = 20, title: str = "Engineer", domain: str = "") -> Lead:
    domain = domain or f"co{i}.com"
    return Lead(
        id=f"L{i}",
        fields={
            "email": f"p{i}@{domain}",
            "company": f"Co {i}",
            "country": "US",
            "employees": employees,
            "title": title,
        },
        channel="web_form",
        received_at=NOW - timedelta(minutes=5),
    )


@pytest.fixture
def services(store: Store) -> tuple[RoutingService, ActivityService]:
    org = _org()
    activate(store, org, CONFIG)
    clock = lambda: NOW  # noqa: E731
    routing = RoutingService(store, clock=clock)
    return routing, ActivityService(routing, clock=clock)


def _events(*items: tuple[str, str, float]) -> list[tuple[int | None, dict[str, Any]]]:
    """(type, email, days ago) -> numbered events."""
    return [
        (n, {"type": type_, "email": email, "occurred_at": (NOW - timedelta(days=ago)).isoformat()})
        for n, (type_, email, ago) in enumerate(items, start=1)
    ]


def test_intent_is_decayed_capped_and_in_the_decision_record(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    summary = activities.record(
        _events(
            ("demo_request", "p1@co1.com", 7),  # one half-life: 25 points
            ("pricing_page", "p1@co1.com", 0),  # 10
            *[("page_view", "p1@co1.com", 0)] * 20,  # 20 views, capped at 15
        )
    )
    assert (summary.received, summary.stored, summary.adds_up) == (22, 22, True)
    routing.route_batch(_rows([_lead(1, employees=500, title="VP Sales")]), batch_id="b1")
    record = routing.store.decisions("L1")[-1].record
    intent = record["scores"]["intent"]
    assert intent["score"] == 50  # 25 + 10 + 15
    assert intent["tier"] == "high"
    page_views = next(t for t in intent["by_type"] if t["type"] == "page_view")
    assert page_views == {"type": "page_view", "count": 20, "points": 15, "capped": True}
    assert "1 demo request: 25 pts" in intent["reasons"]
    assert record["scores"]["path"] == {
        "fit_tier": "A",
        "intent_tier": "high",
        "path": "fast_track",
    }
    assert record["route"] == "fast_track"


def test_matrix_sends_each_cell_down_its_path(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    activities.record(_events(("demo_request", "p2@co2.com", 0), ("free_trial", "p4@co4.com", 0)))
    leads = [
        _lead(1, employees=500, title="VP Sales"),  # A, low -> spread
        _lead(2, employees=500, title="VP Sales"),  # A, high -> fast_track
        _lead(3),  # D, low -> nurture
        _lead(4),  # D, high -> qualify (SDR)
    ]
    routing.route_batch(_rows(leads), batch_id="b1")
    routes = {lead.id: routing.store.decisions(lead.id)[-1] for lead in leads}
    assert {k: d.node for k, d in routes.items()} == {
        "L1": "spread",
        "L2": "fast_track",
        "L3": "nurture",
        "L4": "qualify",
    }
    assert routes["L4"].rep_id in {"sdr1", "sdr2"}
    assert routes["L3"].queue == "nurture"


def test_new_activity_reroutes_a_nurtured_lead_with_a_linked_record(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    routing.route_batch(_rows([_lead(3)]), batch_id="b1")
    first = routing.store.decisions("L3")[-1]
    assert first.queue == "nurture"
    summary = activities.record(_events(("demo_request", "p3@co3.com", 0)))
    assert [d.lead_id for d in summary.rerouted] == ["L3"]
    history = routing.store.decisions("L3")
    assert len(history) == 2
    second = history[-1]
    assert second.current and not history[0].current
    assert second.supersedes == first.id
    assert second.node == "qualify" and second.rep_id in {"sdr1", "sdr2"}
    assert second.reason.startswith("re-routed because intent moved from low (0) to high (50)")
    assert routing.store.lead("L3").status == "routed"  # type: ignore[union-attr]


def test_activity_below_the_threshold_leaves_the_lead_alone(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    routing.route_batch(_rows([_lead(3)]), batch_id="b1")
    summary = activities.record(_events(("email_click", "p3@co3.com", 0)))
    assert summary.rerouted == []
    assert len(routing.store.decisions("L3")) == 1


def test_a_routed_lead_is_not_rerouted_by_activity(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    routing.route_batch(_rows([_lead(1, employees=500, title="VP Sales")]), batch_id="b1")
    summary = activities.record(_events(("demo_request", "p1@co1.com", 0)))
    assert summary.rerouted == []
    assert len(routing.store.decisions("L1")) == 1


def test_account_surge_marks_a_hot_account_and_wakes_its_parked_leads(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    # A quiet baseline: 6 visits over the 30 days before the window (0.2 a day).
    baseline = [
        (n, {"type": "page_view", "domain": "globex.com", "occurred_at": _ago(5 + 4 * n)})
        for n in range(6)
    ]
    activities.record(baseline)
    lead = _lead(7, domain="globex.com")
    routing.route_batch(_rows([lead]), batch_id="b1")
    first = routing.store.decisions("L7")[-1]
    assert first.record["account"]["id"] == "acc1"
    assert first.record["scores"]["account_intent"]["surging"] is False
    assert first.queue == "nurture"
    # Then 12 anonymous visits in the last 3 days: >= 10 x 0.2 and >= 10 visits.
    burst = [
        (n, {"type": "page_view", "domain": "globex.com", "occurred_at": _ago(n / 10)})
        for n in range(12)
    ]
    summary = activities.record(burst)
    assert [d.lead_id for d in summary.rerouted] == ["L7"]
    second = routing.store.decisions("L7")[-1]
    account = second.record["scores"]["account_intent"]
    assert account["surging"] is True
    assert account["window_visits"] == 12
    assert account["baseline_daily_visits"] == 0.2
    assert second.record["scores"]["intent"]["tier"] == "high"  # a surge counts as high
    assert second.reason.startswith("re-routed because the account started surging")
    assert second.node == "qualify"


def test_bad_events_are_rejected_with_reasons_and_counts_add_up(
    services: tuple[RoutingService, ActivityService],
) -> None:
    _, activities = services
    events: list[tuple[int | None, dict[str, Any]]] = [
        (1, {"type": "demo", "email": "A@Co1.com", "occurred_at": _ago(1), "id": "e1"}),
        (2, {"type": "teleport", "email": "a@co1.com", "occurred_at": _ago(1)}),
        (3, {"type": "page_view", "occurred_at": _ago(1)}),
        (4, {"type": "page_view", "email": "a@co1.com", "occurred_at": "yesterday"}),
        (5, {"type": "page_view", "email": "a@co1.com", "occurred_at": _ago(-2)}),
        (6, {"type": "page_view", "email": "not-an-email", "occurred_at": _ago(1)}),
        (7, {"type": "demo", "email": "a@co1.com", "occurred_at": _ago(1), "id": "e1"}),
        (8, {"type": "page_view", "email": "a@co1.com", "occurred_at": 1795000000}),
    ]
    summary = activities.record(events)
    assert (summary.received, summary.stored, summary.duplicates) == (8, 2, 1)
    assert summary.adds_up
    reasons = dict(summary.rejected)
    assert "unknown activity type 'teleport'" in reasons[2]
    assert "no one to tie it to" in reasons[3]
    assert "not ISO 8601" in reasons[4]
    assert "in the future" in reasons[5]
    assert "invalid email" in reasons[6]
    assert summary.by_type == {"demo_request": 1, "page_view": 1}
    stored = ActivityStore(activities.routing.store).recent(email="a@co1.com", lead_id="-")
    assert {a.type for a in stored} == {"demo_request", "page_view"}
    assert all(a.email == "a@co1.com" and a.domain == "co1.com" for a in stored)


def test_pricing_page_views_and_lead_ids_are_resolved(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    routing.route_batch(_rows([_lead(9, domain="globex.com")]), batch_id="b1")
    activities.record(
        [(1, {"type": "page_view", "lead_id": "L9", "url": "https://x.com/pricing/teams",
              "occurred_at": _ago(0)})]
    )  # fmt: skip
    [activity] = ActivityStore(routing.store).recent(email=None, lead_id="L9")
    assert activity.type == "pricing_page"
    assert activity.email == "p9@globex.com"
    assert activity.account_id == "acc1"


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def _rows(leads: list[Lead]) -> list[Any]:
    from leadroute.adapters.leadfile import ParsedRow

    return [ParsedRow(i, lead, None, dict(lead.fields)) for i, lead in enumerate(leads, 1)]


def test_visits_from_before_the_account_existed_count_for_it(
    services: tuple[RoutingService, ActivityService],
) -> None:
    routing, activities = services
    burst = [
        (n, {"type": "page_view", "domain": "initech.com", "occurred_at": _ago(n / 10)})
        for n in range(10)
    ]
    activities.record(burst)  # no account has this domain yet: stored unlinked
    org = _org()
    accounts = [*org.accounts.values(), Account("acc2", "Initech", "initech.com")]
    routing.load_org(build_org(reps=list(org.reps.values()), accounts=accounts,
                               segments=list(org.segments.values()),
                               territories=list(org.territories.values())))  # fmt: skip
    routing.route_batch(_rows([_lead(8, domain="initech.com")]), batch_id="b1")
    record = routing.store.decisions("L8")[-1].record
    assert record["account"]["id"] == "acc2"
    assert record["scores"]["account_intent"]["window_visits"] == 10
    assert record["scores"]["account_intent"]["surging"] is True
