from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from leadroute.domain.org import Rep, WorkingHours
from leadroute.domain.sla import (
    SlaModel,
    SlaRule,
    business_deadline,
    calendar_for,
    deadlines,
    parse_duration,
    sla_problems,
)

NINE_TO_FIVE = WorkingHours.weekdays(time(9), time(17))


def _rep(tz: str = "America/New_York", hours: WorkingHours | None = NINE_TO_FIVE) -> Rep:
    return Rep(id="ann", name="Ann", timezone=tz, working_hours=hours, teams=("na_ae",))


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("30m", 30),
        ("2h", 120),
        ("1.5 hours", 90),
        ("1d", 1440),
        (45, 45),
        ("45s", 0.75),
        ("90 seconds", 1.5),
        ("0.25m", 0.25),  # 15 seconds, not rounded to no time at all
    ],
)
def test_durations(text: object, minutes: float) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["soon", "0m", "-5m", "3 weeks", "0.2s"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_clock_stops_outside_working_hours() -> None:
    # Tuesday 16:30 in New York + 2 business hours -> Wednesday 10:30 New York.
    start = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)
    due = business_deadline(start, 120, timezone="America/New_York", hours=NINE_TO_FIVE)
    assert due == datetime(2026, 11, 25, 15, 30, tzinfo=UTC)


def test_a_lead_arriving_at_night_starts_at_opening() -> None:
    start = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # 22:00 Monday in New York
    due = business_deadline(start, 30, timezone="America/New_York", hours=NINE_TO_FIVE)
    assert due == datetime(2026, 11, 24, 14, 30, tzinfo=UTC)  # 09:30 Tuesday


def test_weekends_and_public_holidays_are_skipped() -> None:
    assert datetime(2026, 11, 26).date() in calendar_for("US", 2026)  # Thanksgiving
    rule = SlaRule(accept_within="4h", remind_at=0.5)
    start = datetime(2026, 11, 25, 20, 0, tzinfo=UTC)  # Wednesday 15:00 New York
    result = deadlines(rule, _rep(), start, holidays="US")
    # 2h left on Wednesday; Thursday is Thanksgiving; Friday 09:00 + 2h.
    assert result.due_at == datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    assert result.remind_at == datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
    no_holidays = deadlines(rule, _rep(), start, holidays=None)
    assert no_holidays.due_at == datetime(2026, 11, 26, 16, 0, tzinfo=UTC)


def test_without_working_hours_calendar_time_counts() -> None:
    start = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a Saturday
    result = deadlines(SlaRule(accept_within="1h"), _rep(hours=None), start, holidays="US")
    assert result.due_at == start + timedelta(hours=1)


def test_an_sla_in_seconds_reminds_and_runs_out_to_the_second() -> None:
    start = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # Tuesday 10:00 New York, in hours
    result = deadlines(SlaRule(accept_within="45s", remind_at=0.5), _rep(), start, holidays=None)
    assert result.due_at == start + timedelta(seconds=45)
    assert result.remind_at == start + timedelta(seconds=22)  # half of 45 s, to the second


def test_rules_per_route_and_holidays_per_team() -> None:
    model = SlaModel.model_validate(
        {
            "default": {"accept_within": "2h"},
            "routes": {"fast": {"accept_within": "10m"}, "nurture": None},
            "holidays": {"default": "US", "emea_ae": "GB"},
        }
    )
    assert model.rule_for("fast").accept_within == 10  # type: ignore[union-attr]
    assert model.rule_for("nurture") is None
    assert model.rule_for("other").accept_within == 120  # type: ignore[union-attr]
    emea = Rep(id="e", name="E", teams=("emea_ae",))
    assert model.holiday_country(emea) == "GB"
    assert model.holiday_country(_rep()) == "US"


def test_config_errors() -> None:
    with pytest.raises(ValidationError, match="no public holiday calendar for 'XX'"):
        SlaModel.model_validate({"holidays": "XX"})
    with pytest.raises(ValidationError, match="not a duration"):
        SlaRule.model_validate({"accept_within": "soon"})
    model = SlaModel.model_validate(
        {"default": {"accept_within": 30, "then": "parking"}, "routes": {"ghost": None}}
    )
    assert sla_problems(model, {"real": 1}, {"nurture": 1}) == [
        (("routes", "ghost"), "unknown route 'ghost'"),
        (("default", "then"), "undeclared queue 'parking'"),
    ]


starts = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)


@given(starts, st.integers(min_value=1, max_value=5000))
def test_deadline_properties(start: datetime, minutes: int) -> None:
    due = business_deadline(start, minutes, timezone="Europe/Berlin", hours=NINE_TO_FIVE)
    # never sooner than calendar time; business time inside the span adds up to `minutes`
    assert due >= start + timedelta(minutes=minutes) - timedelta(seconds=1)
    local = due.astimezone(_rep("Europe/Berlin").zone)
    assert local.weekday() < 5 and time(9) <= local.time() <= time(17)
    longer = business_deadline(start, minutes + 1, timezone="Europe/Berlin", hours=NINE_TO_FIVE)
    assert longer > due


# -- business time across DST changes, checked against a minute-by-minute walk ------------------

ALL_DAY = WorkingHours({day: ((time(0), time(23, 59, 59, 999999)),) for day in range(7)})
ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # DST of 30 minutes
    "America/Santiago",  # changes at midnight
    "Asia/Kolkata",  # +05:30, no DST
    "UTC",
)
# Days around 2026's DST changes in those zones, and an ordinary week.
AROUND = (
    datetime(2026, 3, 7),
    datetime(2026, 3, 28),
    datetime(2026, 4, 4),
    datetime(2026, 9, 5),
    datetime(2026, 10, 3),
    datetime(2026, 10, 24),
    datetime(2026, 10, 31),
    datetime(2026, 6, 15),
)


def _walk(
    start: datetime, minutes: int, tz: str, hours: WorkingHours, holidays: frozenset[object]
) -> datetime:
    """The oracle: count the real minutes whose wall-clock time in `tz` is in a working window
    of a day that is not a holiday, one by one."""
    moment, counted = start.astimezone(UTC), 0  # real minutes: steps in UTC
    step = timedelta(minutes=1)
    while True:
        local = moment.astimezone(ZoneInfo(tz))
        if local.date() not in holidays and hours.is_open(local):
            counted += 1
            if counted == minutes:
                return moment + step
        moment += step


@st.composite
def _working_hours(draw: st.DrawFn) -> WorkingHours:
    windows = {}
    for day in range(7):
        marks = sorted(draw(st.sets(st.integers(0, 24 * 60), min_size=0, max_size=4)))
        spans = []
        for first, last in zip(marks[::2], marks[1::2], strict=False):
            begin = time(first // 60, first % 60)
            end = time(23, 59, 59, 999999) if last == 24 * 60 else time(last // 60, last % 60)
            spans.append((begin, end))
        if spans:
            windows[day] = tuple(spans)
    open_minutes = sum(
        (e.hour * 60 + e.minute + (1 if e >= time(23, 59, 59) else 0)) - (b.hour * 60 + b.minute)
        for spans in windows.values()
        for b, e in spans
    )
    if open_minutes < 600:  # keep the oracle's walk short: a few weeks at most
        for day in range(7):
            windows.setdefault(day, ((time(9), time(17)),))
    return WorkingHours(windows)


@given(
    tz=st.sampled_from(ZONES),
    around=st.sampled_from(AROUND),
    offset=st.integers(0, 4 * 24 * 60),
    minutes=st.integers(1, 1500),
    hours=_working_hours(),
    holiday_days=st.sets(st.integers(0, 6), max_size=2),
)
@settings(max_examples=150, deadline=None)
def test_business_time_matches_a_minute_walk_across_dst(
    tz: str,
    around: datetime,
    offset: int,
    minutes: int,
    hours: WorkingHours,
    holiday_days: set[int],
) -> None:
    start = (around.replace(tzinfo=UTC) + timedelta(minutes=offset)).astimezone(ZoneInfo(tz))
    holidays = frozenset((around + timedelta(days=d)).date() for d in holiday_days)
    due = business_deadline(
        start, minutes, timezone=tz, hours=hours, is_holiday=lambda day: day in holidays
    )
    # (in UTC: Python never finds an ambiguous wall time equal to a time of another zone)
    assert due.astimezone(UTC) == _walk(start, minutes, tz, hours, holidays)


def test_a_24_hour_day_with_the_clocks_going_forward_is_23_real_hours() -> None:
    """From 2026-03-08 00:00 in New York, 180 business minutes of a rep working round the clock
    end 3 real hours later: 04:00 EDT (the clocks skip 02:00-03:00), not 05:00."""
    start = datetime(2026, 3, 8, 0, 0, tzinfo=ZoneInfo("America/New_York"))
    due = business_deadline(start, 180, timezone="America/New_York", hours=ALL_DAY)
    assert due - start.astimezone(UTC) == timedelta(hours=3)
    assert due.astimezone(ZoneInfo("America/New_York")).hour == 4
    nine_to_five = business_deadline(
        datetime(2026, 3, 6, 16, 0, tzinfo=ZoneInfo("America/New_York")),
        120,
        timezone="America/New_York",
        hours=NINE_TO_FIVE,
    )  # Friday 16:00 EST + 2 business hours: Monday 10:00 EDT
    assert nine_to_five == datetime(2026, 3, 9, 10, 0, tzinfo=ZoneInfo("America/New_York"))
