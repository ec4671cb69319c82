"""HubSpot webhooks: verify the v3 request signature, read the JSON array of events.

Signature v3 (HubSpot "Validating requests"): the `X-HubSpot-Signature-v3` header is
base64(HMAC-SHA256(app client secret, method + URI + body + timestamp)), where the URI is the
full URL HubSpot called (https://host/path?query) with a fixed set of percent-escapes decoded,
and the timestamp is the `X-HubSpot-Request-Timestamp` header (milliseconds since the epoch)
as sent. A request whose timestamp is more than 5 minutes away from now is refused.

Contact webhooks carry ids and at most one changed property, never the whole contact: a
`contact.creation` event has no properties at all. Each event becomes an `InboundEvent` whose
lead holds what the event says (crm = "hubspot", crm_id = the contact id, the changed property
mapped to its leadroute field); the full contact is fetched and enriched elsewhere, after the
API has answered 200 and stored the events.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from leadroute.adapters.inbound.types import InboundError, InboundLead, from_millis, map_fields
from leadroute.domain.fields import Vocabulary
from leadroute.domain.lead import Lead

SIGNATURE_HEADER = "X-HubSpot-Signature-v3"
TIMESTAMP_HEADER = "X-HubSpot-Request-Timestamp"
WINDOW = timedelta(minutes=5)

# The escapes HubSpot decodes in the URI before signing it; every other escape stays as sent.
_DECODED = {
    "%3A": ":",
    "%2F": "/",
    "%3F": "?",
    "%40": "@",
    "%21": "!",
    "%24": "$",
    "%27": "'",
    "%28": "(",
    "%29": ")",
    "%2A": "*",
    "%2C": ",",
    "%3B": ";",
}
_ESCAPE = re.compile("|".join(_DECODED), re.IGNORECASE)
_MILLIS = re.compile(r"[0-9]{1,16}")
_ID = re.compile(r"[0-9]{1,30}")

# objectTypeId of HubSpot's generic ("object.*") webhooks -> object type.
_OBJECT_TYPES = {"0-1": "contact", "0-2": "company", "0-3": "deal", "0-5": "ticket"}
# Contact events that say something about a lead to route; the others (deletion, merge,
# privacyDeletion, associationChange) are recorded but carry no lead.
_LEAD_CHANGES = frozenset({"creation", "propertyChange", "restore"})


def signature_uri(uri: str) -> str:
    """The URI as HubSpot signs it: %3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B decoded."""
    return _ESCAPE.sub(lambda match: _DECODED[match.group(0).upper()], uri)


def sign_v3(*, secret: str, method: str, uri: str, body: bytes, timestamp: str) -> str:
    """The X-HubSpot-Signature-v3 value HubSpot sends for this request."""
    message = (
        method.upper().encode("utf-8")
        + signature_uri(uri).encode("utf-8")
        + body
        + timestamp.encode("utf-8")
    )
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_v3(
    *,
    secret: str,
    method: str,
    uri: str,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: datetime,
    window: timedelta = WINDOW,
) -> None:
    """Return if the request is HubSpot's and fresh; raise InboundError (401, or 503 with no
    secret configured) saying what is wrong otherwise.

    uri: the full public URL HubSpot called, scheme, host and query included, as it is
    configured in the HubSpot app (behind a proxy, not the internal URL the server sees).
    body: the raw request body, before any parsing.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if not secret:
        raise InboundError(503, "no HubSpot client secret is configured (LEADROUTE_HUBSPOT_SECRET)")
    if not signature or not signature.strip():
        raise InboundError(401, f"missing {SIGNATURE_HEADER} header")
    if not timestamp or not timestamp.strip():
        raise InboundError(401, f"missing {TIMESTAMP_HEADER} header")
    stamp = timestamp.strip()
    if not _MILLIS.fullmatch(stamp):
        raise InboundError(
            401, f"{TIMESTAMP_HEADER} must be milliseconds since the epoch, got {stamp[:40]!r}"
        )
    age_ms = round(now.timestamp() * 1000) - int(stamp)
    limit_ms = window.total_seconds() * 1000
    if age_ms > limit_ms:
        raise InboundError(
            401,
            f"{TIMESTAMP_HEADER} is {age_ms // 1000} s old; requests more than "
            f"{window.total_seconds():.0f} s old are refused",
        )
    if -age_ms > limit_ms:
        raise InboundError(
            401,
            f"{TIMESTAMP_HEADER} is {-age_ms // 1000} s in the future; more than "
            f"{window.total_seconds():.0f} s ahead is refused (check the server clock)",
        )
    expected = sign_v3(secret=secret, method=method, uri=uri, body=body, timestamp=stamp)
    if not hmac.compare_digest(expected.encode("ascii"), signature.strip().encode("utf-8")):
        raise InboundError(
            401,
            f"{SIGNATURE_HEADER} does not match: the request was not signed with this app's "
            "client secret for this URL and body",
        )


@dataclass(frozen=True, slots=True)
class InboundEvent:
    """One HubSpot webhook event.

    event_id: HubSpot's eventId, which HubSpot does not guarantee unique.
    key: what identifies a resend of this event (portal, subscription, event id, object and
      time of the event); a retry carries the same key with a higher attempt number.
    subscription_type: as sent, e.g. "contact.propertyChange" or "object.creation".
    object_type / change: "contact" / "propertyChange"; generic "object.*" events get their
      object type from objectTypeId (0-1 contact, 0-2 company, 0-3 deal, 0-5 ticket).
    properties: the changed property as sent (propertyName -> propertyValue); empty otherwise.
    lead: for a contact's creation, property change or restore: a lead with crm = "hubspot",
      crm_id = the contact id and the mapped property; None for other events and objects.
    """

    event_id: str
    key: str
    subscription_type: str
    object_type: str
    change: str
    object_id: str
    portal_id: str | None = None
    occurred_at: datetime | None = None
    attempt_number: int | None = None
    change_source: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    lead: InboundLead | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


def parse_contact_events(
    body: bytes, *, vocabulary: Vocabulary | None = None
) -> list[InboundEvent]:
    """Read a HubSpot webhook body (a JSON array of events); InboundError(400) names the first
    problem, e.g. "event 2: missing objectId" (events are numbered from 1)."""
    try:
        document = json.loads(body)
    except RecursionError:
        raise InboundError(400, "body is not valid JSON: nested too deeply") from None
    except UnicodeDecodeError:
        raise InboundError(400, "body is not valid JSON: not UTF-8 text") from None
    except ValueError as exc:
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        raise InboundError(400, f"body is not valid JSON: {reason}") from None
    if not isinstance(document, list):
        raise InboundError(400, f"body must be a JSON array of events, got {_json_type(document)}")
    vocabulary = vocabulary or Vocabulary()
    return [_event(number, item, vocabulary) for number, item in enumerate(document, start=1)]


def _event(number: int, item: Any, vocabulary: Vocabulary) -> InboundEvent:
    where = f"event {number}"
    if not isinstance(item, dict):
        raise InboundError(400, f"{where}: expected a JSON object, got {_json_type(item)}")
    subscription = item.get("subscriptionType")
    if subscription is None:
        raise InboundError(400, f"{where}: missing subscriptionType")
    family, _, change = (subscription if isinstance(subscription, str) else "").partition(".")
    if not family or not change:
        raise InboundError(
            400,
            f"{where}: subscriptionType must be text like 'contact.creation', "
            f"got {_short(subscription)}",
        )
    object_type = family
    if family == "object":
        type_id = item.get("objectTypeId")
        if not isinstance(type_id, str) or not type_id:
            raise InboundError(400, f"{where}: an object.* event needs objectTypeId")
        object_type = _OBJECT_TYPES.get(type_id, type_id)
    event_id = _required_id(item, "eventId", where)
    id_field = "fromObjectId" if change == "associationChange" else "objectId"
    object_id = _required_id(item, id_field, where)
    portal_id = _id(item, "portalId", where)
    subscription_id = _id(item, "subscriptionId", where)
    occurred_ms = _number(item, "occurredAt", where)
    occurred_at = None
    if occurred_ms is not None:
        occurred_at = from_millis(occurred_ms)
        if occurred_at is None:
            raise InboundError(400, f"{where}: occurredAt is not a time in milliseconds")
    attempt = _number(item, "attemptNumber", where)
    change_source = item.get("changeSource")
    properties = _properties(item, where)
    key = ":".join(
        [
            "hubspot",
            portal_id or "",
            subscription_id or "",
            event_id,
            object_id,
            "" if occurred_ms is None else str(occurred_ms),
        ]
    )
    lead = None
    if object_type == "contact" and change in _LEAD_CHANGES:
        lead = _lead(object_id, key, properties, occurred_at, change, vocabulary)
    return InboundEvent(
        event_id=event_id,
        key=key,
        subscription_type=subscription,
        object_type=object_type,
        change=change,
        object_id=object_id,
        portal_id=portal_id,
        occurred_at=occurred_at,
        attempt_number=attempt,
        change_source=change_source if isinstance(change_source, str) else None,
        properties=properties,
        lead=lead,
        raw=item,
    )


def _lead(
    object_id: str,
    key: str,
    properties: Mapping[str, Any],
    occurred_at: datetime | None,
    change: str,
    vocabulary: Vocabulary,
) -> InboundLead:
    mapped, problems = map_fields(properties.items(), vocabulary=vocabulary)
    fields = {"crm": "hubspot", "crm_id": object_id, **mapped}
    lead = Lead(
        id=f"hs-{object_id}",
        fields=fields,
        source="hubspot",
        channel="webhook",
        # only a creation event says when the lead arrived
        received_at=occurred_at if change == "creation" else None,
    )
    return InboundLead(
        lead=lead,
        event_id=key,
        crm="hubspot",
        crm_id=object_id,
        problems=problems,
        raw=dict(properties),
    )


def _properties(item: Mapping[str, Any], where: str) -> dict[str, Any]:
    name = item.get("propertyName")
    if name is None:
        return {}
    if not isinstance(name, str) or not name.strip():
        raise InboundError(400, f"{where}: propertyName must be non-empty text")
    value = item.get("propertyValue")
    if isinstance(value, dict | list):
        raise InboundError(
            400, f"{where}: propertyValue of {name} must be text, got {_json_type(value)}"
        )
    return {name: value}


def _required_id(item: Mapping[str, Any], name: str, where: str) -> str:
    text = _id(item, name, where)
    if text is None:
        raise InboundError(400, f"{where}: missing {name}")
    return text


def _id(item: Mapping[str, Any], name: str, where: str) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    text = str(value).strip() if isinstance(value, int | str) else ""
    if isinstance(value, bool) or not _ID.fullmatch(text):
        raise InboundError(400, f"{where}: {name} must be a whole number, got {_short(value)}")
    return text


def _number(item: Mapping[str, Any], name: str, where: str) -> int | None:
    text = _id(item, name, where)
    return None if text is None else int(text)


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return "null"


def _short(value: Any) -> str:
    if isinstance(value, dict | list):
        return _json_type(value)
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."
