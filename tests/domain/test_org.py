"""The org model: working hours, absences, caps, territories, segments, teams, local periods."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from leadroute.domain.org import (
    Absence,
    Account,
    Caps,
    PostalRange,
    Segment,
    Team,
    Territory,
    WorkingHours,
    build_org,
    local_periods,
    periods_at,
    zone,
)
from tests.factories import NOW, OFFICE_HOURS, make_rep


def test_working_hours_are_half_open_windows() -> None:
    hours = OFFICE_HOURS
    tuesday = datetime(2026, 11, 24)
    assert not hours.is_open(tuesday.replace(hour=8, minute=59))
    assert hours.is_open(tuesday.replace(hour=9))
    assert hours.is_open(tuesday.replace(hour=16, minute=59))
    assert not hours.is_open(tuesday.replace(hour=17))
    assert not hours.is_open(datetime(2026, 11, 28, 12))  # Saturday


def test_working_hours_to_midnight_include_the_last_minute() -> None:
    hours = WorkingHours({0: ((time(22), time(23, 59, 59, 999999)),)})
    assert hours.is_open(datetime(2026, 11, 23, 23, 59))
    assert not hours.is_open(datetime(2026, 11, 24, 0, 0))


def test_working_hours_with_several_windows_a_day() -> None:
    hours = WorkingHours({2: ((time(9), time(12)), (time(13), time(17)))})
    wednesday = datetime(2026, 11, 25)
    assert hours.is_open(wednesday.replace(hour=11))
    assert not hours.is_open(wednesday.replace(hour=12, minute=30))
    assert hours.is_open(wednesday.replace(hour=13))


def test_working_hours_describe() -> None:
    assert OFFICE_HOURS.describe() == "; ".join(
        f"{d} 09:00-17:00" for d in ("mon", "tue", "wed", "thu", "fri")
    )
    assert WorkingHours({}).describe() == "never"


def test_rep_local_time_is_in_its_own_zone() -> None:
    rep = make_rep(timezone="America/New_York")
    local = rep.local(NOW)
    assert (local.hour, local.minute) == (10, 0)
    assert local.utcoffset() == timedelta(hours=-5)


def test_rep_local_time_follows_daylight_saving() -> None:
    rep = make_rep(timezone="Europe/Berlin")
    assert rep.local(datetime(2026, 7, 1, 12, tzinfo=UTC)).hour == 14
    assert rep.local(datetime(2026, 12, 1, 12, tzinfo=UTC)).hour == 13


def test_absence_is_half_open() -> None:
    start = datetime(2026, 11, 23, tzinfo=UTC)
    absence = Absence(start, start + timedelta(days=2), "holiday")
    rep = make_rep(out_of_office=(absence,))
    assert rep.absence_at(start) == absence
    assert rep.absence_at(start + timedelta(days=2) - timedelta(microseconds=1)) == absence
    assert rep.absence_at(start + timedelta(days=2)) is None
    assert rep.absence_at(start - timedelta(seconds=1)) is None


def test_caps_items_lists_only_set_limits() -> None:
    assert Caps().items() == []
    assert Caps(day=5, month=80).items() == [("day", 5), ("month", 80)]


def test_postal_range_prefix_and_range() -> None:
    prefix = PostalRange("US", prefix="94")
    assert prefix.contains("US", "94105")
    assert not prefix.contains("CA", "94105")
    assert not prefix.contains("US", "95105")
    span = PostalRange(None, low="10000", high="14999")
    assert span.contains("DE", "12345")
    assert span.contains(None, "14999")
    assert not span.contains("DE", "15000")
    assert not span.contains("DE", "999")


def test_territory_uk_postcodes_ignore_spaces_and_case() -> None:
    london = Territory("london", "London", postal=(PostalRange("GB", prefix="EC1"),))
    assert london.contains("GB", None, "ec1a 1bb")
    assert london.contains("gb", None, "EC1A1BB")
    assert not london.contains("GB", None, "SW1A 1AA")


def test_territory_ignores_values_that_are_not_text() -> None:
    territory = Territory(
        "t", "T", frozenset({"US"}), frozenset({"US-CA"}), (PostalRange("US", prefix="9"),)
    )
    assert not territory.contains(None, None, None)
    assert not territory.contains(["US"], 5, 94105)  # type: ignore[arg-type]


def test_segment_bounds_are_low_inclusive_high_exclusive() -> None:
    segment = Segment("mid", "Mid", low=100, high=1000)
    assert segment.contains(100)
    assert segment.contains(999.9)
    assert not segment.contains(1000)
    assert not segment.contains(99)
    assert not segment.contains(None)
    assert not segment.contains("500")
    assert not segment.contains(True)


def test_segment_of_uses_the_segment_field() -> None:
    org = build_org(
        segments=[
            Segment("rich", "Rich", field="annual_revenue", low=1e6),
            Segment("big", "Big", low=500),
        ]
    )
    assert org.segment_of({"annual_revenue": 2e6, "employees": 10}) == "rich"
    assert org.segment_of({"annual_revenue": 10, "employees": 600}) == "big"
    assert org.segment_of({}) is None


def test_team_members_combine_the_team_list_and_rep_teams_in_order() -> None:
    org = build_org(
        reps=[make_rep("r1", teams=("a",)), make_rep("r2"), make_rep("r3", teams=("a",))],
        teams=[Team("a", "A", members=("r2", "r3"))],
    )
    assert org.team_members("a") == ("r2", "r3", "r1")
    assert org.team_members("nobody") == ()


def test_accounts_by_domain_is_case_insensitive() -> None:
    org = build_org(accounts=[Account("a1", "Acme", "Acme.COM"), Account("a2", "No domain")])
    assert org.accounts_by_domain == {"acme.com": org.accounts["a1"]}


def test_with_rep_replaces_one_rep() -> None:
    org = build_org(reps=[make_rep("r1"), make_rep("r2")])
    changed = org.with_rep(make_rep("r1", name="Renamed"))
    assert changed.reps["r1"].name == "Renamed"
    assert org.reps["r1"].name == "Rep r1"
    assert list(changed.reps) == ["r1", "r2"]


@pytest.mark.parametrize(
    ("moment", "tz", "expected"),
    [
        (
            datetime(2026, 11, 24, 15, tzinfo=UTC),
            "UTC",
            {"day": "2026-11-24", "week": "2026-W48", "month": "2026-11"},
        ),
        # 01:30 UTC on Dec 1 is still Nov 30 in New York: the day, week and month are local.
        (
            datetime(2026, 12, 1, 1, 30, tzinfo=UTC),
            "America/New_York",
            {"day": "2026-11-30", "week": "2026-W49", "month": "2026-11"},
        ),
        # Sunday night UTC is Monday morning in Tokyo: a new ISO week there.
        (
            datetime(2026, 11, 29, 20, tzinfo=UTC),
            "Asia/Tokyo",
            {"day": "2026-11-30", "week": "2026-W49", "month": "2026-11"},
        ),
        # ISO weeks cross years.
        (
            datetime(2027, 1, 1, 12, tzinfo=UTC),
            "UTC",
            {"day": "2027-01-01", "week": "2026-W53", "month": "2027-01"},
        ),
    ],
)
def test_periods_are_local_to_the_zone(moment: datetime, tz: str, expected: dict[str, str]) -> None:
    assert dict(periods_at(tz, moment)) == expected
    assert local_periods(moment.astimezone(zone(tz))) == expected


def test_periods_at_the_same_instant_agree_whatever_its_offset() -> None:
    instant = datetime(2026, 11, 30, 4, 59, 59, tzinfo=UTC)
    shifted = instant.astimezone(zone("Asia/Kolkata"))
    assert periods_at("America/New_York", instant) == periods_at("America/New_York", shifted)
    assert periods_at("America/New_York", instant)["day"] == "2026-11-29"
    assert periods_at("America/New_York", instant + timedelta(seconds=1))["day"] == "2026-11-30"
