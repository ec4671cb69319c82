"""The sales organisation: reps, teams, territories, segments and accounts.

Plain, immutable data. Loading (YAML/CSV) and storage live at the edges.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo


@lru_cache(maxsize=512)
def zone(name: str) -> ZoneInfo:
    """A time zone by IANA name, cached."""
    return ZoneInfo(name)


class Role(StrEnum):
    SDR = "SDR"
    AE = "AE"
    CSM = "CSM"
    MANAGER = "manager"


class RepStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    INACTIVE = "inactive"


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True, slots=True)
class WorkingHours:
    """Weekly working windows in the rep's own time zone: weekday index (Mon=0) -> windows."""

    windows: Mapping[int, tuple[tuple[time, time], ...]]
    _minutes: tuple[tuple[tuple[int, int], ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def minute(t: time) -> int:
            return t.hour * 60 + t.minute + (1 if t >= time(23, 59, 59) else 0)

        table = tuple(
            tuple((minute(s), minute(e)) for s, e in self.windows.get(day, ())) for day in range(7)
        )
        object.__setattr__(self, "_minutes", table)

    def is_open(self, local: datetime) -> bool:
        current = local.hour * 60 + local.minute
        for start, end in self._minutes[local.weekday()]:
            if start <= current < end:
                return True
        return False

    @classmethod
    def weekdays(cls, start: time, end: time) -> WorkingHours:
        return cls({day: ((start, end),) for day in range(5)})

    def describe(self) -> str:
        parts = []
        for day in range(7):
            spans = self.windows.get(day, ())
            if spans:
                text = ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in spans)
                parts.append(f"{WEEKDAYS[day]} {text}")
        return "; ".join(parts) or "never"


@dataclass(frozen=True, slots=True)
class Absence:
    """An out-of-office period, [start, end) as aware datetimes."""

    start: datetime
    end: datetime
    reason: str = "out of office"

    def covers(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


@dataclass(frozen=True, slots=True)
class Caps:
    """Maximum leads a rep takes per day, week and month, counted in the rep's time zone."""

    day: int | None = None
    week: int | None = None
    month: int | None = None

    @property
    def limited(self) -> bool:
        return self.day is not None or self.week is not None or self.month is not None

    def items(self) -> list[tuple[str, int]]:
        return [
            (k, v)
            for k, v in (("day", self.day), ("week", self.week), ("month", self.month))
            if v is not None
        ]


@dataclass(frozen=True, slots=True)
class Rep:
    id: str
    name: str
    email: str = ""
    role: Role = Role.AE
    teams: tuple[str, ...] = ()
    timezone: str = "UTC"
    working_hours: WorkingHours | None = None
    out_of_office: tuple[Absence, ...] = ()
    status: RepStatus = RepStatus.ACTIVE
    weight: float = 1.0
    caps: Caps = field(default_factory=Caps)
    booking_link: str | None = None
    manager_id: str | None = None

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.timezone)

    def local(self, moment: datetime) -> datetime:
        """`moment` on the rep's wall clock (to the minute)."""
        return local_minute(self.timezone, moment)

    def absence_at(self, moment: datetime) -> Absence | None:
        for absence in self.out_of_office:
            if absence.covers(moment):
                return absence
        return None


@dataclass(frozen=True, slots=True)
class Team:
    id: str
    name: str
    members: tuple[str, ...] = ()
    manager_id: str | None = None


@dataclass(frozen=True, slots=True)
class PostalRange:
    """Postal codes of one country: a prefix ("94") or an inclusive range ("94000"-"94999")."""

    country: str | None
    prefix: str | None = None
    low: str | None = None
    high: str | None = None

    def contains(self, country: str | None, postal: str) -> bool:
        if self.country is not None and country != self.country:
            return False
        if self.prefix is not None:
            return postal.startswith(self.prefix)
        assert self.low is not None and self.high is not None
        head = postal[: len(self.low)]
        return len(head) == len(self.low) and self.low <= head <= self.high


@dataclass(frozen=True, slots=True)
class Territory:
    """A territory matches a lead by country, ISO 3166-2 subdivision or postal code."""

    id: str
    name: str
    countries: frozenset[str] = frozenset()
    subdivisions: frozenset[str] = frozenset()
    postal: tuple[PostalRange, ...] = ()

    def contains(self, country: str | None, state: str | None, postal: str | None) -> bool:
        """Codes in the territory are upper case; the lead's may be in any case."""
        country = country.upper() if isinstance(country, str) else None
        state = state.upper() if isinstance(state, str) else None
        if country and country in self.countries:
            return True
        if state and self.subdivisions:
            code = state if "-" in state or not country else f"{country}-{state}"
            if code in self.subdivisions:
                return True
        if postal and self.postal and isinstance(postal, str):
            compact = postal.replace(" ", "").upper()
            return any(r.contains(country, compact) for r in self.postal)
        return False


@dataclass(frozen=True, slots=True)
class Segment:
    """A company-size band on one numeric field: low <= value < high (open ends allowed)."""

    id: str
    name: str
    field: str = "employees"
    low: float | None = None
    high: float | None = None

    def contains(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.low is not None and value < self.low:
            return False
        return not (self.high is not None and value >= self.high)


class AccountStatus(StrEnum):
    PROSPECT = "prospect"
    CUSTOMER = "customer"


@dataclass(frozen=True, slots=True)
class Account:
    id: str
    name: str
    domain: str | None = None
    parent_id: str | None = None
    owner_id: str | None = None
    status: AccountStatus = AccountStatus.PROSPECT
    opportunity_stage: str | None = None
    named: bool = False
    industry: str | None = None
    employees: int | None = None

    def as_fields(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "domain": self.domain,
            "parent_id": self.parent_id,
            "owner": self.owner_id,
            "status": str(self.status),
            "opportunity_stage": self.opportunity_stage,
            "named": self.named,
            "industry": self.industry,
            "employees": self.employees,
        }


@dataclass(frozen=True)
class Org:
    """Everything routing needs to know about the organisation, indexed for lookup."""

    reps: Mapping[str, Rep] = field(default_factory=dict)
    teams: Mapping[str, Team] = field(default_factory=dict)
    territories: Mapping[str, Territory] = field(default_factory=dict)
    segments: Mapping[str, Segment] = field(default_factory=dict)
    accounts: Mapping[str, Account] = field(default_factory=dict)

    @cached_property
    def accounts_by_domain(self) -> dict[str, Account]:
        return {a.domain.lower(): a for a in self.accounts.values() if a.domain}

    def team_members(self, team_id: str) -> tuple[str, ...]:
        team = self.teams.get(team_id)
        members = list(team.members) if team else []
        # Reps who name the team themselves follow, in id order, so the tie-break order is the
        # same whether the org comes from a file or from the store.
        members += sorted(
            r.id for r in self.reps.values() if team_id in r.teams and r.id not in members
        )
        return tuple(members)

    def with_rep(self, rep: Rep) -> Org:
        reps = dict(self.reps)
        reps[rep.id] = rep
        return Org(reps, self.teams, self.territories, self.segments, self.accounts)

    def segment_of(self, values: Mapping[str, Any]) -> str | None:
        for segment in self.segments.values():
            if segment.contains(values.get(segment.field)):
                return segment.id
        return None


def build_org(
    *,
    reps: Iterable[Rep] = (),
    teams: Iterable[Team] = (),
    territories: Iterable[Territory] = (),
    segments: Iterable[Segment] = (),
    accounts: Iterable[Account] = (),
) -> Org:
    return Org(
        reps={r.id: r for r in reps},
        teams={t.id: t for t in teams},
        territories={t.id: t for t in territories},
        segments={s.id: s for s in segments},
        accounts={a.id: a for a in accounts},
    )


@lru_cache(maxsize=8192)
def local_at_minute(tz: str, minute: datetime) -> datetime:
    """A whole-minute moment in time zone `tz` (cached: routing asks this very often)."""
    return minute.astimezone(zone(tz))


def local_minute(tz: str, moment: datetime) -> datetime:
    """`moment` in time zone `tz`, to the minute."""
    return local_at_minute(tz, moment.replace(second=0, microsecond=0))


@lru_cache(maxsize=8192)
def periods_of_minute(tz: str, minute: datetime) -> Mapping[str, str]:
    """Period keys of a whole-minute moment in `tz` (cached; do not mutate)."""
    return local_periods(local_at_minute(tz, minute))


def periods_at(tz: str, moment: datetime) -> Mapping[str, str]:
    """Day, week and month keys of `moment` in time zone `tz` (cached; do not mutate)."""
    return periods_of_minute(tz, moment.replace(second=0, microsecond=0))


def local_periods(local: datetime) -> dict[str, str]:
    """Period keys (day, ISO week, month) of a local datetime, used for caps and windows."""
    day: date = local.date()
    year, week, _ = day.isocalendar()
    return {"day": day.isoformat(), "week": f"{year}-W{week:02d}", "month": f"{day:%Y-%m}"}
