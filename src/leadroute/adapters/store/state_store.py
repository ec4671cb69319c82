"""The routing state as stored, read without locks (for previews: nothing is written): pool
fairness, reps' counters for some periods (and their open leads), sticky owners."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.sql import Store
from leadroute.domain.distribution import PoolState


class RoutingStateStore:
    """The `RoutingStateReads` of a `Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def pool_states(self, pool_ids: Sequence[str]) -> dict[str, PoolState]:
        """The stored fairness state of these pools (those that have one)."""
        query = select(t.pool_state).where(t.pool_state.c.pool_id.in_(sorted(set(pool_ids))))
        with self.store.engine.connect() as conn:
            return {
                row["pool_id"]: PoolState(
                    row["fairness_window"],
                    row["credits"],
                    row["counts"],
                    frozenset(row["present"] or ()),
                )
                for row in conn.execute(query).mappings()
            }

    def counters(self, periods: Sequence[str]) -> dict[tuple[str, str], int]:
        """(rep, period) -> count, of every rep, for these periods (`open`: their open leads)."""
        query = select(t.rep_counters).where(t.rep_counters.c.period.in_(sorted(set(periods))))
        with self.store.engine.connect() as conn:
            return {
                (row["rep_id"], row["period"]): int(row["count"])
                for row in conn.execute(query).mappings()
            }

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None:
        query = select(t.sticky.c.rep_id).where(
            t.sticky.c.pool_id == pool_id, t.sticky.c.account_key == account_key
        )
        with self.store.engine.connect() as conn:
            owner: str | None = conn.scalar(query)
        return owner
