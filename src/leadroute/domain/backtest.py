"""A backtest's comparison: where leads went (their current decisions) against where a draft
config would have sent them (a replay).

Pure counting. Reading the leads and replaying them lives in `services/backtest.py`; this module
is given both placements of each lead and works out the owner-change matrix, the load per rep,
fairness per pool (max-min spread and Gini coefficient), cap violations counted in each rep's
time zone, the reasons leads would be held or left unrouted, and the counts per route.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from leadroute.domain.org import Rep, periods_at

UNDECIDED = "undecided"  # a lead with no current decision
NO_ROUTE = "(none)"  # a decision taken before any route: minimal viable lead, duplicate


@dataclass(frozen=True, slots=True)
class Placement:
    """Where one lead went, or would go: outcome, route, rep or queue, when, and why."""

    outcome: str
    at: datetime
    node: str | None = None
    rep_id: str | None = None
    queue: str | None = None
    reason: str = ""
    takes_capacity: bool = True  # False: given to the owner of the lead it duplicates

    @property
    def label(self) -> str:
        """The owner in the matrix: `rep:<id>`, `queue:<name>`, or the outcome."""
        if self.rep_id is not None:
            return f"rep:{self.rep_id}"
        if self.queue is not None:
            return f"queue:{self.queue}"
        return self.outcome


@dataclass(frozen=True, slots=True)
class Fairness:
    """How evenly leads spread over the reps who could take them."""

    reps: int
    leads: int
    low: int
    high: int
    gini: float

    @property
    def spread(self) -> int:
        """Most leads of one rep minus fewest."""
        return self.high - self.low

    @property
    def mean(self) -> float:
        return self.leads / self.reps if self.reps else 0.0

    def as_record(self) -> dict[str, Any]:
        return {
            "reps": self.reps,
            "leads": self.leads,
            "min": self.low,
            "max": self.high,
            "spread": self.spread,
            "mean": round(self.mean, 3),
            "gini": round(self.gini, 4),
        }


def gini(loads: Iterable[int]) -> float:
    """Gini coefficient of leads per rep: 0 when all are equal, (n-1)/n when one rep has all.

    Computed in integers (`2 * sum(i * x_i) - (n + 1) * total` over `n * total`, loads sorted,
    i from 1), so equal loads give exactly 0. No reps or no leads: 0.
    """
    ordered = sorted(loads)
    n, total = len(ordered), sum(ordered)
    if n == 0 or total <= 0:
        return 0.0
    ranked = sum(i * x for i, x in enumerate(ordered, start=1))
    return (2 * ranked - (n + 1) * total) / (n * total)


def fairness(loads: Mapping[str, int], reps: Iterable[str]) -> Fairness:
    """Fairness of `loads` (leads per rep) among `reps`; a rep with no leads counts as 0."""
    values = [loads.get(rep_id, 0) for rep_id in dict.fromkeys(reps)]
    if not values:
        return Fairness(0, 0, 0, 0, 0.0)
    return Fairness(len(values), sum(values), min(values), max(values), gini(values))


@dataclass(frozen=True, slots=True)
class PoolFairness:
    """Fairness among one pool's reps (or all pooled reps: `overall`), before and after."""

    scope: str
    before: Fairness
    after: Fairness

    def as_record(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "before": self.before.as_record(),
            "after": self.after.as_record(),
        }


@dataclass(frozen=True, slots=True)
class CapViolation:
    """A rep given more leads in one of its local days, weeks or months than its cap."""

    rep_id: str
    period: str  # day, week or month
    key: str  # the period in the rep's time zone: 2026-11-24, 2026-W48, 2026-11
    cap: int
    leads: int

    @property
    def over(self) -> int:
        return self.leads - self.cap

    def as_record(self) -> dict[str, Any]:
        return {
            "rep": self.rep_id,
            "period": self.period,
            "key": self.key,
            "cap": self.cap,
            "leads": self.leads,
            "over": self.over,
        }


class CapCount:
    """Leads per rep per local day, week and month, for the reps that have caps."""

    def __init__(self, reps: Mapping[str, Rep]) -> None:
        self._capped = {rep_id: rep for rep_id, rep in reps.items() if rep.caps.limited}
        self._counts: Counter[tuple[str, str, str]] = Counter()

    def add(self, rep_id: str, at: datetime) -> None:
        rep = self._capped.get(rep_id)
        if rep is None:
            return
        keys = periods_at(rep.timezone, at)
        for period, _ in rep.caps.items():
            self._counts[(rep_id, period, keys[period])] += 1

    def violations(self) -> list[CapViolation]:
        """Every period over its cap, the worst first."""
        found = []
        for (rep_id, period, key), leads in self._counts.items():
            cap = getattr(self._capped[rep_id].caps, period)
            if leads > cap:
                found.append(CapViolation(rep_id, period, key, cap, leads))
        found.sort(key=lambda v: (-v.over, v.rep_id, v.period, v.key))
        return found


@dataclass
class BeforeAfter:
    """Counts of one kind (reps, routes, outcomes, queues) before and after."""

    before: Counter[str] = field(default_factory=Counter)
    after: Counter[str] = field(default_factory=Counter)

    def rows(self) -> list[tuple[str, int, int, int]]:
        """(key, before, after, after - before), the largest change first."""
        keys = set(self.before) | set(self.after)
        rows = [(k, self.before[k], self.after[k], self.after[k] - self.before[k]) for k in keys]
        rows.sort(key=lambda r: (-abs(r[3]), -r[2], r[0]))
        return rows

    def as_record(self) -> list[dict[str, Any]]:
        return [
            {"key": k, "before": before, "after": after, "delta": delta}
            for k, before, after, delta in self.rows()
        ]


@dataclass
class BacktestReport:
    """What a draft config would have changed for the leads of a period."""

    config_name: str
    config_hash: str
    since: datetime
    until: datetime | None
    leads: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    matrix: Counter[tuple[str, str]] = field(default_factory=Counter)
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    outcomes: BeforeAfter = field(default_factory=BeforeAfter)
    routes: BeforeAfter = field(default_factory=BeforeAfter)
    reps: BeforeAfter = field(default_factory=BeforeAfter)
    queues: BeforeAfter = field(default_factory=BeforeAfter)
    fairness: list[PoolFairness] = field(default_factory=list)
    violations_before: list[CapViolation] = field(default_factory=list)
    violations_after: list[CapViolation] = field(default_factory=list)
    held_reasons: Counter[str] = field(default_factory=Counter)
    unrouted_reasons: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        """Leads that would end somewhere else (another rep, queue or outcome)."""
        return sum(n for (before, after), n in self.matrix.items() if before != after)

    def matrix_rows(self, *, changed_only: bool = False) -> list[tuple[str, str, int]]:
        """(from, to, leads), the largest first."""
        rows = [
            (before, after, n)
            for (before, after), n in self.matrix.items()
            if not changed_only or before != after
        ]
        rows.sort(key=lambda r: (-r[2], r[0], r[1]))
        return rows

    def as_record(self) -> dict[str, Any]:
        return {
            "config": {"name": self.config_name, "hash": self.config_hash},
            "since": self.since.isoformat(),
            "until": self.until.isoformat() if self.until else None,
            "leads": self.leads,
            "changed": self.changed,
            "skipped": dict(self.skipped),
            "matrix": [
                {"from": b, "to": a, "leads": n, "examples": self.examples.get((b, a), [])}
                for b, a, n in self.matrix_rows()
            ],
            "outcomes": self.outcomes.as_record(),
            "routes": self.routes.as_record(),
            "reps": self.reps.as_record(),
            "queues": self.queues.as_record(),
            "fairness": [f.as_record() for f in self.fairness],
            "violations": {
                "before": [v.as_record() for v in self.violations_before],
                "after": [v.as_record() for v in self.violations_after],
            },
            "held_reasons": _reasons(self.held_reasons),
            "unrouted_reasons": _reasons(self.unrouted_reasons),
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }


class BacktestTally:
    """Adds up the two placements of each lead; `report()` gives the comparison."""

    def __init__(self, reps: Mapping[str, Rep], *, examples: int = 3) -> None:
        self.reps = reps
        self.leads = 0
        self.matrix: Counter[tuple[str, str]] = Counter()
        self.examples: dict[tuple[str, str], list[str]] = {}
        self.outcomes = BeforeAfter()
        self.routes = BeforeAfter()
        self.loads = BeforeAfter()
        self.queues = BeforeAfter()
        self.held_reasons: Counter[str] = Counter()
        self.unrouted_reasons: Counter[str] = Counter()
        self._caps_before = CapCount(reps)
        self._caps_after = CapCount(reps)
        self._keep = examples

    def add(self, lead_id: str, before: Placement | None, after: Placement) -> None:
        self.leads += 1
        cell = (before.label if before is not None else UNDECIDED, after.label)
        self.matrix[cell] += 1
        if self._keep:
            kept = self.examples.setdefault(cell, [])
            if len(kept) < self._keep:
                kept.append(lead_id)
        if before is None:
            self.outcomes.before[UNDECIDED] += 1
        else:
            self._count(before, self.outcomes.before, self.routes.before, self.loads.before)
            if before.queue is not None:
                self.queues.before[before.queue] += 1
            if before.rep_id is not None and before.takes_capacity:
                self._caps_before.add(before.rep_id, before.at)
        self._count(after, self.outcomes.after, self.routes.after, self.loads.after)
        if after.queue is not None:
            self.queues.after[after.queue] += 1
        if after.rep_id is not None and after.takes_capacity:
            self._caps_after.add(after.rep_id, after.at)
        if after.outcome == "held":
            self.held_reasons[after.reason] += 1
        elif after.outcome == "unrouted":
            self.unrouted_reasons[after.reason] += 1

    @staticmethod
    def _count(
        placement: Placement, outcomes: Counter[str], routes: Counter[str], loads: Counter[str]
    ) -> None:
        outcomes[placement.outcome] += 1
        routes[placement.node or NO_ROUTE] += 1
        if placement.rep_id is not None:
            loads[placement.rep_id] += 1

    def report(
        self,
        *,
        config_name: str,
        config_hash: str,
        since: datetime,
        until: datetime | None,
        pools: Mapping[str, Iterable[str]],
        skipped: Mapping[str, int] | None = None,
        notes: Iterable[str] = (),
        seconds: float = 0.0,
    ) -> BacktestReport:
        """The comparison. `pools`: pool id -> the reps who could take its leads; fairness is
        reported per pool and `overall` (every rep of any pool)."""
        members = {pool_id: list(dict.fromkeys(reps)) for pool_id, reps in pools.items()}
        everyone = list(dict.fromkeys(r for reps in members.values() for r in reps))
        spread = [
            PoolFairness(
                scope,
                fairness(self.loads.before, reps),
                fairness(self.loads.after, reps),
            )
            for scope, reps in [("overall", everyone), *sorted(members.items())]
        ]
        return BacktestReport(
            config_name=config_name,
            config_hash=config_hash,
            since=since,
            until=until,
            leads=self.leads,
            skipped=dict(skipped or {}),
            matrix=Counter(self.matrix),
            examples={cell: list(ids) for cell, ids in self.examples.items()},
            outcomes=self.outcomes,
            routes=self.routes,
            reps=self.loads,
            queues=self.queues,
            fairness=spread,
            violations_before=self._caps_before.violations(),
            violations_after=self._caps_after.violations(),
            held_reasons=Counter(self.held_reasons),
            unrouted_reasons=Counter(self.unrouted_reasons),
            notes=list(notes),
            seconds=seconds,
        )


def _reasons(counts: Counter[str]) -> list[dict[str, Any]]:
    return [
        {"reason": r, "leads": n} for r, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]
