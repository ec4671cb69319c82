"""Generic webhooks: POST the JSON body, signed with HMAC-SHA256.

Headers: `X-Leadroute-Timestamp` (Unix seconds), `X-Leadroute-Signature: sha256=<hex>` over
`<timestamp>.<body>`, `X-Leadroute-Event` and `X-Leadroute-Delivery` (the message key: the
same on every retry, so a receiver can drop repeats). The body is encoded once per try, and
the signature covers exactly the bytes sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping

import httpx

from leadroute.adapters.notify import http
from leadroute.domain.notify import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    OutboxMessage,
    WebhookChannel,
    signature,
)


class WebhookSender:
    """Implements `Sender` for one `webhook:` channel."""

    def __init__(
        self,
        model: WebhookChannel,
        *,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.model = model
        self._clock = clock
        self._http = http.client(transport)

    def send(self, message: OutboxMessage, *, env: Mapping[str, str]) -> None:
        secret = http.secret(env, self.model.secret_env)
        body = json.dumps(message.payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(self._clock()))
        http.call(
            self._http,
            "POST",
            self.model.url,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "leadroute-webhook",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: signature(secret, timestamp, body),
                EVENT_HEADER: message.event,
                DELIVERY_HEADER: message.key,
            },
            content=body,
            timeout=self.model.timeout_seconds,
        )

    def close(self) -> None:
        self._http.close()
