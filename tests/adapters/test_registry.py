"""The registry builds each capability's plugins from a config, and the store adapters the
services are given; a built sender delivers through a real receiver on 127.0.0.1."""

from __future__ import annotations

import httpx
import pytest

from leadroute.adapters import registry
from leadroute.adapters.crm import HubspotSender, SalesforceSender
from leadroute.adapters.notify import EmailSender, SlackSender, WebhookSender
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
from leadroute.domain.notify import CrmModel, NotificationsModel, OutboxMessage
from tests.receivers import http_receiver

NOTIFICATIONS = {
    "channels": {
        "team": {"slack": {"webhook_url_env": "SLACK_URL"}},
        "rep": {"email": {"host": "127.0.0.1", "from": "routing@example.com", "to": ["rep"]}},
        "ops": {"webhook": {"url": "http://127.0.0.1:9/hook", "secret_env": "HOOK_SECRET"}},
    },
    "send": {"assigned": ["team", "rep", "ops"]},
}
CRM = {
    "salesforce": {"instance_url": "https://acme.my.salesforce.com", "token_env": "SF_TOKEN"},
    "hubspot": {"token_env": "HUBSPOT_TOKEN"},
}


def test_a_sender_per_channel_and_crm_keyed_as_outbox_messages_are() -> None:
    senders = registry.senders_for(
        NotificationsModel.model_validate(NOTIFICATIONS), CrmModel.model_validate(CRM)
    )
    assert {key: type(sender) for key, sender in senders.items()} == {
        ("slack", "team"): SlackSender,
        ("email", "rep"): EmailSender,
        ("webhook", "ops"): WebhookSender,
        ("salesforce", "salesforce"): SalesforceSender,
        ("hubspot", "hubspot"): HubspotSender,
    }
    for sender in senders.values():
        sender.close()
    assert registry.senders_for(None, None) == {}


def test_a_built_sender_delivers_through_the_transport_given() -> None:
    with http_receiver() as hook:
        model = NotificationsModel.model_validate(
            {
                "channels": {"ops": {"webhook": {"url": hook.url("/hook"), "secret_env": "S"}}},
                "send": {"assigned": ["ops"]},
            }
        )
        transport = httpx.HTTPTransport(retries=0)
        (sender,) = registry.senders_for(model, None, transport=transport).values()
        message = OutboxMessage("webhook", "ops", "lead.assigned", "L1", {"n": 1}, "k1")
        sender.send(message, env={"S": "secret"})
        sender.close()
    (request,) = hook.requests
    assert (request.path, request.json(), request.headers["x-leadroute-delivery"]) == (
        "/hook",
        {"n": 1},
        "k1",
    )


@pytest.mark.parametrize(
    ("factory", "adapter"),
    [
        (registry.outbox_queue, OutboxStore),
        (registry.lifecycle_log, LifecycleStore),
        (registry.timer_queue, TimerStore),
        (registry.flow_reads, FlowStore),
        (registry.backtest_reads, BacktestStore),
        (registry.routing_state_reads, RoutingStateStore),
        (registry.person_erasure, ErasureStore),
        (registry.model_versions, ModelStore),
        (registry.activity_log, ActivityStore),
    ],
)
def test_each_store_adapter_is_built_on_the_store_given(
    store: Store, factory: object, adapter: type
) -> None:
    built = factory(store)  # type: ignore[operator]
    assert isinstance(built, adapter)
    assert built.store is store
