"""The small interfaces the core and the services need; adapters implement them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from leadroute.domain.decision import Decision
    from leadroute.domain.distribution import PoolState, RepLoad
    from leadroute.domain.lead import Lead


class RoutingState(Protocol):
    """Fairness and workload state the router reads while deciding."""

    def pool_state(self, pool_id: str) -> PoolState: ...

    def loads(self, rep_ids: Sequence[str], now: datetime) -> Mapping[str, RepLoad]: ...

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None: ...


class Clock(Protocol):
    def now(self) -> datetime: ...


class DecisionLog(Protocol):
    """Where decisions are kept, with the state changes they imply, atomically."""

    def record(self, lead: Lead, decision: Decision, *, account_key: str | None) -> int: ...

    def record_many(self, items: Iterable[tuple[Lead, Decision, str | None]]) -> None: ...
