"""Intent: engagement points that decay, per-type caps, account intent and surges.

    scoring:
      intent:
        half_life_days: 14             # a point from two weeks ago counts half
        types:                         # merged over the defaults below
          pricing_page: {points: 12, cap: 36}
          demo_request: {points: 60}
        tiers: {high: 30}              # lowest score of each tier; below the last: low
        surge: {window_days: 3, baseline_days: 30, ratio: 10, min_visits: 10}
        reroute: {held: true, queues: [nurture]}

A lead's intent is the sum over activity types of its decayed points, each type capped, so a
hundred page views never outweigh a demo request. An account's intent is the sum of its people's
intent plus its anonymous activity (visits known only by company domain). An account surges
when its visits in the last `window_days` reach `ratio` times its daily visits over the
`baseline_days` before that window (and at least `min_visits`): a hot account.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class ActivityType(StrEnum):
    PAGE_VIEW = "page_view"
    PRICING_PAGE = "pricing_page"
    CONTENT_DOWNLOAD = "content_download"
    WEBINAR_ATTENDED = "webinar_attended"
    DEMO_REQUEST = "demo_request"
    FREE_TRIAL = "free_trial"
    EMAIL_CLICK = "email_click"


# Points per activity, and the most one type may add up to (None: no cap).
DEFAULT_POINTS: Mapping[str, tuple[float, float | None]] = {
    ActivityType.PAGE_VIEW: (1.0, 15.0),
    ActivityType.PRICING_PAGE: (10.0, 30.0),
    ActivityType.CONTENT_DOWNLOAD: (8.0, 24.0),
    ActivityType.WEBINAR_ATTENDED: (15.0, 30.0),
    ActivityType.DEMO_REQUEST: (50.0, None),
    ActivityType.FREE_TRIAL: (40.0, None),
    ActivityType.EMAIL_CLICK: (3.0, 12.0),
}

# What counts as a visit of the company's web site, for surges.
VISIT_TYPES = (ActivityType.PAGE_VIEW.value, ActivityType.PRICING_PAGE.value)

TYPE_LABELS: Mapping[str, str] = {
    "page_view": "page view",
    "pricing_page": "pricing page view",
    "content_download": "content download",
    "webinar_attended": "webinar attended",
    "demo_request": "demo request",
    "free_trial": "free-trial signup",
    "email_click": "email click",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActivityTypeModel(_Strict):
    points: float = Field(description="points per activity of this type, before decay")
    cap: float | None = Field(None, gt=0, description="most points this type may add up to")
    half_life_days: float | None = Field(
        None, gt=0, description="this type's half-life, if not the intent's"
    )


class SurgeModel(_Strict):
    window_days: int = Field(3, ge=1, description="recent window whose visits are counted")
    baseline_days: int = Field(30, ge=1, description="days before the window that set the norm")
    ratio: float = Field(10.0, gt=0, description="window visits >= ratio x baseline daily visits")
    min_visits: int = Field(10, ge=1, description="fewest window visits that can be a surge")


class RerouteModel(_Strict):
    held: bool = Field(True, description="re-route held leads whose intent crosses a tier")
    queues: list[str] = Field(
        default_factory=list,
        description="queues whose leads are parked (nurture, self-serve): re-routed when their "
        "intent crosses a tier or their account starts surging",
    )


class IntentModel(_Strict):
    half_life_days: float = Field(14.0, gt=0, description="days after which a point counts half")
    lookback_days: int = Field(90, ge=1, description="older activity is not counted")
    types: dict[str, ActivityTypeModel] = Field(
        default_factory=dict, description="points, caps and half-lives per activity type"
    )
    pricing_paths: list[str] = Field(
        default_factory=lambda: ["/pricing", "/plans"],
        description="a page view whose URL path starts with one of these is a pricing page view",
    )
    tiers: dict[str, float] = Field(
        default_factory=lambda: {"high": 30.0},
        description="tier -> lowest score of the tier; a score below every tier is 'low'",
    )
    surge: SurgeModel = Field(default_factory=SurgeModel)
    surge_is_high: bool = Field(
        True, description="a lead of a surging account is in the highest intent tier"
    )
    reroute: RerouteModel = Field(default_factory=RerouteModel)

    @field_validator("types")
    @classmethod
    def _identifiers(cls, types: dict[str, ActivityTypeModel]) -> dict[str, ActivityTypeModel]:
        for name in types:
            if not name.replace("_", "").isalnum() or not name.islower():
                raise ValueError(f"activity type '{name}' must be lower_snake_case")
        return types

    @model_validator(mode="after")
    def _tiers(self) -> IntentModel:
        if len(set(self.tiers.values())) != len(self.tiers):
            raise ValueError("two intent tiers have the same lowest score")
        if "low" in self.tiers:
            raise ValueError("'low' is the tier below every other; do not declare it")
        return self


class ActivityError(ValueError):
    """An event that cannot be recorded, and why."""


@dataclass(frozen=True, slots=True)
class Activity:
    """One engagement event, tied to a person (email or lead id) or only to a company."""

    type: str
    occurred_at: datetime
    email: str | None = None
    lead_id: str | None = None
    account_id: str | None = None
    domain: str | None = None
    url: str | None = None
    product: str | None = None
    source: str | None = None
    key: str | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": self.type, "at": self.occurred_at.isoformat()}
        for name in ("url", "product", "source"):
            value = getattr(self, name)
            if value:
                record[name] = value
        return record


@dataclass(frozen=True, slots=True)
class TypeScore:
    type: str
    count: int
    points: float  # after decay and cap
    capped: bool

    def as_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": self.type, "count": self.count, "points": self.points}
        if self.capped:
            record["capped"] = True
        return record

    @property
    def reason(self) -> str:
        label = TYPE_LABELS.get(self.type, self.type.replace("_", " "))
        plural = "s" if self.count != 1 else ""
        capped = ", capped" if self.capped else ""
        return f"{self.count} {label}{plural}: {_fmt(self.points)} pts{capped}"


@dataclass(frozen=True, slots=True)
class IntentScore:
    score: float
    tier: str
    by_type: tuple[TypeScore, ...] = ()
    last_at: datetime | None = None
    product: str | None = None  # the product the lead engaged with most

    def as_record(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "tier": self.tier,
            "reasons": [t.reason for t in self.by_type],
            "by_type": [t.as_record() for t in self.by_type],
            "last_activity_at": self.last_at.isoformat() if self.last_at else None,
            "product": self.product,
        }


@dataclass(frozen=True, slots=True)
class AccountIntent:
    score: float
    surging: bool
    window_visits: int
    baseline_daily: float
    people: int

    def as_record(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "surging": self.surging,
            "window_visits": self.window_visits,
            "baseline_daily_visits": round(self.baseline_daily, 2),
            "people": self.people,
            "reason": self.reason,
        }

    @property
    def reason(self) -> str:
        visits = f"{self.window_visits} visits in the surge window"
        baseline = f"{self.baseline_daily:.2f}/day before"
        state = "surging" if self.surging else "not surging"
        people = f"intent {_fmt(self.score)} from {self.people} people"
        return f"{state}: {visits} vs {baseline}; {people}"


NO_INTENT = IntentScore(0, "low")


class IntentScorer:
    """Compiled intent settings: scores a person's activities and an account's."""

    def __init__(self, model: IntentModel) -> None:
        self.model = model
        types: dict[str, tuple[float, float | None, float]] = {}
        for name, (points, cap) in DEFAULT_POINTS.items():
            types[str(name)] = (points, cap, model.half_life_days)
        for name, spec in model.types.items():
            types[name] = (spec.points, spec.cap, spec.half_life_days or model.half_life_days)
        #: type -> (points, cap, half-life in days)
        self.types: Mapping[str, tuple[float, float | None, float]] = types
        self._tiers = tuple(sorted(model.tiers.items(), key=lambda kv: -kv[1]))
        # type -> (points, decay rate per second): points x exp(-rate x age) halves each half-life
        self._decay = {
            name: (points, math.log(2) / (half_life * 86400.0))
            for name, (points, _, half_life) in types.items()
        }

    @property
    def tier_names(self) -> tuple[str, ...]:
        """Every tier, highest first, ending with 'low'."""
        return (*(name for name, _ in self._tiers), "low")

    def since(self, now: datetime) -> datetime:
        """The oldest activity that still counts."""
        window = self.model.surge.window_days + self.model.surge.baseline_days
        return now - timedelta(days=max(self.model.lookback_days, window))

    def classify(self, type_: str, url: str | None) -> str:
        """A page view of a pricing page is a pricing page view."""
        if type_ == ActivityType.PAGE_VIEW and url:
            path = urlsplit(url if "//" in url or url.startswith("/") else f"//{url}").path
            path = path.lower() or "/"
            if any(path.startswith(p.lower()) for p in self.model.pricing_paths):
                return ActivityType.PRICING_PAGE.value
        return type_

    def tier(self, score: float, *, surging: bool = False) -> str:
        tiers = self._tiers
        if surging and self.model.surge_is_high and tiers:
            return tiers[0][0]
        for name, lowest in tiers:
            if score >= lowest:
                return name
        return "low"

    def score(
        self,
        activities: Iterable[Activity],
        now: datetime,
        *,
        surging: bool = False,
    ) -> IntentScore:
        """A person's intent: per type, decayed points summed then capped."""
        lookback = self.model.lookback_days * 86400.0
        decay = self._decay
        sums: dict[str, float] = {}
        counts: dict[str, int] = {}
        products: dict[str, float] = {}
        last: datetime | None = None
        for activity in activities:
            spec = decay.get(activity.type)
            if spec is None:
                continue
            age = (now - activity.occurred_at).total_seconds()
            if age > lookback:
                continue
            name = activity.type
            value = spec[0] * math.exp(-age * spec[1]) if age > 0 else spec[0]
            sums[name] = sums.get(name, 0.0) + value
            counts[name] = counts.get(name, 0) + 1
            if activity.product:
                products[activity.product] = products.get(activity.product, 0.0) + value
            if last is None or activity.occurred_at > last:
                last = activity.occurred_at
        if not sums:
            return IntentScore(0, self.tier(0, surging=surging))
        by_type = []
        total = 0.0
        for name, value in sums.items():
            cap = self.types[name][1]
            capped = cap is not None and value > cap
            points = _round(min(value, cap) if cap is not None else value)
            total += points
            by_type.append(TypeScore(name, counts[name], points, capped))
        by_type.sort(key=lambda t: (-t.points, t.type))
        score = _round(total)
        product = max(products.items(), key=lambda kv: (kv[1], kv[0]))[0] if products else None
        return IntentScore(score, self.tier(score, surging=surging), tuple(by_type), last, product)

    def account(self, activities: Iterable[Activity], now: datetime) -> AccountIntent:
        """An account's intent (its people's, summed, plus anonymous visits) and surge."""
        surge = self.model.surge
        window_start = now - timedelta(days=surge.window_days)
        baseline_start = window_start - timedelta(days=surge.baseline_days)
        people: dict[str, list[Activity]] = defaultdict(list)
        window = baseline = 0
        for activity in activities:
            people[activity.email or activity.lead_id or ""].append(activity)
            if activity.type in VISIT_TYPES and activity.occurred_at <= now:
                if activity.occurred_at > window_start:
                    window += 1
                elif activity.occurred_at > baseline_start:
                    baseline += 1
        score = _round(sum(self.score(acts, now).score for acts in people.values()))
        daily = baseline / surge.baseline_days
        surging = window >= surge.min_visits and window >= surge.ratio * daily
        named = sum(1 for person in people if person)
        return AccountIntent(score, surging, window, daily, named)


def _round(value: float) -> float:
    rounded = round(value, 1)
    return int(rounded) if float(rounded).is_integer() else rounded


def _fmt(value: float) -> str:
    return f"{value:g}"
