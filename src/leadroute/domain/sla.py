"""Service-level agreements: how soon an assigned lead must be accepted, in business time.

    sla:
      holidays: US                     # public holidays (the `holidays` package); or per team:
                                       # {default: US, emea_ae: GB, apac_ae: AU}
      default: {accept_within: 2h, remind_at: 0.5, max_reassignments: 2, then: nurture}
      routes:
        fast_track: {accept_within: 10m}
        nurture: null                  # no SLA on this route

The clock runs only in the assigned rep's working hours (in the rep's time zone), and not on
public holidays; a rep without working hours is on the clock around the calendar. At
`remind_at` of the time the rep is reminded; when it runs out the lead is escalated to the rep's
manager and reassigned to the next eligible rep (never one who had it before); after
`max_reassignments` it goes to the `then` queue.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays as holiday_calendars
from pydantic import BaseModel, ConfigDict, Field, field_validator

from leadroute.domain.org import Rep, WorkingHours, zone

_DURATION = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(s|secs?|seconds?|m|min|minutes?|h|hours?|d|days?)\s*$", re.I
)
_UNIT_MINUTES = {"s": 1 / 60, "m": 1, "h": 60, "d": 1440}


def parse_duration(value: Any) -> float:
    """'45s', '30m', '2h', '1.5h', '1d' (a business day = 24 business hours is rarely meant:
    use hours) or a number of minutes -> minutes, to the second."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        minutes = float(value)
    else:
        match = _DURATION.match(str(value))
        if match is None:
            raise ValueError(f"'{value}' is not a duration like 45s, 30m, 2h or 1d")
        minutes = float(match.group(1)) * _UNIT_MINUTES[match.group(2)[0].lower()]
    if minutes <= 0:
        raise ValueError("a duration must be positive")
    seconds = round(minutes * 60)
    if seconds < 1:
        raise ValueError("a duration must be at least one second")
    return seconds / 60


def duration_text(minutes: float) -> str:
    """A duration in minutes as people say it: '30 minutes', '45 seconds'."""
    seconds = round(minutes * 60)
    if seconds % 60:
        return f"{seconds} seconds"
    return f"{seconds // 60} minutes"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SlaRule(_Strict):
    accept_within: float = Field(
        description="business time to accept the lead: 45s, 30m, 2h, 1d, or minutes"
    )
    remind_at: float | None = Field(
        0.5, gt=0, lt=1, description="remind the rep at this share of the time (null: never)"
    )
    escalate: bool = Field(True, description="tell the rep's manager when the time runs out")
    reassign: bool = Field(True, description="reassign the lead when the time runs out")
    max_reassignments: int = Field(2, ge=0, description="then the lead goes to `then`")
    then: str | None = Field(
        None, description="queue for a lead reassigned max_reassignments times (e.g. nurture)"
    )

    @field_validator("accept_within", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> float:
        return parse_duration(value)


class SlaModel(_Strict):
    default: SlaRule | None = Field(None, description="the SLA of every route not listed")
    routes: dict[str, SlaRule | None] = Field(
        default_factory=dict, description="route (node id) -> its SLA, or null for none"
    )
    holidays: str | dict[str, str] | None = Field(
        None,
        description="country (or country-subdivision, e.g. US-CA) whose public holidays stop "
        "the clock; or team -> country with a `default`",
    )

    @field_validator("holidays")
    @classmethod
    def _known(cls, value: str | dict[str, str] | None) -> str | dict[str, str] | None:
        for code in [value] if isinstance(value, str) else (value or {}).values():
            calendar_for(code, 2026)  # raises ValueError for an unknown country
        return value

    def rule_for(self, route: str | None) -> SlaRule | None:
        if route is not None and route in self.routes:
            return self.routes[route]
        return self.default

    def holiday_country(self, rep: Rep | None) -> str | None:
        if self.holidays is None or isinstance(self.holidays, str):
            return self.holidays
        if rep is not None:
            for team in rep.teams:
                if team in self.holidays:
                    return self.holidays[team]
        return self.holidays.get("default")


@lru_cache(maxsize=256)
def calendar_for(code: str, year: int) -> frozenset[date]:
    """Public holidays of a country ('US') or subdivision ('US-CA') in a year."""
    country, _, subdivision = code.upper().partition("-")
    try:
        calendar = holiday_calendars.country_holidays(
            country, subdiv=subdivision or None, years=year
        )
    except (NotImplementedError, KeyError) as exc:
        raise ValueError(f"no public holiday calendar for '{code}'") from exc
    return frozenset(calendar.keys())


_END_OF_DAY = time(23, 59, 59)  # a window closing at or after this runs to midnight ("24:00")
_SEARCH = timedelta(hours=15)  # more than any UTC offset: the UTC span around a local day


def _segments(
    tz: ZoneInfo, lo: datetime, hi: datetime
) -> list[tuple[datetime, datetime, timedelta]]:
    """[lo, hi) in UTC cut where `tz` changes its offset: (from, to, offset) pieces."""
    found: list[tuple[datetime, datetime, timedelta]] = []
    offset = _offset(tz, lo)
    if _offset(tz, hi) == offset and _offset(tz, lo + (hi - lo) / 2) == offset:
        return [(lo, hi, offset)]  # no transition (zones change at most twice a year)
    begin, step = lo, timedelta(hours=1)
    probe = lo
    while probe < hi:
        following = min(probe + step, hi)
        if _offset(tz, following) != offset:
            low, high = probe, following  # the change is in (low, high]: find it to the second
            while high - low > timedelta(seconds=1):
                middle = (low + (high - low) / 2).replace(microsecond=0)
                if middle <= low:
                    break
                if _offset(tz, middle) == offset:
                    low = middle
                else:
                    high = middle
            found.append((begin, high, offset))
            begin, offset = high, _offset(tz, high)
        probe = following
    found.append((begin, hi, offset))
    return found


def _offset(tz: ZoneInfo, moment: datetime) -> timedelta:
    return moment.astimezone(tz).utcoffset() or timedelta(0)


@lru_cache(maxsize=4096)  # deadlines of many leads fall on the same days
def open_spans(
    day: date, windows: tuple[tuple[time, time], ...], tz: ZoneInfo
) -> tuple[tuple[datetime, datetime], ...]:
    """The UTC instants whose wall-clock time in `tz` falls in one of `windows` on `day`, as
    [from, to) spans in order. Across a DST change a window is as long as it really is: a
    9-to-5 day is 8 real hours, a 24-hour day 23 or 25, a window opening in the hour that is
    skipped opens when the clocks have jumped, and one spanning the repeated hour has it twice."""
    midnight = datetime.combine(day, time(0), UTC)
    lo, hi = midnight - _SEARCH, midnight + timedelta(days=1) + _SEARCH
    pieces = _segments(tz, lo, hi)
    spans: list[tuple[datetime, datetime]] = []
    for open_at, close_at in windows:
        wall_open = datetime.combine(day, open_at, UTC)
        wall_close = (
            midnight + timedelta(days=1)
            if close_at >= _END_OF_DAY
            else datetime.combine(day, close_at, UTC)
        )
        for begin, end, offset in pieces:
            first = max(begin, wall_open - offset)
            last = min(end, wall_close - offset)
            if first < last:
                spans.append((first, last))
    return tuple(sorted(spans))


def business_deadline(
    start: datetime,
    minutes: float,
    *,
    timezone: str,
    hours: WorkingHours | None,
    is_holiday: Callable[[date], bool] = lambda _: False,
) -> datetime:
    """The moment `minutes` of business time after `start`: time counts only while the wall
    clock in `timezone` is inside a working window of a day that is not a holiday, and is
    counted in real (UTC) time, so DST changes neither add nor take away business time. Without
    working hours, or with none in a week, calendar time counts."""
    if hours is None or not any(hours.windows.get(day) for day in range(7)):
        return start + timedelta(minutes=minutes)
    tz = zone(timezone)
    moment = start.astimezone(UTC)
    remaining = timedelta(minutes=minutes)
    day = start.astimezone(tz).date()
    closed = 0  # days in a row without working time
    while closed < 400:  # a year and more of holidays: give up on business time
        windows = hours.windows.get(day.weekday(), ())
        closed += 1
        if windows and not is_holiday(day):
            for begin, end in open_spans(day, windows, tz):
                begin = max(begin, moment)
                if begin >= end:
                    continue
                closed = 0
                if end - begin >= remaining:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= end - begin
        day += timedelta(days=1)
    return start + timedelta(minutes=minutes)  # pragma: no cover - every day a holiday


@dataclass(frozen=True, slots=True)
class Deadlines:
    due_at: datetime
    remind_at: datetime | None


def deadlines(
    rule: SlaRule, rep: Rep | None, start: datetime, *, holidays: str | None
) -> Deadlines:
    """When the rep is reminded and when the SLA is breached, in the rep's business time."""
    timezone = rep.timezone if rep is not None else "UTC"
    hours = rep.working_hours if rep is not None else None

    def is_holiday(day: date) -> bool:
        return holidays is not None and day in calendar_for(holidays, day.year)

    due = business_deadline(
        start, rule.accept_within, timezone=timezone, hours=hours, is_holiday=is_holiday
    )
    remind = None
    if rule.remind_at is not None:
        remind = business_deadline(
            start,
            max(1, round(rule.accept_within * rule.remind_at * 60)) / 60,  # to the second
            timezone=timezone,
            hours=hours,
            is_holiday=is_holiday,
        )
    return Deadlines(due, remind)


def sla_problems(
    model: SlaModel, routes: Mapping[str, Any], queues: Mapping[str, Any]
) -> list[tuple[tuple[str, ...], str]]:
    """Routes that do not exist, fallback queues not declared: (where, message)."""
    problems: list[tuple[tuple[str, ...], str]] = []
    for route in model.routes:
        if route not in routes:
            problems.append((("routes", route), f"unknown route '{route}'"))
    rules: list[tuple[tuple[str, ...], SlaRule | None]] = [(("default",), model.default)] + [
        (("routes", r), rule) for r, rule in model.routes.items()
    ]
    for where, rule in rules:
        if rule is not None and rule.then is not None and rule.then not in queues:
            problems.append(((*where, "then"), f"undeclared queue '{rule.then}'"))
    return problems
