"""Choosing a rep, as properties over random pools, reps and runs.

Where test_distribution.py checks each rule on its own (fair shares with everyone available, caps
through the router, a paused rep, absences one at a time), these mix everything at once: reps
paused, inactive, out of office or outside their hours, with caps, weights and an overload
guard, in pools of every method, over runs of many leads across days and time zones. The pool's
choice is checked against a plain statement of availability written here, not the module's own.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, time, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from leadroute.domain.config import Pool
from leadroute.domain.distribution import PoolState, RepLoad, pick
from leadroute.domain.org import Absence, Caps, Org, Rep, RepStatus, build_org, periods_at
from tests.factories import NOW, OFFICE_HOURS, make_pool, make_rep

ZONES = ["UTC", "America/New_York", "Asia/Tokyo", "Asia/Kolkata", "Australia/Sydney"]
PERIODS = ("day", "week", "month")


def why_not(rep: Rep, now: datetime, load: RepLoad, pool: Pool) -> str | None:
    """Why `rep` may not take a lead of `pool` at `now`, stated plainly; None if it may."""
    if rep.status is not RepStatus.ACTIVE:
        return rep.status.value
    if any(a.start <= now < a.end for a in rep.out_of_office):
        return "out of office"
    if pool.respect_hours and rep.working_hours is not None:
        local = now.astimezone(ZoneInfo(rep.timezone))
        if local.weekday() >= 5 or not time(9) <= local.time() < time(17):
            return "outside hours"
    if pool.enforce_caps:
        for period in PERIODS:
            cap = getattr(rep.caps, period)
            if cap is not None and getattr(load, period) >= cap:
                return f"{period} cap"
    if pool.max_open is not None and load.open >= pool.max_open:
        return "open leads"
    return None


class Ledger:
    """Every lead each rep took, counted in the rep's own day, week and month."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.taken: Counter[tuple[str, str]] = Counter()
        self.open: Counter[str] = Counter()

    def load(self, rep_id: str, now: datetime) -> RepLoad:
        keys = periods_at(self.org.reps[rep_id].timezone, now)
        counts = {p: self.taken[(rep_id, keys[p])] for p in PERIODS}
        return RepLoad(open=self.open[rep_id], **counts)

    def take(self, rep_id: str, now: datetime) -> None:
        for key in periods_at(self.org.reps[rep_id].timezone, now).values():
            self.taken[(rep_id, key)] += 1
        self.open[rep_id] += 1


def _absences(start: datetime, spans: list[tuple[int, int]]) -> tuple[Absence, ...]:
    return tuple(
        Absence(start + timedelta(hours=at), start + timedelta(hours=at + length), "away")
        for at, length in spans
    )


rep_spec = st.fixed_dictionaries(
    {
        "status": st.sampled_from([RepStatus.ACTIVE] * 4 + [RepStatus.PAUSED, RepStatus.INACTIVE]),
        "tz": st.sampled_from(ZONES),
        "hours": st.booleans(),
        "away": st.lists(st.tuples(st.integers(0, 96), st.integers(1, 48)), max_size=2),
        "day": st.one_of(st.none(), st.integers(0, 3)),
        "week": st.one_of(st.none(), st.integers(0, 8)),
        "month": st.one_of(st.none(), st.integers(0, 15)),
        "weight": st.integers(1, 4),
    }
)
pool_spec = st.fixed_dictionaries(
    {
        "method": st.sampled_from(["round_robin", "weighted", "load_balanced"]),
        "window": st.sampled_from(["day", "week", "all"]),
        "absence": st.sampled_from(["no_catch_up", "catch_up"]),
        "respect_hours": st.booleans(),
        "enforce_caps": st.booleans(),
        "max_open": st.one_of(st.none(), st.integers(1, 6)),
    }
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    specs=st.lists(rep_spec, min_size=1, max_size=6),
    pool_of=pool_spec,
    gaps=st.lists(st.integers(0, 9 * 60), min_size=10, max_size=80),
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
)
def test_only_available_reps_are_chosen_and_caps_hold_over_a_run(
    specs: list[dict[str, Any]], pool_of: dict[str, Any], gaps: list[int], start: datetime
) -> None:
    now = start.replace(second=0, microsecond=0, tzinfo=UTC)
    reps = [
        make_rep(
            f"r{i}",
            status=s["status"],
            timezone=s["tz"],
            working_hours=OFFICE_HOURS if s["hours"] else None,
            out_of_office=_absences(now, s["away"]),
            caps=Caps(s["day"], s["week"], s["month"]),
            weight=s["weight"],
        )
        for i, s in enumerate(specs)
    ]
    org = build_org(reps=reps)
    pool = make_pool(
        [r.id for r in reps],
        method=pool_of["method"],
        fairness_window=pool_of["window"],
        absence=pool_of["absence"],
        respect_hours=pool_of["respect_hours"],
        enforce_caps=pool_of["enforce_caps"],
        max_open=pool_of["max_open"],
    )
    ledger, state = Ledger(org), PoolState()
    for gap in gaps:
        now += timedelta(minutes=gap)
        loads = {r.id: ledger.load(r.id, now) for r in reps}
        blocked = {r.id: why_not(r, now, loads[r.id], pool) for r in reps}
        result = pick(pool, org, state, loads, now)
        for why in set(blocked.values()) - {None}:
            event(f"a rep skipped: {why}")
        # The trace agrees with the plain statement for every member, chosen or not.
        assert {c.rep_id: c.eligible for c in result.candidates} == {
            rep_id: why is None for rep_id, why in blocked.items()
        }, (now, blocked)
        if result.chosen is None:
            assert all(why is not None for why in blocked.values())
            if result.state.window == state.window:
                assert result.state == state  # nobody took it: no credit moved
            state = result.state
            continue
        assert blocked[result.chosen] is None, (result.chosen, blocked)
        if pool.method == "load_balanced":
            fewest = min(loads[r].open for r, why in blocked.items() if why is None)
            assert loads[result.chosen].open == fewest
        ledger.take(result.chosen, now)
        state = result.state
    # Over the whole run, in each rep's own periods, no cap and no overload guard was passed.
    for (rep_id, key), taken in ledger.taken.items():
        rep = org.reps[rep_id]
        period = "day" if len(key) == 10 else "week" if "W" in key else "month"
        cap = getattr(rep.caps, period)
        if pool.enforce_caps and cap is not None:
            assert taken <= cap, (rep_id, key, taken, cap)
    if pool.max_open is not None:
        assert max(ledger.open.values(), default=0) <= pool.max_open


# --- fair shares among whoever is available ------------------------------------------------

# NOW is Tuesday 15:00 UTC: 00:00 Wednesday in Tokyo, outside office hours there.
KINDS: dict[str, dict[str, Any]] = {
    "available": {},
    "paused": {"status": RepStatus.PAUSED},
    "inactive": {"status": RepStatus.INACTIVE},
    "away": {"out_of_office": (Absence(NOW - timedelta(days=1), NOW + timedelta(days=1)),)},
    "asleep": {"timezone": "Asia/Tokyo", "working_hours": OFFICE_HOURS},
}
kinds = st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=7).filter(
    lambda chosen: "available" in chosen
)


@settings(max_examples=150, deadline=None)
@given(
    kinds=kinds, weights=st.lists(st.integers(1, 9), min_size=7, max_size=7), n=st.integers(1, 60)
)
def test_weighted_shares_hold_among_the_available_at_every_prefix(
    kinds: list[str], weights: list[int], n: int
) -> None:
    reps = [make_rep(f"r{i}", weight=weights[i], **KINDS[kind]) for i, kind in enumerate(kinds)]
    available = {
        r.id: Fraction(r.weight) for r, kind in zip(reps, kinds, strict=True) if kind == "available"
    }
    pool = make_pool([r.id for r in reps], method="weighted")
    org, state = build_org(reps=reps), PoolState()
    counts: Counter[str] = Counter()
    total = sum(available.values())
    for taken in range(1, n + 1):
        result = pick(pool, org, state, {}, NOW + timedelta(seconds=taken))
        assert result.chosen in available, (result.chosen, kinds)
        counts[result.chosen] += 1
        state = result.state
        for rep_id, weight in available.items():
            assert abs(counts[rep_id] - taken * weight / total) < 1, (rep_id, counts, taken)


@settings(max_examples=150, deadline=None)
@given(kinds=kinds, n=st.integers(1, 60))
def test_round_robin_spread_stays_within_one_whoever_is_out(kinds: list[str], n: int) -> None:
    reps = [make_rep(f"r{i}", **KINDS[kind]) for i, kind in enumerate(kinds)]
    available = [r.id for r, kind in zip(reps, kinds, strict=True) if kind == "available"]
    pool = make_pool([r.id for r in reps])
    org, state = build_org(reps=reps), PoolState()
    counts: Counter[str] = Counter()
    order = []
    for taken in range(n):
        result = pick(pool, org, state, {}, NOW + timedelta(seconds=taken))
        assert result.chosen is not None
        order.append(result.chosen)
        counts[result.chosen] += 1
        state = result.state
        spread = [counts[r] for r in available]
        assert max(spread) - min(spread) <= 1, (counts, kinds)
    assert set(order) <= set(available)
    assert order == [available[i % len(available)] for i in range(n)]  # member order
