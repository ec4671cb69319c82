"""MemoryRoutingState: the in-process RoutingState used by simulations and tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from leadroute.adapters.memory import MemoryRoutingState
from leadroute.domain.decision import Decision, Outcome
from leadroute.domain.distribution import PoolState, RepLoad
from leadroute.domain.org import build_org
from leadroute.ports import RoutingState
from tests.factories import NOW, make_rep

ORG = build_org(
    reps=[
        make_rep("utc"),
        make_rep("tokyo", timezone="Asia/Tokyo"),
        make_rep("la", timezone="America/Los_Angeles"),
    ]
)


def assigned(
    rep_id: str | None, at: datetime, pool: str | None = None, state: PoolState | None = None
) -> Decision:
    return Decision(
        lead_id="L",
        outcome=Outcome.ROUTED,
        reason="",
        decided_at=at,
        rep_id=rep_id,
        pool=pool,
        pool_state=state,
    )


def test_it_is_a_routing_state() -> None:
    state: RoutingState = MemoryRoutingState(ORG)
    assert state.pool_state("p") == PoolState()
    assert state.sticky_rep("p", "account:a1") is None
    assert state.loads(["utc", "ghost"], NOW) == {"utc": RepLoad()}


def test_apply_counts_in_the_reps_own_day_week_and_month() -> None:
    state = MemoryRoutingState(ORG)
    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # Monday 08:30 Dec 1 in Tokyo
    for rep_id in ("utc", "tokyo", "la"):
        state.apply(assigned(rep_id, late))
    assert state.loads(["utc"], late)["utc"] == RepLoad(1, 1, 1, 1)
    assert state.counters[("tokyo", "2026-12-01")] == 1
    assert state.counters[("tokyo", "2026-W49")] == 1
    assert state.counters[("tokyo", "2026-12")] == 1
    assert state.counters[("la", "2026-11-30")] == 1
    # Half an hour later it is December in UTC: a new day and month, the same ISO week.
    later = late + timedelta(minutes=30)
    assert state.loads(["utc"], later)["utc"] == RepLoad(day=0, week=1, month=0, open=1)
    # In Los Angeles it is still Monday afternoon, November 30.
    assert state.loads(["la"], later)["la"] == RepLoad(day=1, week=1, month=1, open=1)


def test_apply_records_pool_state_and_stickiness() -> None:
    state = MemoryRoutingState(ORG)
    pool_state = PoolState("2026-W48", {"utc": -1.0}, {"utc": 1})
    state.apply(assigned("utc", NOW, "p", pool_state), "account:a1")
    assert state.pool_state("p") == pool_state
    assert state.sticky_rep("p", "account:a1") == "utc"
    assert state.sticky_rep("other", "account:a1") is None


def test_decisions_without_a_rep_change_nothing_but_the_pool() -> None:
    state = MemoryRoutingState(ORG)
    state.apply(Decision("L", Outcome.HELD, "", NOW))
    state.apply(Decision("L", Outcome.ROUTED, "", NOW, queue="nurture"), "account:a1")
    assert not any(state.counters.values())
    assert not any(state.open.values())
    assert state.sticky == {}


def test_a_rep_not_in_the_org_gets_open_leads_but_no_period_counts() -> None:
    state = MemoryRoutingState(ORG)
    state.apply(assigned("ghost", NOW))
    assert state.open["ghost"] == 1
    assert not any(state.counters.values())


def test_close_never_goes_below_zero() -> None:
    state = MemoryRoutingState(ORG)
    state.apply(assigned("utc", NOW))
    state.close("utc")
    state.close("utc")
    state.close("nobody")
    assert state.loads(["utc"], NOW)["utc"].open == 0
