"""Slack: POST the Block Kit message to an incoming webhook (its URL read from the environment).

Slack answers 200 "ok"; 400 invalid_payload, 403 invalid_token, 404 no_service and 410
channel_is_archived are permanent; 429 (with Retry-After) and 5xx are retried.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from leadroute.adapters.notify import http
from leadroute.domain.notify import OutboxMessage, SlackChannel


class SlackSender:
    """Implements `Sender` for one `slack:` channel."""

    def __init__(
        self, model: SlackChannel, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.model = model
        self._http = http.client(transport)

    def send(self, message: OutboxMessage, *, env: Mapping[str, str]) -> None:
        url = http.secret(env, self.model.webhook_url_env)
        http.call(
            self._http,
            "POST",
            url,
            headers={"Content-Type": "application/json; charset=utf-8"},
            content=json.dumps(message.payload, ensure_ascii=False).encode(),
            timeout=self.model.timeout_seconds,
        )

    def close(self) -> None:
        self._http.close()
