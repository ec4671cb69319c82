"""The backtest comparison: matrix, loads, fairness, caps in the rep's time zone."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadroute.domain.backtest import (
    UNDECIDED,
    BacktestTally,
    CapViolation,
    Placement,
    fairness,
    gini,
)
from leadroute.domain.org import Caps, Rep

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)


def _rep(rep_id: str, **kwargs: Any) -> Rep:
    return Rep(id=rep_id, name=rep_id, **kwargs)


def _to(rep: str | None = None, *, queue: str | None = None, outcome: str = "routed") -> Placement:
    node = "na" if rep else ("fallback" if queue else None)
    return Placement(outcome, AT, node, rep, queue, reason=f"{outcome} reason")


def test_gini_and_spread_on_known_loads() -> None:
    assert gini([3, 3, 3]) == 0.0
    assert gini([0, 0, 0, 4]) == pytest.approx(0.75)  # one rep has all: (n - 1) / n
    assert gini([1, 2, 3]) == pytest.approx(2 / 9)
    assert gini([]) == gini([0, 0]) == 0.0
    spread = fairness({"a": 5, "b": 1, "z": 9}, ["a", "b", "c"])  # z is not a candidate
    assert (spread.reps, spread.leads, spread.low, spread.high, spread.spread) == (3, 6, 0, 5, 5)
    assert spread.mean == 2.0
    assert spread.gini == pytest.approx(gini([5, 1, 0]))
    assert fairness({}, []).as_record()["reps"] == 0


def test_matrix_loads_routes_and_reasons() -> None:
    tally = BacktestTally({"r1": _rep("r1"), "r2": _rep("r2")})
    tally.add("L1", _to("r1"), _to("r1"))
    tally.add("L2", _to("r1"), _to("r2"))
    tally.add("L3", _to("r2"), _to(queue="nurture"))
    tally.add("L4", _to(queue="nurture"), _to(outcome="unrouted"))
    tally.add("L5", None, _to(outcome="held"))
    report = tally.report(
        config_name="draft", config_hash="h", since=AT, until=None, pools={"p": ["r1", "r2", "r3"]}
    )
    assert report.matrix == Counter(
        {
            ("rep:r1", "rep:r1"): 1,
            ("rep:r1", "rep:r2"): 1,
            ("rep:r2", "queue:nurture"): 1,
            ("queue:nurture", "unrouted"): 1,
            (UNDECIDED, "held"): 1,
        }
    )
    assert report.changed == 4
    assert report.matrix_rows(changed_only=True)[0] == ("queue:nurture", "unrouted", 1)
    assert report.reps.before == Counter({"r1": 2, "r2": 1})
    assert report.reps.after == Counter({"r1": 1, "r2": 1})
    assert report.reps.rows() == [("r1", 2, 1, -1), ("r2", 1, 1, 0)]
    assert report.routes.after == Counter({"na": 2, "fallback": 1, "(none)": 2})
    assert report.outcomes.before == Counter({"routed": 4, UNDECIDED: 1})
    assert report.queues.before == report.queues.after == Counter({"nurture": 1})
    assert report.held_reasons == Counter({"held reason": 1})
    assert report.unrouted_reasons == Counter({"unrouted reason": 1})
    overall, pool = report.fairness
    assert (overall.scope, pool.scope) == ("overall", "p")
    assert (pool.before.reps, pool.before.spread, pool.after.spread) == (3, 2, 1)
    record = report.as_record()
    assert record["matrix"][0] == {
        "from": "queue:nurture",
        "to": "unrouted",
        "leads": 1,
        "examples": ["L4"],
    }
    assert record["unrouted_reasons"] == [{"reason": "unrouted reason", "leads": 1}]


def test_caps_are_counted_in_the_reps_time_zone() -> None:
    west = _rep("west", timezone="America/Los_Angeles", caps=Caps(day=1, week=2))
    tally = BacktestTally({"west": west, "free": _rep("free")})
    # 07:00 UTC is 23:00 the day before in Los Angeles; 09:00 and 10:00 UTC are the 24th there.
    moments = [AT.replace(hour=7), AT.replace(hour=9), AT.replace(hour=10)]
    for i, moment in enumerate(moments):
        after = Placement("routed", moment, "na", "west")
        tally.add(f"L{i}", None, after)
        tally.add(f"F{i}", None, Placement("routed", moment, "na", "free"))
    # a duplicate given to its original's owner takes no capacity
    tally.add("D", None, Placement("routed", moments[-1], None, "west", takes_capacity=False))
    report = tally.report(config_name="d", config_hash="h", since=AT, until=None, pools={})
    assert report.violations_after == [
        CapViolation("west", "day", "2026-11-24", 1, 2),
        CapViolation("west", "week", "2026-W48", 2, 3),
    ]
    assert report.violations_after[0].over == 1 and report.violations_before == []


placements = st.builds(
    Placement,
    outcome=st.sampled_from(["routed", "held", "unrouted"]),
    at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    node=st.sampled_from([None, "na", "emea"]),
    rep_id=st.sampled_from([None, "r1", "r2", "r3"]),
    queue=st.sampled_from([None, "nurture"]),
)


@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=50))
def test_gini_is_in_zero_to_one(loads: list[int]) -> None:
    value = gini(loads)
    assert 0.0 <= value < 1.0
    if len(set(loads)) <= 1:
        assert value == 0.0


@given(st.integers(min_value=1, max_value=200), st.integers(min_value=0, max_value=10_000))
def test_equal_loads_are_perfectly_fair(reps: int, leads: int) -> None:
    assert gini([leads] * reps) == 0.0
    assert fairness({f"r{i}": leads for i in range(reps)}, [f"r{i}" for i in range(reps)]).gini == 0


@given(st.lists(st.tuples(st.none() | placements, placements), max_size=60))
def test_matrix_and_counts_add_up_to_the_leads(
    pairs: list[tuple[Placement | None, Placement]],
) -> None:
    reps = {r: _rep(r, caps=Caps(day=2)) for r in ("r1", "r2", "r3")}
    tally = BacktestTally(reps)
    for i, (before, after) in enumerate(pairs):
        tally.add(f"L{i}", before, after)
    report = tally.report(
        config_name="d",
        config_hash="h",
        since=AT - timedelta(days=365),
        until=None,
        pools={"p": ["r1", "r2"]},
    )
    assert sum(report.matrix.values()) == report.leads == len(pairs)
    assert sum(report.outcomes.before.values()) == sum(report.outcomes.after.values()) == len(pairs)
    assert sum(report.routes.after.values()) == len(pairs)
    assert sum(report.reps.after.values()) == sum(1 for _, a in pairs if a.rep_id)
    assert sum(report.held_reasons.values()) == report.outcomes.after["held"]
    assert all(v.leads > v.cap for v in report.violations_after)
    assert all(0.0 <= f.after.gini < 1.0 for f in report.fairness)
