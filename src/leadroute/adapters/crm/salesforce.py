"""Salesforce: write a Lead's owner and status back by REST sObject update.

    PATCH {instance_url}/services/data/{api_version}/sobjects/Lead/{Id}
    Authorization: Bearer <token>          {"OwnerId": "005...", "Status": "Working"}

204 is success. Salesforce's error text (`errorCode: message`) is kept. 429, 5xx, timeouts,
REQUEST_LIMIT_EXCEEDED (the org's daily API limit, a 403) and UNABLE_TO_LOCK_ROW (another
transaction holds the record) are retried; any other 4xx is permanent: an unknown or deleted
Lead, an inactive owner, a bad picklist value, an expired token.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import httpx

from leadroute.adapters.notify import http
from leadroute.domain.notify import OutboxMessage, SalesforceModel

TRANSIENT_CODES = frozenset({"REQUEST_LIMIT_EXCEEDED", "UNABLE_TO_LOCK_ROW", "SERVER_UNAVAILABLE"})


def _errors(response: httpx.Response) -> list[tuple[str, str]]:
    try:
        document = response.json()
    except ValueError:
        return []
    items = document if isinstance(document, list) else [document]
    return [
        (str(item.get("errorCode", "")), str(item.get("message", "")))
        for item in items
        if isinstance(item, dict)
    ]


def describe(response: httpx.Response) -> str:
    """Salesforce's errors as `CODE: message; ...`, else the start of the body."""
    errors = _errors(response)
    if not errors:
        return http.body_excerpt(response)
    return "; ".join(f"{code}: {text}" if code else text for code, text in errors)[:500]


def retryable(response: httpx.Response) -> bool:
    if http.is_retryable(response.status_code):
        return True
    return any(code in TRANSIENT_CODES for code, _ in _errors(response))


class SalesforceSender:
    """Implements `Sender` for `crm.salesforce`."""

    def __init__(
        self, model: SalesforceModel, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.model = model
        self._http = http.client(transport)

    def url(self, object_name: str, record_id: str) -> str:
        m = self.model
        return (
            f"{m.instance_url}/services/data/{m.api_version}/sobjects/"
            f"{quote(object_name, safe='')}/{quote(record_id, safe='')}"
        )

    def send(self, message: OutboxMessage, *, env: Mapping[str, str]) -> None:
        token = http.secret(env, self.model.token_env)
        payload = message.payload
        http.patch_json(
            self._http,
            self.url(str(payload.get("object", "Lead")), str(payload["id"])),
            payload["fields"],
            token=token,
            timeout=self.model.timeout_seconds,
            describe=describe,
            retryable=retryable,
        )

    def close(self) -> None:
        self._http.close()
