"""Speed to lead and conversion, grouped: from stored decisions and lifecycle events."""

from __future__ import annotations

from datetime import timedelta

import pytest

from leadroute.adapters.leadfile import ParsedRow
from leadroute.adapters.store.sql import Store
from leadroute.services.lifecycle import act
from leadroute.services.reports import performance
from leadroute.services.routing import RoutingService
from tests.services.fixtures import NOW, activate, leads, org
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
