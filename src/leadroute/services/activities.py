"""Engagement activities in: parse and check each event, tie it to its person and account,
store it once, then wake the parked leads whose intent it moves across a threshold.

Every event received ends as stored, a duplicate (its event id was seen before) or rejected
with its reason, and the three add up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from leadroute.adapters import registry
from leadroute.adapters.store.activity_store import LeadRef
from leadroute.domain.decision import Decision
from leadroute.domain.intent import (
    DEFAULT_POINTS,
    Activity,
    ActivityError,
    IntentModel,
    IntentScorer,
)
from leadroute.domain.matching import FREE_MAIL, domain_of, match_account
from leadroute.domain.org import Org
from leadroute.ports import ActivityLog, Clock
from leadroute.services.routing import RoutingService, utc_now

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_FUTURE_SKEW = timedelta(minutes=5)
_CHUNK = 1000

# Names senders use for the built-in activity types.
TYPE_ALIASES: Mapping[str, str] = {
    "pageview": "page_view",
    "page_visit": "page_view",
    "visit": "page_view",
    "web_visit": "page_view",
    "pricing": "pricing_page",
    "pricing_view": "pricing_page",
    "download": "content_download",
    "content": "content_download",
    "form_download": "content_download",
    "webinar": "webinar_attended",
    "webinar_attendance": "webinar_attended",
    "demo": "demo_request",
    "demo_requested": "demo_request",
    "trial": "free_trial",
    "trial_signup": "free_trial",
    "free_trial_signup": "free_trial",
    "signup": "free_trial",
    "click": "email_click",
    "email_clicked": "email_click",
}

# Column and key names accepted for each activity attribute (first found wins).
KEYS: Mapping[str, tuple[str, ...]] = {
    "type": ("type", "activity_type", "event", "event_type", "activity"),
    "occurred_at": ("occurred_at", "timestamp", "time", "at", "date", "created_at"),
    "email": ("email", "email_address", "contact_email"),
    "lead_id": ("lead_id", "lead"),
    "account_id": ("account_id", "account"),
    "domain": ("domain", "company_domain", "website"),
    "url": ("url", "page_url", "page"),
    "product": ("product", "product_line", "content_product"),
    "source": ("source", "system"),
    "key": ("id", "event_id", "key", "activity_id"),
}


@dataclass
class ActivitySummary:
    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: list[tuple[int | None, str]] = field(default_factory=list)
    rerouted: list[Decision] = field(default_factory=list)
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def adds_up(self) -> bool:
        return self.received == self.stored + self.duplicates + len(self.rejected)

    def as_record(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicates": self.duplicates,
            "rejected": [{"row": r, "reason": why} for r, why in self.rejected],
            "by_type": self.by_type,
            "rerouted": [d.as_record() for d in self.rerouted],
        }


def _first(raw: Mapping[str, Any], name: str) -> Any:
    for key in KEYS[name]:
        value = raw.get(key)
        if value is not None and value != "":
            return value.strip() if isinstance(value, str) else value
    return None


def _timestamp(value: Any, now: datetime) -> datetime:
    if value is None:
        raise ActivityError("no time: give occurred_at (ISO 8601) or a Unix timestamp")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        number = float(value)
        moment = datetime.fromtimestamp(number / 1000 if number > 1e11 else number, UTC)
    else:
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            raise ActivityError(f"time '{value}' is not ISO 8601 or a Unix timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if moment > now + _FUTURE_SKEW:
        raise ActivityError(f"time {moment.isoformat()} is in the future")
    return moment


def activity_type(value: Any, known: Iterable[str]) -> str:
    if value is None:
        raise ActivityError("no activity type")
    name = re.sub(r"[\s\-]+", "_", str(value).strip().lower())
    name = TYPE_ALIASES.get(name, name)
    known = set(known)
    if name not in known:
        raise ActivityError(f"unknown activity type '{value}' (known: {', '.join(sorted(known))})")
    return name


def parse_activity(
    raw: Mapping[str, Any],
    *,
    now: datetime,
    known_types: Iterable[str],
    source: str | None = None,
) -> Activity:
    """One event from a file row or an API body; raises ActivityError with the reason."""
    type_ = activity_type(_first(raw, "type"), known_types)
    occurred_at = _timestamp(_first(raw, "occurred_at"), now)
    email = _first(raw, "email")
    if email is not None:
        email = str(email).lower()
        if not _EMAIL.match(email):
            raise ActivityError(f"invalid email '{email}'")
    lead_id = _first(raw, "lead_id")
    account_id = _first(raw, "account_id")
    domain = domain_of(_first(raw, "domain"))
    if email and domain is None:
        mail_domain = domain_of(email)
        domain = mail_domain if mail_domain not in FREE_MAIL else None
    if not (email or lead_id or account_id or domain):
        raise ActivityError("no one to tie it to: give email, lead_id, account_id or domain")
    known_keys = {k for names in KEYS.values() for k in names}
    properties = {k: v for k, v in raw.items() if k not in known_keys and v not in (None, "")}
    key = _first(raw, "key")
    return Activity(
        type=type_,
        occurred_at=occurred_at,
        email=email,
        lead_id=str(lead_id) if lead_id is not None else None,
        account_id=str(account_id) if account_id is not None else None,
        domain=domain,
        url=_first(raw, "url"),
        product=_first(raw, "product"),
        source=_first(raw, "source") or source,
        key=str(key) if key is not None else None,
        properties=properties,
    )


class ActivityService:
    """Records activities and re-routes the parked leads they wake up."""

    def __init__(
        self,
        routing: RoutingService,
        *,
        clock: Clock = utc_now,
        activities: ActivityLog | None = None,
    ) -> None:
        """`activities` is where activities are kept (default: the routing store's,
        `adapters.registry.activity_log`)."""
        self.routing = routing
        self.store = activities if activities is not None else registry.activity_log(routing.store)
        self.clock = clock

    def _intent(self) -> IntentScorer | None:
        """The active config's intent settings (None: no active config, or no intent)."""
        if self.routing.store.config() is None:
            return None
        return self.routing.router.config.intent

    def record(
        self,
        events: Iterable[tuple[int | None, Mapping[str, Any] | ActivityError]],
        *,
        source: str | None = None,
        reroute: bool = True,
        progress: Callable[[int], None] | None = None,
    ) -> ActivitySummary:
        """Record (row number, event) pairs; then re-route the parked leads they move.

        An event may be an ActivityError already (a file row that could not be read): it is
        counted as rejected with its reason."""
        intent = self._intent()
        scorer = intent or IntentScorer(IntentModel())
        known = set(scorer.types) | {str(t) for t in DEFAULT_POINTS}
        org = self.routing.router.org if intent is not None else self.routing.store.load_org()
        summary = ActivitySummary()
        touched: dict[str, set[str]] = {"emails": set(), "lead_ids": set(), "account_ids": set()}
        chunk: list[tuple[int | None, Mapping[str, Any] | ActivityError]] = []

        def flush() -> None:
            now = self.clock()
            parsed: list[Activity] = []
            for row, raw in chunk:
                if isinstance(raw, ActivityError):
                    summary.rejected.append((row, str(raw)))
                    continue
                try:
                    parsed.append(parse_activity(raw, now=now, known_types=known, source=source))
                except ActivityError as exc:
                    where = f"row {row}: " if row is not None else ""
                    summary.rejected.append((row, f"{where}{exc}"))
            resolved = self._resolve(parsed, org, scorer)
            for activity, stored in zip(
                resolved, self.store.add(resolved, received_at=now), strict=True
            ):
                if not stored:
                    summary.duplicates += 1
                    continue
                summary.stored += 1
                summary.by_type[activity.type] = summary.by_type.get(activity.type, 0) + 1
                if activity.email:
                    touched["emails"].add(activity.email)
                if activity.lead_id:
                    touched["lead_ids"].add(activity.lead_id)
                if activity.account_id:
                    touched["account_ids"].add(activity.account_id)
            summary.received += len(chunk)
            if progress is not None:
                progress(len(chunk))
            chunk.clear()

        for item in events:
            chunk.append(item)
            if len(chunk) >= _CHUNK:
                flush()
        if chunk:
            flush()
        if reroute and intent is not None and summary.stored:
            summary.rerouted = self.routing.reassess(
                emails=sorted(touched["emails"]),
                lead_ids=sorted(touched["lead_ids"]),
                account_ids=sorted(touched["account_ids"]),
            )
        return summary

    def _resolve(self, parsed: list[Activity], org: Org, scorer: IntentScorer) -> list[Activity]:
        """Fill each event's email and account from its lead, or its account from its domain;
        a page view of a pricing page becomes a pricing page view."""
        leads: dict[str, LeadRef] = self.store.leads([a.lead_id for a in parsed if a.lead_id])
        resolved = []
        for activity in parsed:
            email, account_id = activity.email, activity.account_id
            ref = leads.get(activity.lead_id or "")
            if ref is not None:
                email = email or ref.email
                account_id = account_id or ref.account_id
            if account_id is not None and account_id not in org.accounts:
                account_id = None
            if account_id is None:
                account = match_account({"domain": activity.domain, "email": email}, org)
                account_id = account.id if account is not None else None
            resolved.append(
                replace(
                    activity,
                    type=scorer.classify(activity.type, activity.url),
                    email=email,
                    account_id=account_id,
                )
            )
        return resolved
