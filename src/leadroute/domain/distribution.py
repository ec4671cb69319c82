"""Choosing a rep inside a pool: availability, caps, and fair shares.

Fair shares use credits counted in leads. For each lead, every earning rep is owed its share
w/W of it, and the rep who takes it pays 1, so a rep's credit is its share so far minus the leads
it took. Of the reps owed part of a lead, the one that would soonest fall a whole lead behind
takes it (earliest deadline first), which keeps every rep within one lead of its weighted share
at every prefix. With equal weights this is plain round robin in member order.

Absence policy: under `no_catch_up` only eligible reps earn credit, so a rep returning from
absence resumes its place without a burst; under `catch_up` available-but-absent active reps keep
earning, and get the leads they missed when they return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from leadroute.domain.config import Pool
from leadroute.domain.org import Org, Rep, RepStatus, local_at_minute, periods_at


class SkipReason(StrEnum):
    UNKNOWN = "unknown rep"
    INACTIVE = "inactive"
    PAUSED = "paused"
    OUT_OF_OFFICE = "out of office"
    OUTSIDE_HOURS = "outside working hours"
    CAP_REACHED = "cap reached"
    OVERLOADED = "too many open leads"
    AHEAD_OF_SHARE = "ahead of its share"
    MORE_OPEN_LEADS = "more open leads"
    PREVIOUS_OWNER = "previous owner of this lead"
    LATER_IN_ROTATION = "later in rotation"


@dataclass(frozen=True, slots=True)
class RepLoad:
    """Leads assigned to a rep in its current local day/week/month, and its open leads."""

    day: int = 0
    week: int = 0
    month: int = 0
    open: int = 0

    def count(self, period: str) -> int:
        value: int = getattr(self, period)
        return value


@dataclass(frozen=True, slots=True)
class PoolState:
    """Persistent fairness state of one pool within its current window."""

    window: str = ""
    credits: Mapping[str, float] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)
    present: frozenset[str] = frozenset()  # reps who were eligible at the last pick


@dataclass(frozen=True, slots=True)
class Candidate:
    rep_id: str
    eligible: bool
    reason: str | None = None
    detail: str = ""
    credit: float = 0.0
    count: int = 0
    open: int = 0

    def as_record(self) -> dict[str, object]:
        return {
            "rep": self.rep_id,
            "eligible": self.eligible,
            "reason": self.reason,
            "detail": self.detail,
            "credit": round(self.credit, 4),
            "count": self.count,
            "open": self.open,
        }


@dataclass(frozen=True, slots=True)
class Pick:
    chosen: str | None
    candidates: tuple[Candidate, ...]
    state: PoolState
    how: str


_STILL_EARNING = frozenset(
    {
        SkipReason.OUT_OF_OFFICE,
        SkipReason.OUTSIDE_HOURS,
        SkipReason.CAP_REACHED,
        SkipReason.OVERLOADED,
    }
)


_NO_LOAD = RepLoad()


def window_key(pool: Pool, now: datetime) -> str:
    if pool.fairness_window == "all":
        return "all"
    return periods_at(pool.timezone, now)[pool.fairness_window]


def unavailable(
    rep: Rep | None,
    now: datetime,
    load: RepLoad,
    *,
    hours: bool = True,
    caps: bool = True,
    max_open: int | None = None,
    minute: datetime | None = None,
) -> tuple[SkipReason, str] | None:
    """Why a rep cannot take a lead now, or None if it can. `minute` is `now` to the minute."""
    if rep is None:
        return SkipReason.UNKNOWN, "not in the org"
    if rep.status is not RepStatus.ACTIVE:
        if rep.status is RepStatus.INACTIVE:
            return SkipReason.INACTIVE, "deactivated"
        return SkipReason.PAUSED, "paused"
    if rep.out_of_office:
        absence = rep.absence_at(now)
        if absence is not None:
            return SkipReason.OUT_OF_OFFICE, f"{absence.reason} until {absence.end.isoformat()}"
    if hours and rep.working_hours is not None:
        if minute is None:
            minute = now.replace(second=0, microsecond=0)
        local = local_at_minute(rep.timezone, minute)
        if not rep.working_hours.is_open(local):
            return SkipReason.OUTSIDE_HOURS, f"{local:%a %H:%M} {rep.timezone}"
    if caps and rep.caps.limited:
        for period, limit in rep.caps.items():
            used = load.count(period)
            if used >= limit:
                return SkipReason.CAP_REACHED, f"{used}/{limit} this {period}"
    if max_open is not None and load.open >= max_open:
        return SkipReason.OVERLOADED, f"{load.open} open, limit {max_open}"
    return None


def weight_of(pool: Pool, rep: Rep | None) -> float:
    if pool.method == "round_robin" or rep is None:
        return 1.0
    return pool.weights.get(rep.id, rep.weight)


def pick(
    pool: Pool,
    org: Org,
    state: PoolState,
    loads: Mapping[str, RepLoad],
    now: datetime,
    *,
    sticky_rep: str | None = None,
    exclude: frozenset[str] = frozenset(),
) -> Pick:
    """Choose a rep in `pool` at `now`; return the choice, every candidate's trace, new state."""
    window = window_key(pool, now)
    if state.window != window:
        state = PoolState(window=window)
    credits = dict(state.credits)
    counts = dict(state.counts)
    reps = org.reps
    members = pool.members
    member_loads = [loads.get(r) or _NO_LOAD for r in members]
    blocked: dict[str, tuple[SkipReason, str]] = {}
    eligible: list[str] = []
    minute = now.replace(second=0, microsecond=0)
    for rep_id, load in zip(members, member_loads, strict=True):
        why = unavailable(
            reps.get(rep_id),
            now,
            load,
            hours=pool.respect_hours,
            caps=pool.enforce_caps,
            max_open=pool.max_open,
            minute=minute,
        )
        if why is None and rep_id in exclude:
            why = (SkipReason.PREVIOUS_OWNER, "owned this lead before")
        if why is None:
            eligible.append(rep_id)
        else:
            blocked[rep_id] = why
    if not eligible:
        trace = tuple(
            Candidate(
                r,
                False,
                blocked[r][0],
                blocked[r][1],
                credits.get(r, 0.0),
                counts.get(r, 0),
                load.open,
            )
            for r, load in zip(members, member_loads, strict=True)
        )
        return Pick(None, trace, state, "nobody available")

    earning = eligible
    if pool.absence == "catch_up":
        earning = eligible + [r for r, (why, _) in blocked.items() if why in _STILL_EARNING]
    elif state.present:
        _rejoin(eligible, state.present, credits)
    weights = {rep_id: weight_of(pool, reps.get(rep_id)) for rep_id in earning}
    total = sum(weights.values())
    for rep_id in earning:  # each earning rep is owed its share of this lead
        credits[rep_id] = credits.get(rep_id, 0.0) + weights[rep_id] / total

    how = "fair share"
    if sticky_rep is not None and sticky_rep in eligible:
        chosen, how = sticky_rep, "sticky: same account as an earlier lead"
    elif pool.method == "load_balanced":
        open_of = {r: load.open for r, load in zip(members, member_loads, strict=True)}
        chosen = min(eligible, key=lambda r: (open_of[r], -credits[r], members.index(r)))
        how = "fewest open leads"
    else:
        chosen = _most_urgent(eligible, credits, weights, total)
    credits[chosen] -= 1.0
    counts[chosen] = counts.get(chosen, 0) + 1
    return Pick(
        chosen,
        _trace(pool, chosen, how, blocked, credits, counts, member_loads),
        PoolState(window, credits, counts, frozenset(eligible)),
        how,
    )


def _rejoin(eligible: list[str], present: frozenset[str], credits: dict[str, float]) -> None:
    """No catch-up: a rep back from an absence (or new to the pool) rejoins behind the others.

    While it was away the reps who stayed took its leads and their credits fell; its own credit
    was frozen. Left as is, it would be owed more than everyone present and take several leads
    in a row. So its credit is capped at the average credit of the reps who stayed.
    """
    stayed = [credits.get(r, 0.0) for r in eligible if r in present]
    if not stayed:
        return
    average = sum(stayed) / len(stayed)
    for rep_id in eligible:
        if rep_id not in present and credits.get(rep_id, 0.0) > average:
            credits[rep_id] = average


def _most_urgent(
    eligible: list[str], credits: Mapping[str, float], weights: Mapping[str, float], total: float
) -> str:
    """Earliest deadline first: of the reps owed part of a lead, the one that would soonest fall
    a whole lead behind its share. This keeps every rep within one lead of its weighted share at
    every prefix (the most credit alone does not: weights 1,1,1,6,6). Values within _EPSILON are
    ties, and ties keep the earlier member, so float rounding never reorders a rotation."""
    owed = [r for r in eligible if credits[r] > _EPSILON]
    if not owed:
        return _first_best(eligible, lambda r: -credits[r])
    return _first_best(owed, lambda r: (1.0 - credits[r]) * total / weights[r])


def _first_best(candidates: list[str], key: Callable[[str], float]) -> str:
    """The candidate with the lowest key; the earliest one among near-ties."""
    best, best_key = candidates[0], key(candidates[0])
    for rep_id in candidates[1:]:
        value = key(rep_id)
        if value < best_key - _EPSILON:
            best, best_key = rep_id, value
    return best


_EPSILON = 1e-9


def _trace(
    pool: Pool,
    chosen: str,
    how: str,
    blocked: Mapping[str, tuple[SkipReason, str]],
    credits: Mapping[str, float],
    counts: Mapping[str, int],
    member_loads: list[RepLoad],
) -> tuple[Candidate, ...]:
    chosen_open = member_loads[pool.members.index(chosen)].open
    balanced = pool.method == "load_balanced"
    trace: list[Candidate] = []
    for rep_id, load in zip(pool.members, member_loads, strict=True):
        credit, count, open_leads = credits.get(rep_id, 0.0), counts.get(rep_id, 0), load.open
        if rep_id == chosen:
            trace.append(Candidate(rep_id, True, None, how, credit, count, open_leads))
        elif rep_id in blocked:
            why, detail = blocked[rep_id]
            trace.append(Candidate(rep_id, False, why, detail, credit, count, open_leads))
        elif balanced and open_leads > chosen_open:
            trace.append(
                Candidate(
                    rep_id,
                    True,
                    SkipReason.MORE_OPEN_LEADS,
                    f"{open_leads} open vs {chosen_open}",
                    credit,
                    count,
                    open_leads,
                )
            )
        else:
            reason = SkipReason.AHEAD_OF_SHARE if credit <= 0 else SkipReason.LATER_IN_ROTATION
            trace.append(
                Candidate(rep_id, True, reason, f"{count} in window", credit, count, open_leads)
            )
    return tuple(trace)
