"""HubSpot: write a contact's owner and lead status back by CRM v3 objects update.

    PATCH {base_url}/crm/v3/objects/contacts/{id}
    Authorization: Bearer <token>
    {"properties": {"hubspot_owner_id": "123", "hs_lead_status": "IN_PROGRESS"}}

200 is success. HubSpot's error text (`category: message`) is kept. 429 (rate limits), 5xx
and timeouts are retried; any other 4xx is permanent: an unknown contact, an owner id or a
status value HubSpot does not know, a revoked token.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote

import httpx

from leadroute.adapters.notify import http
from leadroute.domain.notify import HubspotModel, OutboxMessage


def describe(response: httpx.Response) -> str:
    """HubSpot's error as `CATEGORY: message`, else the start of the body."""
    try:
        document = response.json()
    except ValueError:
        return http.body_excerpt(response)
    if not isinstance(document, dict) or not document.get("message"):
        return http.body_excerpt(response)
    category = document.get("category")
    text = str(document["message"])
    return (f"{category}: {text}" if category else text)[:500]


class HubspotSender:
    """Implements `Sender` for `crm.hubspot`."""

    def __init__(
        self, model: HubspotModel, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.model = model
        self._http = http.client(transport)

    def url(self, object_type: str, record_id: str) -> str:
        return (
            f"{self.model.base_url}/crm/v3/objects/"
            f"{quote(object_type, safe='')}/{quote(record_id, safe='')}"
        )

    def send(self, message: OutboxMessage, *, env: Mapping[str, str]) -> None:
        token = http.secret(env, self.model.token_env)
        payload = message.payload
        http.patch_json(
            self._http,
            self.url(str(payload.get("object", "contacts")), str(payload["id"])),
            {"properties": payload["properties"]},
            token=token,
            timeout=self.model.timeout_seconds,
            describe=describe,
        )

    def close(self) -> None:
        self._http.close()
