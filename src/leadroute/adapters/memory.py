"""In-memory routing state: for simulations (check --leads, backtests), benchmarks and tests."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime

from leadroute.domain.decision import Decision
from leadroute.domain.distribution import PoolState, RepLoad
from leadroute.domain.org import Org, periods_at, periods_of_minute


class MemoryRoutingState:
    """Implements the RoutingState port and applies decisions, all in process memory."""

    def __init__(self, org: Org) -> None:
        self.org = org
        self.pools: dict[str, PoolState] = {}
        self.counters: dict[tuple[str, str], int] = defaultdict(int)
        self.open: dict[str, int] = defaultdict(int)
        self.sticky: dict[tuple[str, str], str] = {}
        self._load_cache: dict[str, tuple[datetime, RepLoad]] = {}

    def pool_state(self, pool_id: str) -> PoolState:
        return self.pools.get(pool_id) or PoolState()

    def loads(self, rep_ids: Sequence[str], now: datetime) -> Mapping[str, RepLoad]:
        result = {}
        minute = now.replace(second=0, microsecond=0)
        cache = self._load_cache
        for rep_id in rep_ids:
            hit = cache.get(rep_id)
            if hit is not None and hit[0] == minute:
                result[rep_id] = hit[1]
                continue
            rep = self.org.reps.get(rep_id)
            if rep is None:
                continue
            keys = periods_of_minute(rep.timezone, minute)
            load = RepLoad(
                day=self.counters[(rep_id, keys["day"])],
                week=self.counters[(rep_id, keys["week"])],
                month=self.counters[(rep_id, keys["month"])],
                open=self.open[rep_id],
            )
            cache[rep_id] = (minute, load)
            result[rep_id] = load
        return result

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None:
        return self.sticky.get((pool_id, account_key))

    def apply(self, decision: Decision, account_key: str | None = None) -> None:
        """Record what a decision changes: pool fairness, rep counters, open load, stickiness."""
        if decision.pool is not None and decision.pool_state is not None:
            self.pools[decision.pool] = decision.pool_state
            if account_key and decision.rep_id:
                self.sticky[(decision.pool, account_key)] = decision.rep_id
        rep_id = decision.rep_id
        if rep_id is None:
            return
        self._load_cache.pop(rep_id, None)
        rep = self.org.reps.get(rep_id)
        if rep is not None:
            for key in periods_at(rep.timezone, decision.decided_at).values():
                self.counters[(rep_id, key)] += 1
        self.open[rep_id] += 1

    def close(self, rep_id: str) -> None:
        """A lead of this rep was worked or closed: one fewer open lead."""
        self._load_cache.pop(rep_id, None)
        if self.open[rep_id] > 0:
            self.open[rep_id] -= 1
