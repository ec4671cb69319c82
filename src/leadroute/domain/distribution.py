"""Choosing a rep inside a pool: availability, caps, and fair shares.

Fair shares use credit-based smooth weighted round robin. After n picks in a fairness window a
rep's credit is n*w/W - picks (in units of W), so the rep with the most credit is the one furthest
behind its weighted share; picking it keeps every rep within one lead of its share at every
prefix. With equal weights this is plain round robin in member order.

Absence policy: under `no_catch_up` only eligible reps earn credit, so a rep returning from
absence resumes its place without a burst; under `catch_up` available-but-absent active reps keep
earning, and get the leads they missed when they return.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from leadroute.domain.config import Pool
from leadroute.domain.org import Org, Rep, RepStatus, local_periods


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
        record: dict[str, object] = {"rep": self.rep_id, "eligible": self.eligible}
        if self.reason:
            record["reason"] = self.reason
        if self.detail:
            record["detail"] = self.detail
        record.update(credit=round(self.credit, 4), count=self.count, open=self.open)
        return record


@dataclass(frozen=True, slots=True)
class Pick:
    chosen: str | None
    candidates: tuple[Candidate, ...]
    state: PoolState
    how: str


_STILL_EARNING = frozenset(
    {SkipReason.OUT_OF_OFFICE, SkipReason.OUTSIDE_HOURS, SkipReason.CAP_REACHED,
     SkipReason.OVERLOADED})


def window_key(pool: Pool, now: datetime) -> str:
    if pool.fairness_window == "all":
        return "all"
    return local_periods(now.astimezone(ZoneInfo(pool.timezone)))[pool.fairness_window]


def unavailable(
    rep: Rep | None, now: datetime, load: RepLoad, *, hours: bool = True, caps: bool = True,
    max_open: int | None = None,
) -> tuple[SkipReason, str] | None:
    """Why a rep cannot take a lead now, or None if it can."""
    if rep is None:
        return SkipReason.UNKNOWN, "not in the org"
    if rep.status is RepStatus.INACTIVE:
        return SkipReason.INACTIVE, "deactivated"
    if rep.status is RepStatus.PAUSED:
        return SkipReason.PAUSED, "paused"
    absence = rep.absence_at(now)
    if absence is not None:
        return SkipReason.OUT_OF_OFFICE, f"{absence.reason} until {absence.end.isoformat()}"
    local = rep.local(now)
    if hours and rep.working_hours is not None and not rep.working_hours.is_open(local):
        return SkipReason.OUTSIDE_HOURS, f"{local:%a %H:%M} {rep.timezone}"
    if caps:
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
    pool: Pool, org: Org, state: PoolState, loads: Mapping[str, RepLoad], now: datetime,
    *, sticky_rep: str | None = None, exclude: frozenset[str] = frozenset(),
) -> Pick:
    """Choose a rep in `pool` at `now`; return the choice, every candidate's trace, new state."""
    window = window_key(pool, now)
    if state.window != window:
        state = PoolState(window=window)
    credits = dict(state.credits)
    counts = dict(state.counts)
    blocked: dict[str, tuple[SkipReason, str]] = {}
    eligible: list[str] = []
    for rep_id in pool.members:
        rep = org.reps.get(rep_id)
        why = unavailable(rep, now, loads.get(rep_id, RepLoad()), hours=pool.respect_hours,
                          caps=pool.enforce_caps, max_open=pool.max_open)
        if why is None and rep_id in exclude:
            why = (SkipReason.PREVIOUS_OWNER, "owned this lead before")
        if why is None:
            eligible.append(rep_id)
        else:
            blocked[rep_id] = why
    if not eligible:
        trace = tuple(
            Candidate(r, False, blocked[r][0].value, blocked[r][1], credits.get(r, 0.0),
                      counts.get(r, 0), loads.get(r, RepLoad()).open)
            for r in pool.members)
        return Pick(None, trace, state, "nobody available")

    earning = list(eligible)
    if pool.absence == "catch_up":
        earning += [r for r, (why, _) in blocked.items()
                    if why in _STILL_EARNING]
    weights = {r: weight_of(pool, org.reps.get(r)) for r in earning}
    total = sum(weights.values())
    for rep_id in earning:
        credits[rep_id] = credits.get(rep_id, 0.0) + weights[rep_id]

    order = {rep_id: i for i, rep_id in enumerate(pool.members)}
    how = "fair share"
    if sticky_rep is not None and sticky_rep in eligible:
        chosen, how = sticky_rep, "sticky: same account as an earlier lead"
    elif pool.method == "load_balanced":
        chosen = min(eligible, key=lambda r: (loads.get(r, RepLoad()).open, -credits[r], order[r]))
        how = "fewest open leads"
    else:
        chosen = max(eligible, key=lambda r: (credits[r], -order[r]))
    credits[chosen] -= total
    counts[chosen] = counts.get(chosen, 0) + 1

    chosen_load = loads.get(chosen, RepLoad()).open
    trace_list: list[Candidate] = []
    for rep_id in pool.members:
        credit, count = credits.get(rep_id, 0.0), counts.get(rep_id, 0)
        open_leads = loads.get(rep_id, RepLoad()).open
        if rep_id == chosen:
            trace_list.append(Candidate(rep_id, True, None, how, credit, count, open_leads))
        elif rep_id in blocked:
            why, detail = blocked[rep_id]
            trace_list.append(Candidate(rep_id, False, why.value, detail, credit, count,
                                        open_leads))
        elif pool.method == "load_balanced" and open_leads > chosen_load:
            trace_list.append(Candidate(rep_id, True, SkipReason.MORE_OPEN_LEADS.value,
                                        f"{open_leads} open vs {chosen_load}", credit, count,
                                        open_leads))
        else:
            reason = SkipReason.AHEAD_OF_SHARE if credit <= 0 else SkipReason.LATER_IN_ROTATION
            trace_list.append(Candidate(rep_id, True, reason.value,
                                        f"{count} leads this window", credit, count, open_leads))
    new_state = PoolState(window, credits, counts)
    return Pick(chosen, tuple(trace_list), new_state, how)
