"""Notification channels, one module per kind, built from the config in one place.

Every sender has `send(message, *, env)`, raising `DeliveryError(retryable=...)`, and
`close()`. Senders are keyed by (channel kind, target name), as outbox rows are.
"""

from __future__ import annotations

import ssl

import httpx

from leadroute.adapters.notify.email import EmailSender
from leadroute.adapters.notify.slack import SlackSender
from leadroute.adapters.notify.webhook import WebhookSender
from leadroute.domain.notify import NotificationsModel, Sender

__all__ = ["EmailSender", "SlackSender", "WebhookSender", "build_senders"]


def build_senders(
    notifications: NotificationsModel | None,
    *,
    transport: httpx.BaseTransport | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> dict[tuple[str, str], Sender]:
    """A sender per configured channel."""
    senders: dict[tuple[str, str], Sender] = {}
    if notifications is None:
        return senders
    for name, channel in notifications.channels.items():
        sender: Sender
        if channel.slack is not None:
            sender = SlackSender(channel.slack, transport=transport)
        elif channel.email is not None:
            sender = EmailSender(channel.email, ssl_context=ssl_context)
        else:
            assert channel.webhook is not None
            sender = WebhookSender(channel.webhook, transport=transport)
        senders[(channel.kind, name)] = sender
    return senders
