"""Notifications and CRM write-back as outbox messages: the config, the planner, the backoff.

    notifications:
      channels:
        sales_slack: {slack: {webhook_url_env: SLACK_WEBHOOK_URL}}
        rep_email: {email: {host: smtp.example.com, from: routing@example.com, to: [rep],
                            username_env: SMTP_USER, password_env: SMTP_PASSWORD}}
        manager_email: {email: {host: smtp.example.com, from: routing@example.com,
                                to: [manager]}}
        ops_hook: {webhook: {url: "https://ops.example.com/leadroute", secret_env: HOOK_SECRET}}
      send:
        assigned: [sales_slack, rep_email, ops_hook]
        reminder: [rep_email]
        escalated: [manager_email, sales_slack]
      retry: {max_attempts: 8, base_seconds: 30, max_seconds: 3600}
    crm:
      salesforce: {instance_url: "https://acme.my.salesforce.com", token_env: SF_TOKEN,
                   owners: {r1: 005000000000001AAA}, status_values: {assigned: Working}}
      hubspot: {token_env: HUBSPOT_TOKEN, owners: {r1: "123"},
                status_values: {assigned: IN_PROGRESS}}

Pure: `plan` turns one lifecycle event of a lead into the messages to queue (a Slack Block Kit
message, an email, a signed webhook, a CRM update per channel); the application stores them in
the outbox in the transaction that records the event, and a worker delivers them. Secrets are
named by environment variable and read only when a message is sent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from leadroute.domain.brief import Brief
from leadroute.domain.notify_render import Context, email_payload, slack_payload
from leadroute.domain.org import Org, Rep, RepStatus

# -- the vocabulary: events, channels, recipients --------------------------------------------------

Event = Literal[
    "assigned", "reassigned", "reminder", "escalated", "queued", "recycled", "held", "unrouted"
]
EVENTS: Mapping[str, str] = {
    "assigned": "a rep was given the lead",
    "reassigned": "the lead was taken from one rep and given to another",
    "reminder": "the rep has not accepted the lead yet and part of the SLA time is gone",
    "escalated": "the SLA ran out: the rep's manager is told",
    "queued": "the lead went to a queue (nurture, self-serve ...)",
    "recycled": "the lead went to the SLA's queue after too many reassignments",
    "held": "the lead is held (data missing, waiting for enrichment ...)",
    "unrouted": "no route took the lead",
}

# Lifecycle event kinds (services.lifecycle, the worker) -> the notification event they are.
# Kinds not listed (accepted, rejected, sla_missed ...) notify nobody.
LIFECYCLE_EVENTS: Mapping[str, str] = {
    "assigned": "assigned",
    "reassigned": "reassigned",
    "reminded": "reminder",
    "reminder": "reminder",
    "escalated": "escalated",
    "queued": "queued",
    "recycled": "recycled",
    "held": "held",
    "unrouted": "unrouted",
}


def notify_event(kind: str) -> str | None:
    """The notification event of a lifecycle event kind, or None if it notifies nobody."""
    return LIFECYCLE_EVENTS.get(kind)


CHANNEL_KINDS = ("slack", "email", "webhook")
CRM_KINDS = ("salesforce", "hubspot")
OWNER_EVENTS = frozenset({"assigned", "reassigned"})  # events that give the lead a rep
QUEUE_EVENTS = frozenset({"queued", "recycled"})  # events that put the lead in a queue

SIGNATURE_HEADER = "X-Leadroute-Signature"
TIMESTAMP_HEADER = "X-Leadroute-Timestamp"
DELIVERY_HEADER = "X-Leadroute-Delivery"
EVENT_HEADER = "X-Leadroute-Event"

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.:-]+$", min_length=1, max_length=80)]
EnvName = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=120,
        description="name of an environment variable (the secret itself never goes in the file)",
    ),
]
_V = TypeVar("_V")
_ADDRESS = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _http_url(value: str) -> str:
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError("must start with https:// (or http:// for a local test server)")
    return value.rstrip("/")


# -- channels --------------------------------------------------------------------------------------


class SlackChannel(_Strict):
    """A Slack incoming webhook; messages are Block Kit JSON."""

    webhook_url_env: EnvName = Field(
        description="environment variable holding the incoming-webhook URL "
        "(https://hooks.slack.com/services/...)"
    )
    timeout_seconds: float = Field(10, gt=0, le=120, description="HTTP timeout per attempt")


class EmailChannel(_Strict):
    """Email over SMTP: a plain-text and an HTML part."""

    host: str = Field(min_length=1, description="SMTP server host name")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS)")
    sender: str = Field(alias="from", description="From address, e.g. routing@example.com")
    to: list[str] = Field(
        min_length=1,
        description="recipients: `rep` (the lead's rep), `manager` (that rep's manager) or "
        "literal addresses",
    )
    starttls: bool = Field(True, description="upgrade the connection with STARTTLS")
    ssl: bool = Field(False, description="connect over TLS from the start (port 465)")
    username_env: EnvName | None = Field(None, description="environment variable: SMTP user")
    password_env: EnvName | None = Field(None, description="environment variable: SMTP password")
    timeout_seconds: float = Field(15, gt=0, le=120, description="SMTP timeout per attempt")

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        if not _ADDRESS.match(value):
            raise ValueError(f"'{value}' is not an email address")
        return value

    @field_validator("to")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        for item in value:
            if item not in ("rep", "manager") and not _ADDRESS.match(item):
                raise ValueError(f"'{item}' is neither rep, manager nor an email address")
        return value

    @model_validator(mode="after")
    def _transport(self) -> EmailChannel:
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (TLS from the start) or starttls, not both")
        if (self.username_env is None) != (self.password_env is None):
            raise ValueError("username_env and password_env go together")
        return self


class WebhookChannel(_Strict):
    """A JSON POST signed with HMAC-SHA256 (see docs/notifications.md to verify it)."""

    url: str = Field(description="where to POST")
    secret_env: EnvName = Field(description="environment variable holding the signing secret")
    timeout_seconds: float = Field(10, gt=0, le=120, description="HTTP timeout per attempt")

    _url = field_validator("url")(_http_url)


class ChannelModel(_Strict):
    """One destination: exactly one of slack, email or webhook."""

    slack: SlackChannel | None = Field(None, description="a Slack incoming webhook")
    email: EmailChannel | None = Field(None, description="email over SMTP")
    webhook: WebhookChannel | None = Field(None, description="a signed JSON webhook")

    @model_validator(mode="after")
    def _one(self) -> ChannelModel:
        given = [kind for kind in CHANNEL_KINDS if getattr(self, kind) is not None]
        if len(given) != 1:
            raise ValueError("a channel is exactly one of slack, email or webhook")
        return self

    @property
    def kind(self) -> str:
        return next(kind for kind in CHANNEL_KINDS if getattr(self, kind) is not None)

    @property
    def settings(self) -> SlackChannel | EmailChannel | WebhookChannel:
        value = getattr(self, self.kind)
        assert isinstance(value, SlackChannel | EmailChannel | WebhookChannel)
        return value


class RetryModel(_Strict):
    """How often and how long a failing message is retried before it is dead."""

    max_attempts: int = Field(8, ge=1, le=100, description="tries before a message is dead")
    base_seconds: float = Field(30, gt=0, description="wait after the first failed try")
    max_seconds: float = Field(3600, gt=0, description="the wait never grows beyond this")
    jitter: float = Field(
        0, ge=0, le=1, description="shorten each wait by up to this share at random (0: exact)"
    )

    @model_validator(mode="after")
    def _order(self) -> RetryModel:
        if self.max_seconds < self.base_seconds:
            raise ValueError("max_seconds must be at least base_seconds")
        return self


def _problems(model: str, problems: list[InitErrorDetails]) -> None:
    if problems:
        raise ValidationError.from_exception_data(model, problems)


def _problem(loc: tuple[str | int, ...], message: str, value: Any) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("notifications", message), loc=loc, input=value
    )


class NotificationsModel(_Strict):
    """The `notifications:` section: channels, which events go to which, and retries."""

    channels: dict[Name, ChannelModel] = Field(
        default_factory=dict, description="channel name -> slack, email or webhook"
    )
    send: dict[Event, list[Name]] = Field(
        default_factory=dict, description="event -> the channels it is sent to"
    )
    retry: RetryModel = Field(default_factory=RetryModel, description="retries and dead letter")

    @model_validator(mode="after")
    def _references(self) -> NotificationsModel:
        problems: list[InitErrorDetails] = []
        known = ", ".join(sorted(self.channels)) or "none"
        for event, names in self.send.items():
            seen: set[str] = set()
            for index, name in enumerate(names):
                if name in seen:
                    message = f"{name} is listed twice"
                    problems.append(_problem(("send", event, index), message, name))
                elif name not in self.channels:
                    message = f"unknown channel {name} (channels: {known})"
                    problems.append(_problem(("send", event, index), message, name))
                seen.add(name)
        _problems("NotificationsModel", problems)
        return self


# -- CRM -------------------------------------------------------------------------------------------

_SF_ID = r"[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?"


class SalesforceModel(_Strict):
    """Salesforce: the Lead's OwnerId and Status, by REST sObject update (PATCH)."""

    instance_url: str = Field(description="https://<your domain>.my.salesforce.com")
    token_env: EnvName = Field(description="environment variable holding an OAuth access token")
    api_version: str = Field("v60.0", pattern=r"^v\d+\.\d$", description="REST API version")
    owners: dict[Name, str] = Field(
        default_factory=dict, description="rep id -> Salesforce user id (005...)"
    )
    queues: dict[Name, str] = Field(
        default_factory=dict,
        description="leadroute queue -> Salesforce queue id (00G...), the owner of a queued lead",
    )
    status_values: dict[Event, str] = Field(
        default_factory=dict, description="event -> the Lead Status picklist value to set"
    )
    timeout_seconds: float = Field(15, gt=0, le=120, description="HTTP timeout per attempt")

    _url = field_validator("instance_url")(_http_url)

    @field_validator("owners")
    @classmethod
    def _users(cls, value: dict[str, str]) -> dict[str, str]:
        for rep, user in value.items():
            if not re.fullmatch("005" + _SF_ID, user):
                raise ValueError(f"{rep}: '{user}' is not a Salesforce user id (005...)")
        return value

    @field_validator("queues")
    @classmethod
    def _queues(cls, value: dict[str, str]) -> dict[str, str]:
        for queue, group in value.items():
            if not re.fullmatch("00G" + _SF_ID, group):
                raise ValueError(f"{queue}: '{group}' is not a Salesforce queue id (00G...)")
        return value


class HubspotModel(_Strict):
    """HubSpot: the contact's hubspot_owner_id and hs_lead_status (CRM v3 objects update)."""

    base_url: str = Field("https://api.hubapi.com", description="HubSpot API base URL")
    token_env: EnvName = Field(description="environment variable holding a private-app token")
    owners: dict[Name, str] = Field(
        default_factory=dict, description="rep id -> HubSpot owner id (digits)"
    )
    status_values: dict[Event, str] = Field(
        default_factory=dict, description="event -> the hs_lead_status value to set"
    )
    timeout_seconds: float = Field(15, gt=0, le=120, description="HTTP timeout per attempt")

    _url = field_validator("base_url")(_http_url)

    @field_validator("owners", mode="before")
    @classmethod
    def _owners(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            value = {k: str(v) if isinstance(v, int) else v for k, v in value.items()}
            for rep, owner in value.items():
                if not (isinstance(owner, str) and owner.isdigit()):
                    raise ValueError(f"{rep}: '{owner}' is not a HubSpot owner id (digits)")
        return value


class CrmModel(_Strict):
    """The `crm:` section: where owner and status changes are written back."""

    salesforce: SalesforceModel | None = Field(None, description="Salesforce Lead write-back")
    hubspot: HubspotModel | None = Field(None, description="HubSpot contact write-back")
    retry: RetryModel | None = Field(
        None, description="retries of CRM updates (default: notifications.retry, else defaults)"
    )


def retry_for(
    channel: str, notifications: NotificationsModel | None, crm: CrmModel | None
) -> RetryModel:
    """The retry policy of a message's channel kind."""
    if channel in CRM_KINDS and crm is not None and crm.retry is not None:
        return crm.retry
    return notifications.retry if notifications is not None else RetryModel()


def notify_problems(
    notifications: NotificationsModel | None, crm: CrmModel | None, org: Org
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """What the org makes of the sections: (where, message, severity "error" or "warning")."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    active = [r for r in org.reps.values() if r.status is not RepStatus.INACTIVE]
    if notifications is not None:
        for name, channel in notifications.channels.items():
            if channel.email is None:
                continue
            where: tuple[str | int, ...] = ("notifications", "channels", name, "email", "to")
            if "rep" in channel.email.to:
                missing = sorted(r.id for r in active if not r.email)
                if missing:
                    found.append((where, f"reps without an email: {', '.join(missing)}", "warning"))
            if "manager" in channel.email.to:
                missing = sorted(r.id for r in active if manager_of(r, org) is None)
                if missing:
                    text = f"reps without a manager with an email: {', '.join(missing)}"
                    found.append((where, text, "warning"))
    if crm is not None:
        for kind in CRM_KINDS:
            model: SalesforceModel | HubspotModel | None = getattr(crm, kind)
            if model is None:
                continue
            for rep in model.owners:
                if rep not in org.reps:
                    found.append((("crm", kind, "owners", rep), f"unknown rep {rep}", "error"))
            unmapped = sorted(r.id for r in active if r.id not in model.owners)
            if unmapped:
                text = f"reps whose owner is not written back: {', '.join(unmapped)}"
                found.append((("crm", kind, "owners"), text, "warning"))
    return found


def manager_of(rep: Rep, org: Org) -> Rep | None:
    """The rep's manager (theirs, else their first team's) if that manager has an email."""
    candidates = [rep.manager_id] + [org.teams[t].manager_id for t in rep.teams if t in org.teams]
    for manager_id in candidates:
        manager = org.reps.get(manager_id) if manager_id else None
        if manager is not None and manager.id != rep.id and manager.email:
            return manager
    return None


# -- messages, delivery errors, senders -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One message to deliver. `key` is unique: the same event for the same decision and the
    same target is never queued twice."""

    channel: str  # slack, email, webhook, salesforce, hubspot
    target: str  # the configured channel's name, or the CRM
    event: str  # lead.assigned, lead.reminder ...
    lead_id: str | None
    payload: Mapping[str, Any]
    key: str


class DeliveryError(Exception):
    """A send failed. `retryable`: try again later (timeout, 429, 5xx); else the message is
    dead at once (bad request, unknown record, missing secret). `retry_after`: the receiver's
    hint, in seconds."""

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class Sender(Protocol):
    """Delivers messages of one configured target."""

    def send(self, message: OutboxMessage, *, env: Mapping[str, str]) -> None: ...

    def close(self) -> None: ...


def next_attempt(
    attempts: int, retry: RetryModel, *, rng: random.Random | None = None
) -> timedelta:
    """The wait after `attempts` failed tries: base * 2^(attempts - 1), at most max_seconds;
    with jitter (and an `rng`) shortened by up to jitter * the wait."""
    exponent = min(max(attempts, 1) - 1, 60)
    seconds = min(retry.base_seconds * 2.0**exponent, retry.max_seconds)
    if retry.jitter and rng is not None:
        seconds *= 1 - retry.jitter * rng.random()
    return timedelta(seconds=seconds)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The webhook signature header value: sha256=<hex HMAC-SHA256 of "timestamp.body">."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    now: float,
    tolerance_seconds: float = 300,
) -> bool:
    """A receiver's check: the signature matches and the timestamp is recent (no replays)."""
    try:
        sent = float(timestamp)
    except ValueError:
        return False
    if abs(now - sent) > tolerance_seconds:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), header)


def message_key(
    event: str, channel: str, target: str, record: Mapping[str, Any], occurrence: str | None
) -> str:
    """Unique per (event, channel, target, decision, occurrence); at most 200 characters."""
    parts = [
        event,
        channel,
        target,
        record.get("lead_id"),
        record.get("decided_at"),
        record.get("rep"),
        record.get("queue"),
        occurrence,
    ]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:40]
    return f"{event}:{channel}:{target}:{digest}"


def jsonable(value: Any) -> Any:
    """`value` with only JSON types: dates as ISO text, tuples and sets as lists."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


# -- the planner -----------------------------------------------------------------------------------


def plan(
    event: str,
    record: Mapping[str, Any],
    brief: Brief,
    org: Org,
    notifications: NotificationsModel | None,
    crm: CrmModel | None,
    *,
    lead_fields: Mapping[str, Any],
    source: str | None = None,
    previous_rep: str | None = None,
    occurrence: str | None = None,
) -> list[OutboxMessage]:
    """The messages one event of a lead sets off: a message per channel the event is sent to
    (Slack Block Kit, email, signed webhook) and the CRM update of the CRM the lead came from.

    `record` is the lead's current decision record; `source` the system the lead came from;
    `previous_rep` the rep a reassigned lead was taken from; `occurrence` tells apart repeats
    of one event for one decision (a second reminder).
    """
    if event not in EVENTS:
        raise ValueError(f"unknown event '{event}' (events: {', '.join(EVENTS)})")
    messages: list[OutboxMessage] = []
    lead_id = str(record.get("lead_id") or brief.lead_id)
    name = f"lead.{event}"
    targets = _lookup(notifications.send, event) if notifications is not None else None
    if notifications is not None and targets:
        context = Context.build(
            event, record, brief, org, lead_fields, source=source, previous_rep=previous_rep
        )
        for target in targets:
            channel = notifications.channels[target]
            payload: dict[str, Any]
            if channel.email is not None:
                recipients = recipients_of(channel.email, record.get("rep"), org)
                if not recipients:
                    continue
                payload = email_payload(context, recipients)
            elif channel.slack is not None:
                payload = slack_payload(context)
            else:
                payload = webhook_payload(
                    name, record, brief, lead_fields, source=source, previous_rep=previous_rep
                )
            key = message_key(event, channel.kind, target, record, occurrence)
            if channel.webhook is not None:
                payload = {"id": key, **payload}
            messages.append(OutboxMessage(channel.kind, target, name, lead_id, payload, key))
    if crm is not None:
        update = crm_update(event, record, crm, lead_fields=lead_fields, source=source)
        if update is not None:
            kind, payload = update
            key = message_key(event, kind, kind, record, occurrence)
            messages.append(OutboxMessage(kind, kind, name, lead_id, payload, key))
    return messages


def recipients_of(email: EmailChannel, rep_id: Any, org: Org) -> list[str]:
    """The channel's addresses: `rep` and `manager` resolved for the lead's rep (dropped when
    there is none), literal addresses as given; each once, in order."""
    rep = org.reps.get(rep_id) if isinstance(rep_id, str) else None
    found: list[str] = []
    for item in email.to:
        if item == "rep":
            address = rep.email if rep is not None else None
        elif item == "manager":
            manager = manager_of(rep, org) if rep is not None else None
            address = manager.email if manager is not None else None
        else:
            address = item
        if address and address not in found:
            found.append(address)
    return found


def webhook_payload(
    event: str,
    record: Mapping[str, Any],
    brief: Brief,
    lead_fields: Mapping[str, Any],
    *,
    source: str | None,
    previous_rep: str | None,
) -> dict[str, Any]:
    """The JSON body of a webhook: the event, the lead, its decision record and its brief."""
    body: dict[str, Any] = {
        "event": event,
        "lead": {"id": brief.lead_id, "source": source, "fields": dict(lead_fields)},
        "decision": dict(record),
        "brief": brief.as_record(),
    }
    if previous_rep is not None:
        body["previous_rep"] = previous_rep
    result: dict[str, Any] = jsonable(body)
    return result


def crm_of(lead_fields: Mapping[str, Any], source: str | None) -> str | None:
    """The CRM a lead came from: its `crm` field, else its source, if either names one."""
    for value in (lead_fields.get("crm"), source):
        if isinstance(value, str) and value.strip().lower() in CRM_KINDS:
            return value.strip().lower()
    return None


def crm_update(
    event: str,
    record: Mapping[str, Any],
    crm: CrmModel,
    *,
    lead_fields: Mapping[str, Any],
    source: str | None,
) -> tuple[str, dict[str, Any]] | None:
    """(CRM, payload) of the owner and status to write back, or None when there is nothing:
    the lead did not come from a configured CRM, has no `crm_id`, or the event changes
    neither owner nor status. An owner that cannot be mapped is left out and named under
    `skipped`; the status still goes."""
    kind = crm_of(lead_fields, source)
    crm_id = lead_fields.get("crm_id")
    if kind is None or crm_id in (None, ""):
        return None
    rep, queue = record.get("rep"), record.get("queue")
    skipped: list[str] = []
    if kind == "salesforce" and crm.salesforce is not None:
        sf = crm.salesforce
        fields: dict[str, str] = {}
        if event in OWNER_EVENTS and isinstance(rep, str):
            if rep in sf.owners:
                fields["OwnerId"] = sf.owners[rep]
            else:
                skipped.append(f"OwnerId: rep {rep} has no user id in crm.salesforce.owners")
        elif event in QUEUE_EVENTS and isinstance(queue, str) and queue in sf.queues:
            fields["OwnerId"] = sf.queues[queue]
        status = _lookup(sf.status_values, event)
        if status is not None:
            fields["Status"] = status
        payload: dict[str, Any] = {"object": "Lead", "id": str(crm_id), "fields": fields}
    elif kind == "hubspot" and crm.hubspot is not None:
        hs = crm.hubspot
        fields = {}
        if event in OWNER_EVENTS and isinstance(rep, str):
            if rep in hs.owners:
                fields["hubspot_owner_id"] = hs.owners[rep]
            else:
                skipped.append(f"hubspot_owner_id: rep {rep} has no id in crm.hubspot.owners")
        status = _lookup(hs.status_values, event)
        if status is not None:
            fields["hs_lead_status"] = status
        payload = {"object": "contacts", "id": str(crm_id), "properties": fields}
    else:
        return None
    if not fields:
        return None
    if skipped:
        payload["skipped"] = skipped
    return kind, payload


def _lookup(mapping: Mapping[Any, _V], key: str) -> _V | None:
    """mapping[key] for a mapping keyed by `Event` values, asked with a plain string."""
    return mapping.get(key)
