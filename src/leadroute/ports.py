"""The small interfaces the core and the services need; adapters implement them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

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


class Contribution(Protocol):
    """One feature's part in a prediction: what it is, and how far it moved the log-odds."""

    @property
    def label(self) -> str: ...

    @property
    def effect(self) -> float: ...


class Predictor(Protocol):
    """A trained model the router asks for probabilities, many leads at a time."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> int: ...

    def predict_many(self, rows: Sequence[Mapping[str, Any]]) -> Sequence[float]: ...

    def explain(self, row: Mapping[str, Any], top: int = 5) -> Sequence[Contribution]: ...
