"""The small interfaces the core and the services depend on; adapters implement them.

Each port is what a service actually calls, no more. Who implements it:

- `RoutingState`: adapters.memory.MemoryRoutingState, adapters.store.sql.RoutingSession.
- `RoutingStateReads`: adapters.store.state_store.RoutingStateStore.
- `ActivityLog`: adapters.store.activity_store.ActivityStore.
- `Predictor`, `Contribution`: domain.predictive.LinearModel and its contributions.
- `ModelVersions`: adapters.store.model_store.ModelStore.
- `Clock`: any function returning an aware datetime (services.routing.utc_now).
- `OutboxQueue`: adapters.store.outbox_store.OutboxStore, adapters.memory.MemoryOutbox.
- `SenderFactory`: adapters.registry.senders_for (the notification channels and CRMs).
- `TimerQueue`, `TimerMessages`: adapters.store.timer_store.TimerStore; the worker's messages.
- `LifecycleLog`, `HeldLead`, `DecisionSession`: adapters.store.lifecycle_store.LifecycleStore
  (with the SQL store's RoutingSession), adapters.memory.MemoryStore (with its MemorySession).
- `PersonErasure`, `ErasureWork`: adapters.store.privacy_store.ErasureStore and Erasure.
- `OrgReads`, `ConfigReads`, `LeadReads`, `DecisionReads`, `ReportReads`:
  adapters.store.sql.Store (and `FlowStore` for the first two).
- `FlowReads`: adapters.store.flow_store.FlowStore.
- `BacktestReads`: adapters.store.backtest_store.BacktestStore.

mypy checks every implementation where it is passed for its port, and
tests/services/test_memory_ports.py runs the lifecycle and the outbox on both stores.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    # The store's records are plain dataclasses that still live with the SQL store.
    from leadroute.adapters.store.activity_store import LeadRef
    from leadroute.adapters.store.sql import StoredConfig, StoredDecision, StoredLead
    from leadroute.domain.distribution import PoolState, RepLoad
    from leadroute.domain.intent import Activity
    from leadroute.domain.lead import Lead
    from leadroute.domain.lifecycle import DecisionEffects, LifecycleEvent
    from leadroute.domain.notify import CrmModel, NotificationsModel, OutboxMessage, Sender
    from leadroute.domain.org import Org
    from leadroute.domain.outbox import OutboxRow
    from leadroute.domain.predictive import LinearModel
    from leadroute.domain.privacy import PersonRows


# -- routing (the domain's router) ----------------------------------------------------------------


class RoutingState(Protocol):
    """Fairness and workload state the router reads while deciding."""

    def pool_state(self, pool_id: str) -> PoolState: ...

    def loads(self, rep_ids: Sequence[str], now: datetime) -> Mapping[str, RepLoad]: ...

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None: ...


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


class ModelVersions(Protocol):
    """Trained predictive models, versioned per name; saving one makes it the active one."""

    def save(self, model: LinearModel, metrics: Mapping[str, Any], rows: int) -> int:
        """Keep `model` as the next version of its name; returns the version."""
        ...

    def active(self, name: str) -> LinearModel | None: ...


class Clock(Protocol):
    """Now, as an aware datetime (tests pass a clock they move)."""

    def __call__(self) -> datetime: ...


class RoutingStateReads(Protocol):
    """The routing state as stored, read without locks (a preview copies it into memory)."""

    def pool_states(self, pool_ids: Sequence[str]) -> dict[str, PoolState]: ...

    def counters(self, periods: Sequence[str]) -> dict[tuple[str, str], int]:
        """(rep, period) -> count for these periods; the period `open` counts open leads."""
        ...

    def sticky_rep(self, pool_id: str, account_key: str) -> str | None: ...


class ActivityLog(Protocol):
    """Engagement activities, each kept once (a resent event id is not counted twice)."""

    def add(self, items: Sequence[Activity], *, received_at: datetime) -> builtins.list[bool]:
        """Keep activities; for each, whether it was new."""
        ...

    def leads(self, lead_ids: Sequence[str]) -> dict[str, LeadRef]:
        """Stored leads by id, with what ties them to activity (email, account)."""
        ...


# -- the outbox ----------------------------------------------------------------------------------


class OutboxQueue(Protocol):
    """Queued notifications and CRM updates: claimed for a lease, then recorded sent or failed.

    A claim is fenced by the try count it took: recording the outcome of a claim whose lease
    ran out (the message was claimed again) changes nothing and answers False."""

    def add_now(self, messages: Sequence[OutboxMessage], now: datetime) -> int: ...

    def claim_due(
        self, limit: int, now: datetime, *, lease: timedelta = ...
    ) -> builtins.list[OutboxRow]: ...

    def mark_sent(self, row: OutboxRow, *, now: datetime) -> bool: ...

    def record_failure(self, row: OutboxRow, *, status: str, due: datetime, error: str) -> bool: ...

    def get(self, message_id: int) -> OutboxRow | None: ...

    def list(
        self, *, status: str | None = None, lead_id: str | None = None, limit: int | None = None
    ) -> builtins.list[OutboxRow]: ...

    def retry_dead(self, message_id: int, *, now: datetime) -> bool: ...

    def counts(self) -> dict[str, int]: ...


class SenderFactory(Protocol):
    """The senders of a config's channels and CRMs, keyed by (channel kind, target)."""

    def __call__(
        self, notifications: NotificationsModel | None, crm: CrmModel | None, /
    ) -> dict[tuple[str, str], Sender]: ...


# -- SLA timers ----------------------------------------------------------------------------------


class TimerMessages(Protocol):
    """The messages a timer's event queues (a reminder to the rep, an escalation...)."""

    def __call__(self, event: str, timer: dict[str, Any], /) -> Sequence[OutboxMessage]: ...


class TimerQueue(Protocol):
    """SLA timers as workers see them: claimed for a lease, then moved on while the claim
    holds (a claimer whose lease ran out changes nothing and gets False)."""

    def claim_due(
        self, now: datetime, *, lease_for: timedelta, limit: int
    ) -> builtins.list[dict[str, Any]]: ...

    def step(
        self,
        timer: dict[str, Any],
        status: str,
        *,
        at: datetime,
        event: str | None = None,
        on_step: TimerMessages | None = None,
    ) -> bool:
        """Move a claimed timer to `status` with its event and the messages `on_step` gives
        for it, in one transaction."""
        ...

    def of_lead(self, lead_id: str | None = None) -> builtins.list[dict[str, Any]]: ...


# -- a lead's lifecycle ---------------------------------------------------------------------------


class DecisionSession(Protocol):
    """The unit of work decisions are recorded in (the SQL store's RoutingSession): rows staged
    on it are written in the decisions' transaction, after the cancelled timers."""

    def stage(self, table: Any, rows: builtins.list[dict[str, Any]]) -> None: ...

    def cancel_timers(self, lead_id: str) -> None: ...


class HeldLead(Protocol):
    """A lead held for one action (PostgreSQL: its row locked); changes apply at once, or not
    at all if the action fails."""

    @property
    def status(self) -> str: ...

    @property
    def owner_id(self) -> str | None: ...

    def cancel_timers(self, at: datetime) -> None: ...

    def add_event(self, event: LifecycleEvent) -> None: ...


class LifecycleLog(Protocol):
    """Lifecycle events, SLA timers and what a lead's messages say about it."""

    def lead(self, lead_id: str) -> Lead | None: ...

    def recent_activities(
        self, *, email: str | None, lead_id: str, limit: int
    ) -> builtins.list[Activity]: ...

    def stage(self, session: DecisionSession, effects: DecisionEffects) -> None:
        """Stage a decision's effects on the session it is recorded in."""
        ...

    def hold(self, lead_id: str) -> AbstractContextManager[HeldLead | None]:
        """The lead for one action (None if there is no such lead)."""
        ...

    def close_lead(self, lead_id: str, status: str) -> bool:
        """Move a routed lead to a worked status and off its owner's open load."""
        ...

    def events(self, lead_id: str) -> builtins.list[LifecycleEvent]:
        """The lead's events, oldest first."""
        ...

    def count_events(self, lead_id: str, kinds: Sequence[str]) -> int: ...


# -- erasure --------------------------------------------------------------------------------------


class ErasureWork(Protocol):
    """One person's erasure, in one transaction."""

    def find(self, *, email: str | None, lead_id: str | None) -> PersonRows:
        """The person's leads and emails, following every email and duplicate link."""
        ...

    def erase(
        self, person: PersonRows, *, lead_ids: Sequence[str], at: str
    ) -> tuple[dict[str, int], dict[str, int], dict[str, set[str]]]:
        """Rewrite the person's rows and the rows quoting them: (rows per table, quoting rows
        per table, personal fields erased per lead)."""
        ...

    def forget_lookups(self, values: Iterable[str]) -> int:
        """Delete cached enrichment answers looked up by these values."""
        ...

    def add_events(self, events: Sequence[LifecycleEvent]) -> None: ...


class PersonErasure(Protocol):
    def erasure(self, *, keep: bool = ...) -> AbstractContextManager[ErasureWork]:
        """An erasure's transaction, kept at the end if `keep` (else a dry run)."""
        ...


# -- reads for reports and the console ------------------------------------------------------------


class OrgReads(Protocol):
    def load_org(self) -> Org: ...


class ConfigReads(Protocol):
    def config(self, seq: int | None = None) -> StoredConfig | None:
        """Version `seq` of the routing config (default: the active one)."""
        ...


class LeadReads(Protocol):
    def iter_leads(
        self, *, since: datetime | None = None, batch_id: str | None = None
    ) -> Iterator[StoredLead]:
        """Every stored lead (received since `since`, of one batch), oldest first."""
        ...


class DecisionReads(Protocol):
    def decisions(self, lead_id: str) -> builtins.list[StoredDecision]:
        """Every decision of a lead, oldest first."""
        ...

    def current_decisions(self, lead_ids: Sequence[str]) -> builtins.list[StoredDecision]: ...

    def decisions_since(
        self, since: datetime | None = None, *, current_only: bool = True
    ) -> Iterator[StoredDecision]: ...

    def first_events(self, lead_ids: Sequence[str], kinds: Sequence[str]) -> dict[str, datetime]:
        """lead id -> when its first lifecycle event of these kinds happened."""
        ...


class ReportReads(OrgReads, ConfigReads, LeadReads, DecisionReads, Protocol):
    """What the reports read: the org, config versions, leads, decisions, first events."""


class FlowReads(OrgReads, ConfigReads, Protocol):
    """A config version's decisions, as its flow graph counts them."""

    def trails(
        self, seq: int, *, since: datetime | None, until: datetime | None
    ) -> Iterator[tuple[str | None, str, str | None, dict[str, Any]]]:
        """(node, outcome, reason, record) of every decision version `seq` made in
        [since, until)."""
        ...

    def other_versions(self, seq: int, *, since: datetime | None, until: datetime | None) -> int:
        """How many decisions of [since, until) other versions made."""
        ...


class BacktestReads(Protocol):
    """The leads of a period as a backtest replays them."""

    def statuses(self, since: datetime, until: datetime | None) -> dict[str, int]:
        """How many leads received in [since, until) are in each status."""
        ...

    def replay_rows(
        self,
        since: datetime,
        until: datetime | None,
        *,
        skip: Sequence[str],
        closing: Sequence[str],
        with_intent: bool,
        size: int = ...,
    ) -> Iterator[Sequence[Sequence[Any]]]:
        """The period's leads not in a `skip` status, oldest first, in chunks, each row the
        lead, its current decision, the lead it duplicates, when it was first worked (an event
        of the `closing` kinds) and, `with_intent`, the intent recorded with the decision (the
        columns are listed in adapters.store.backtest_store)."""
        ...
