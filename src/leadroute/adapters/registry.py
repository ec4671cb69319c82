"""Where the adapters services are given get built: plain functions the composition root (and,
until it builds every service, the services' callers) calls, one per capability.

Integrations are plugins typed by capability, each kind registered once in its package:
notification channels (`adapters.notify`: slack, email, webhook), CRMs (`adapters.crm`:
salesforce, hubspot), enrichment providers (`adapters.enrichers.build_provider`: table,
http, inference). The store adapters implement the ports of `leadroute.ports` on a `Store`;
each factory returns its port, so mypy checks that the adapter implements it.
"""

from __future__ import annotations

import ssl

import httpx

from leadroute.adapters import crm as crm_adapters
from leadroute.adapters import notify as notify_adapters
from leadroute.adapters.store.activity_store import ActivityStore
from leadroute.adapters.store.backtest_store import BacktestStore
from leadroute.adapters.store.flow_store import FlowStore
from leadroute.adapters.store.lifecycle_store import LifecycleStore
from leadroute.adapters.store.model_store import ModelStore
from leadroute.adapters.store.outbox_store import OutboxStore
from leadroute.adapters.store.privacy_store import ErasureStore
from leadroute.adapters.store.sql import Store
from leadroute.adapters.store.state_store import RoutingStateStore
from leadroute.adapters.store.timer_store import TimerStore
from leadroute.domain.notify import CrmModel, NotificationsModel, Sender
from leadroute.ports import (
    ActivityLog,
    BacktestReads,
    FlowReads,
    LifecycleLog,
    ModelVersions,
    OutboxQueue,
    PersonErasure,
    RoutingStateReads,
    TimerQueue,
)


def senders_for(
    notifications: NotificationsModel | None,
    crm: CrmModel | None,
    *,
    transport: httpx.BaseTransport | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[tuple[str, str], Sender]:
    """A sender per configured notification channel and CRM, keyed by (kind, target) as outbox
    messages are (a `SenderFactory`). `transport` goes to the HTTP ones (tests, proxies)."""
    senders = notify_adapters.build_senders(
        notifications, transport=transport, ssl_context=ssl_context
    )
    senders.update(crm_adapters.build_senders(crm, transport=transport))
    return senders


def outbox_queue(store: Store) -> OutboxQueue:
    """The store's outbox (an `OutboxQueue`)."""
    return OutboxStore(store)


def lifecycle_log(store: Store) -> LifecycleLog:
    """The store's lead lifecycle: events, SLA timers (a `LifecycleLog`)."""
    return LifecycleStore(store)


def timer_queue(store: Store) -> TimerQueue:
    """The store's SLA timers (a `TimerQueue`)."""
    return TimerStore(store)


def flow_reads(store: Store) -> FlowReads:
    """The store's decisions as the flow graph counts them (`FlowReads`)."""
    return FlowStore(store)


def backtest_reads(store: Store) -> BacktestReads:
    """The store's leads as a backtest replays them (`BacktestReads`)."""
    return BacktestStore(store)


def routing_state_reads(store: Store) -> RoutingStateReads:
    """The store's routing state, read without locks (`RoutingStateReads`)."""
    return RoutingStateStore(store)


def person_erasure(store: Store) -> PersonErasure:
    """Erasing a person from the store (`PersonErasure`)."""
    return ErasureStore(store)


def model_versions(store: Store) -> ModelVersions:
    """The store's predictive model versions (`ModelVersions`)."""
    return ModelStore(store)


def activity_log(store: Store) -> ActivityLog:
    """The store's engagement activities (`ActivityLog`)."""
    return ActivityStore(store)
