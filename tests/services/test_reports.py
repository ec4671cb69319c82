"""Reports from stored decisions and lifecycle events: speed to lead and conversion by group,
fairness of the hand-out over time, and which criteria convert best."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import Store
from leadroute.domain.lead import Lead
from leadroute.domain.org import RepStatus
from leadroute.services.lifecycle import act
from leadroute.services.reports import (
    FairnessRow,
    criteria,
    fairness,
    performance,
    performance_rows,
    to_csv,
    wilson,
)
from leadroute.services.routing import RoutingService
from tests.services.fixtures import CONFIG, NOW, activate, leads, org
from tests.services.test_worker import Clock


@pytest.fixture
def routed(store: Store) -> Store:
    activate(store, org())
    clock = Clock(NOW)
    service = RoutingService(store, clock=clock)
    us = leads(6)  # received a minute before NOW, routed at NOW
    abroad = leads(2, country="DE", start=10)
    service.route_batch(
        [ParsedRow(i, x, None, {}) for i, x in enumerate(us + abroad)], batch_id="b"
    )
    act(store, "L00000", "accept", now=NOW + timedelta(minutes=4))
    act(store, "L00000", "convert", now=NOW + timedelta(hours=1))
    act(store, "L00001", "contacted", now=NOW + timedelta(minutes=9))
    act(store, "L00002", "disqualify", now=NOW + timedelta(minutes=19))
    return store


def test_by_route(routed: Store) -> None:
    groups = {g.key: g for g in performance(routed, by="route")}
    assert set(groups) == {"na", "fallback"}
    na = groups["na"]
    assert na.leads == 6 and na.outcomes["routed"] == 3
    assert (na.converted, na.disqualified, na.conversion) == (1, 1, 0.5)
    record = na.as_record()
    assert record["speed_to_assign_p50_s"] == 60.0  # received a minute before routing
    assert record["touched"] == 3
    # first touches 5, 10 and 20 minutes after capture
    assert sorted(na.to_touch) == [300.0, 600.0, 1200.0]
    assert record["speed_to_touch_p50_s"] == 600.0
    assert groups["fallback"].outcomes == {"routed": 2} and groups["fallback"].conversion is None


def test_by_rep_config_source_and_segment(routed: Store) -> None:
    reps = {g.key: g.leads for g in performance(routed, by="rep")}
    assert sum(reps.values()) == 8 and reps["queue:nurture"] == 2
    assert [g.key for g in performance(routed, by="config")] == ["#1 service-test"]
    assert [g.key for g in performance(routed, by="source")] == ["api"]
    segments = {g.key: g.leads for g in performance(routed, by="segment")}
    assert segments == {"B": 8}  # 50 employees each
    with pytest.raises(ValueError, match="group by one of"):
        performance(routed, by="moon")


def test_a_period_selects_by_capture_time(routed: Store) -> None:
    assert performance(routed, since=NOW + timedelta(hours=1)) == []
    assert sum(g.leads for g in performance(routed, until=NOW)) == 8


# -- fairness over time ----------------------------------------------------------------------


def _route(service: RoutingService, batch: list[Lead], name: str) -> None:
    service.route_batch([ParsedRow(i, x, None, {}) for i, x in enumerate(batch)], batch_id=name)


@pytest.fixture
def handed_out(store: Store) -> Store:
    """Pool `sales` of r1-r3. Tuesday: six leads (2 each), then r3 paused and six more
    (3 each to r1 and r2): 5/5/2. Wednesday: three leads, 1 each. One lead of the named
    account Acme goes to its owner r1 without the pool; two foreign leads go to a queue."""
    activate(store, org(reps=3))
    clock = Clock(NOW)
    _route(RoutingService(store, clock=clock), leads(6), "a")
    store.set_rep_status("r3", RepStatus.PAUSED)
    named = replace(leads(1, start=90)[0], fields={"email": "cfo@acme.com", "country": "US"})
    _route(RoutingService(store, clock=clock), [*leads(6, start=6), named], "b")
    _route(RoutingService(store, clock=clock), leads(2, country="DE", start=20), "c")
    store.set_rep_status("r3", RepStatus.ACTIVE)
    clock.now = NOW + timedelta(days=1)
    _route(RoutingService(store, clock=clock), leads(3, start=12), "d")
    return store


def _loads(row: FairnessRow) -> dict[str, int]:
    return {share.rep_id: share.leads for share in row.reps}


def test_fairness_per_day_and_pool_on_known_loads(handed_out: Store) -> None:
    report = fairness(handed_out, since=NOW - timedelta(days=1))
    assert [(r.period, r.scope) for r in report.rows] == [
        ("2026-11-24", "sales"),
        ("2026-11-25", "sales"),
    ]
    tuesday, wednesday = report.rows
    assert _loads(tuesday) == {"r1": 5, "r2": 5, "r3": 2}  # Acme's lead did not come from the pool
    assert (tuesday.spread.low, tuesday.spread.high, tuesday.spread.spread) == (2, 5, 3)
    # Gini by hand: loads sorted 2, 5, 5; (2 * (1*2 + 2*5 + 3*5) - 4 * 12) / (3 * 12) = 6/36
    assert tuesday.spread.gini == pytest.approx(1 / 6)
    assert _loads(wednesday) == {"r1": 1, "r2": 1, "r3": 1} and wednesday.spread.gini == 0.0
    assert not tuesday.weighted and tuesday.ratios() == []
    [whole] = report.overall
    assert (whole.period, _loads(whole), whole.spread.spread) == (
        "all",
        {"r1": 6, "r2": 6, "r3": 3},
        3,
    )
    record = report.as_record()
    assert record["rows"][0]["gini"] == 0.1667 and record["rows"][0]["spread"] == 3
    assert "report time" in record["membership"]


def test_fairness_per_week_per_team_and_until(handed_out: Store) -> None:
    [week] = fairness(handed_out, since=NOW - timedelta(days=1), period="week").rows
    assert (week.period, week.start.isoformat()) == ("2026-W48", "2026-11-23")
    assert _loads(week) == {"r1": 6, "r2": 6, "r3": 3}
    [team] = fairness(handed_out, since=NOW - timedelta(days=1), by="team", period="week").rows
    assert team.scope == "sales" and _loads(team) == {"r1": 7, "r2": 6, "r3": 3}  # with Acme's
    [tuesday] = fairness(
        handed_out, since=NOW - timedelta(days=1), until=NOW + timedelta(days=1)
    ).rows
    assert tuesday.period == "2026-11-24"
    assert fairness(handed_out, since=NOW + timedelta(days=2)).rows == []
    with pytest.raises(ValueError, match="period: one of day, week"):
        fairness(handed_out, since=NOW, period="month")
    with pytest.raises(ValueError, match="by: one of pool, team"):
        fairness(handed_out, since=NOW, by="territory")


def test_fairness_counts_members_at_report_time(handed_out: Store) -> None:
    """A rep who joined the pool since counts as 0; one no longer active still shows the leads
    it got, marked as not a member."""
    grown = org(reps=4)
    handed_out.save_org(grown)
    handed_out.set_rep_status("r2", RepStatus.PAUSED)
    tuesday = fairness(handed_out, since=NOW - timedelta(days=1)).rows[0]
    assert _loads(tuesday) == {"r1": 5, "r3": 2, "r4": 0, "r2": 5}
    assert [s.member for s in tuesday.reps] == [True, True, True, False]
    # loads 0, 2, 5, 5: (2 * (0 + 2*2 + 3*5 + 4*5) - 5 * 12) / (4 * 12) = 18/48
    assert tuesday.spread.spread == 5 and tuesday.spread.gini == pytest.approx(0.375)


def report_rows(store: Store) -> list[dict[str, object]]:
    return fairness(store, since=NOW - timedelta(days=1)).csv_rows()


WEIGHTED = CONFIG.replace(
    "    fairness_window: all\n",
    "    fairness_window: all\n    method: weighted\n    weights: {r1: 3}\n",
)


def test_fairness_of_a_weighted_pool_is_read_against_the_weights(store: Store) -> None:
    activate(store, org(reps=2), WEIGHTED)
    _route(RoutingService(store, clock=Clock(NOW)), leads(8), "w")
    [row] = fairness(store, since=NOW - timedelta(days=1)).rows
    assert row.weighted and _loads(row) == {"r1": 6, "r2": 2}
    assert row.spread.spread == 4 and row.spread.gini == pytest.approx(0.25)  # uneven by design
    assert [(s.weight, s.expected, s.ratio) for s in row.reps] == [(3.0, 6.0, 1.0), (1.0, 2.0, 1.0)]
    csv_row = report_rows(store)[0]
    assert csv_row["per_rep"] == "r1=6;r2=2" and csv_row["ratio_min"] == csv_row["ratio_max"] == 1.0


# -- which criteria convert best ---------------------------------------------------------------

SCORED = CONFIG.replace(
    "flow:",
    "scoring:\n  fit:\n    rules:\n"
    "      - {when: {lead_source: Webinar}, points: 50, reason: webinar}\n"
    "    tiers: {A: 40}\nflow:",
)


@pytest.fixture
def worked(store: Store) -> Store:
    """42 closed leads: Webinar 18 of 20 converted, Web 2 of 20 (and 2 more still open),
    Trade Show 1 of 2; overall 21 of 42. Each is first touched 10 minutes after capture,
    the webinar ones 4 minutes after."""
    activate(store, org(), SCORED)
    sources = ["Webinar"] * 20 + ["Web"] * 22 + ["Trade Show"] * 2
    batch = [
        replace(lead, fields={**lead.fields, "lead_source": source, "title": "VP Sales"})
        for lead, source in zip(leads(len(sources)), sources, strict=True)
    ]
    _route(RoutingService(store, clock=Clock(NOW)), batch, "s")
    converted = {*range(18), 20, 21, 42}
    for i, source in enumerate(sources):
        if source == "Web" and i >= 40:
            continue  # still open
        minutes = 3 if source == "Webinar" else 9  # captured a minute before NOW
        action = "convert" if i in converted else "disqualify"
        act(store, f"L{i:05d}", action, now=NOW + timedelta(minutes=minutes))
    return store


def test_wilson_interval_against_hand_values() -> None:
    # 8 of 10, z = 1.96: centre (0.8 + 0.19207) / 1.38415 = 0.71676,
    # half 1.96 * sqrt(0.016 + 0.0096036) / 1.38415 = 0.22660
    low, high = wilson(8, 10) or (0.0, 0.0)
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    assert wilson(0, 0) is None
    assert wilson(0, 5) == (0.0, pytest.approx(0.4345, abs=1e-4))
    assert wilson(5, 5) == (pytest.approx(0.5655, abs=1e-4), 1.0)


def test_criteria_find_the_value_that_converts_better(worked: Store) -> None:
    report = criteria(
        worked,
        since=NOW - timedelta(days=1),
        fields=("lead_source", "fit_tier", "route", "seniority", "team"),
        min_leads=5,
    )
    assert (report.leads, report.converted, report.disqualified) == (44, 21, 21)
    assert report.conversion == 0.5
    by = {c.name: {v.value: v for v in c.values} for c in report.criteria}
    webinar, web, show = (by["lead_source"][k] for k in ("Webinar", "Web", "Trade Show"))
    assert (webinar.leads, webinar.closed, webinar.conversion, webinar.lift) == (20, 20, 0.9, 1.8)
    # 18 of 20: centre (0.9 + 0.09604) / 1.19207 = 0.83556, half 0.13659
    assert webinar.interval == (pytest.approx(0.6990, abs=1e-4), pytest.approx(0.9721, abs=1e-4))
    assert webinar.signal == "better" and web.signal == "worse"
    assert (web.leads, web.closed, web.lift) == (22, 20, pytest.approx(0.2))
    assert show.closed == 2 and show.too_few and show.signal == "too few"
    assert [v.value for v in report.criteria[0].values] == ["Webinar", "Web", "Trade Show"]
    assert set(by["fit_tier"]) == {"A", "D"} and by["fit_tier"]["A"].converted == 18
    assert by["route"]["na"].lift == 1.0 and by["route"]["na"].signal == "unclear"
    assert set(by["seniority"]) == {"vp"}  # from the title
    assert set(by["team"]) == {"sales"}  # the team the reps name
    assert webinar.as_record()["speed_to_touch_p50_s"] == 240.0
    assert web.as_record()["speed_to_touch_p50_s"] == 600.0
    assert report.criteria[0].separation == pytest.approx(1.6)
    top = report.ranked()
    assert {(v.criterion, v.value) for v in top[:2]} == {
        ("lead_source", "Webinar"),
        ("fit_tier", "A"),
    }
    assert all(not v.too_few for v in top)
    assert {v.criterion for v in top} == {"lead_source", "fit_tier"}  # one route, seniority, team
    rows = report.csv_rows()
    assert {"criterion", "value", "lift", "ci_low", "ci_high", "signal"} <= set(rows[0])
    text = to_csv(rows)
    assert text.splitlines()[0].startswith("criterion,value,leads,closed")


def test_criteria_refuse_unknown_fields_and_a_bad_minimum(worked: Store) -> None:
    with pytest.raises(ValueError, match="unknown criterion 'shoe_size'"):
        criteria(worked, since=NOW, fields=("country", "shoe_size"))
    with pytest.raises(ValueError, match="min_leads must be 1 or more"):
        criteria(worked, since=NOW, min_leads=0)
    empty = criteria(worked, since=NOW + timedelta(days=1))
    assert empty.leads == 0 and empty.conversion is None and empty.ranked() == []


def test_csv_cells_that_would_run_as_formulas_are_quoted() -> None:
    text = to_csv([{"value": '=HYPERLINK("x")', "leads": -3, "note": "@SUM(A1)"}])
    assert text.splitlines()[1] == '"\'=HYPERLINK(""x"")",-3,\'@SUM(A1)'


def test_performance_rows_flatten_outcomes_and_csv_defuses_formulas(routed: Store) -> None:
    rows = performance_rows(performance(routed, by="route"))
    na = next(r for r in rows if r["key"] == "na")
    assert na["outcomes"] == "contacted=1;converted=1;disqualified=1;routed=3"
    text = to_csv([{"key": "=HYPERLINK(1)", "leads": 1}, {"key": "-2", "leads": 2}])
    assert text.splitlines() == ["key,leads", "'=HYPERLINK(1),1", "'-2,2"]
