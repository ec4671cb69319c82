"""Org files: YAML and CSV in, the same shape out, and errors that name the file and line."""

from __future__ import annotations

import textwrap
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest

from leadroute.adapters.orgfile import (
    OrgFileError,
    format_working_hours,
    load_org,
    org_from_doc,
    org_to_doc,
    parse_working_hours,
    rep_from_doc,
)
from leadroute.domain.org import (
    Absence,
    Account,
    AccountStatus,
    Caps,
    PostalRange,
    RepStatus,
    Role,
    Segment,
    Team,
    Territory,
    WorkingHours,
    build_org,
    zone,
)
from tests.factories import make_rep

ORG_YAML = """\
reps:
  - id: ada
    name: Ada Lovelace
    email: ada@example.com
    role: SDR
    teams: [emea]
    timezone: Europe/London
    working_hours: mon-fri 09:00-17:30
    out_of_office:
      - {start: 2026-12-24, end: 2026-12-26, reason: holidays}
    weight: 2
    caps: {day: 10, week: 40}
    booking_link: https://cal.example.com/ada
    manager: grace
  - id: grace
    name: Grace Hopper
    role: manager
    timezone: America/New_York
    status: paused
teams:
  - {id: emea, name: EMEA, members: [ada], manager: grace}
territories:
  - id: west
    name: US West
    countries: [ca]
    subdivisions: [us-wa]
    postal: ["US:97", "US:98000-98999", ":EC1"]
segments:
  - {id: smb, max: 100}
  - {id: ent, name: Enterprise, min: 100, field: employees}
accounts:
  - {id: a1, name: Acme, domain: ACME.com, owner: ada, status: customer, named: true,
     employees: 5000, industry: Software}
  - {id: a2, name: Acme Sub, parent: a1, opportunity_stage: Discovery}
"""


def write(tmp_path: Path, text: str, name: str = "org.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load_error(tmp_path: Path, text: str) -> str:
    with pytest.raises(OrgFileError) as info:
        load_org(write(tmp_path, text))
    return str(info.value)


# --- loading -------------------------------------------------------------------------------


def test_load_org(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, ORG_YAML))
    ada = org.reps["ada"]
    assert (ada.name, ada.email, ada.role, ada.teams) == (
        "Ada Lovelace",
        "ada@example.com",
        Role.SDR,
        ("emea",),
    )
    assert ada.timezone == "Europe/London"
    assert ada.working_hours == WorkingHours.weekdays(time(9), time(17, 30))
    assert (ada.weight, ada.caps, ada.manager_id) == (2.0, Caps(day=10, week=40), "grace")
    assert ada.booking_link == "https://cal.example.com/ada"
    assert org.reps["grace"].status is RepStatus.PAUSED
    assert org.reps["grace"].working_hours is None
    assert org.teams["emea"] == Team("emea", "EMEA", ("ada",), "grace")
    west = org.territories["west"]
    assert west.countries == frozenset({"CA"})
    assert west.subdivisions == frozenset({"US-WA"})
    assert west.postal == (
        PostalRange("US", prefix="97"),
        PostalRange("US", low="98000", high="98999"),
        PostalRange(None, prefix="EC1"),
    )
    assert org.segments["smb"] == Segment("smb", "smb", "employees", None, 100)
    assert org.segments["ent"] == Segment("ent", "Enterprise", "employees", 100, None)
    acme = org.accounts["a1"]
    assert (acme.domain, acme.owner_id, acme.status, acme.named) == (
        "acme.com",
        "ada",
        AccountStatus.CUSTOMER,
        True,
    )
    assert org.accounts["a2"].parent_id == "a1"
    assert org.accounts_by_domain["acme.com"] is acme


def test_an_empty_org_file(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError, match=r"org.yaml:1: an org file must be a mapping"):
        load_org(write(tmp_path, ""))
    org = load_org(write(tmp_path, "reps: []\n"))
    assert dict(org.reps) == {}


def test_out_of_office_dates_are_whole_days_in_the_reps_zone(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, ORG_YAML))
    (absence,) = org.reps["ada"].out_of_office
    london = zone("Europe/London")
    assert absence.start == datetime(2026, 12, 24, tzinfo=london)
    assert absence.end == datetime(2026, 12, 27, tzinfo=london)  # the 26th is included
    assert absence.reason == "holidays"


@pytest.mark.parametrize(
    "dates",
    [
        {"start": date(2026, 12, 24), "end": date(2026, 12, 26)},  # YAML dates
        {"start": "2026-12-24", "end": "2026-12-26"},  # quoted in YAML, or from JSON
        {"start": " 2026-12-24", "end": "2026-12-26 "},
    ],
)
def test_out_of_office_dates_mean_the_same_however_written(dates: dict[str, Any]) -> None:
    rep = rep_from_doc({"id": "r", "name": "R", "timezone": "Asia/Tokyo", "out_of_office": [dates]})
    tokyo = zone("Asia/Tokyo")
    assert rep.out_of_office == (
        Absence(datetime(2026, 12, 24, tzinfo=tokyo), datetime(2026, 12, 27, tzinfo=tokyo)),
    )


def test_out_of_office_times_are_kept_and_default_to_the_reps_zone() -> None:
    rep = rep_from_doc(
        {
            "id": "r",
            "name": "R",
            "timezone": "America/New_York",
            "out_of_office": [{"start": "2026-12-24T12:00", "end": "2026-12-24T18:00:00+00:00"}],
        }
    )
    (absence,) = rep.out_of_office
    assert absence.start == datetime(2026, 12, 24, 17, tzinfo=UTC)
    assert absence.end == datetime(2026, 12, 24, 18, tzinfo=UTC)


# --- working hours ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "windows"),
    [
        ("mon-fri 09:00-17:00", {d: ((time(9), time(17)),) for d in range(5)}),
        ("Mon-Fri 9:00 - 17:00", {d: ((time(9), time(17)),) for d in range(5)}),
        ("sat 10:00-14:00", {5: ((time(10), time(14)),)}),
        ("monday-wednesday 08:00-12:00", {d: ((time(8), time(12)),) for d in range(3)}),
        ("fri-mon 09:00-17:00", {d: ((time(9), time(17)),) for d in (4, 5, 6, 0)}),  # wraps
        ("sun 00:00-24:00", {6: ((time(0), time(23, 59, 59, 999999)),)}),
        (
            {"mon-fri": "09:00-17:00", "sat": ["10:00-12:00", "13:00-15:00"]},
            {
                **{d: ((time(9), time(17)),) for d in range(5)},
                5: ((time(10), time(12)), (time(13), time(15))),
            },
        ),
        (
            {"mon, wed": ["13:00-17:00", "08:00-12:00"]},
            {
                0: ((time(8), time(12)), (time(13), time(17))),
                2: ((time(8), time(12)), (time(13), time(17))),
            },
        ),
        (None, None),
    ],
)
def test_parse_working_hours(raw: Any, windows: Any) -> None:
    hours = parse_working_hours(raw)
    assert (hours.windows if hours else None) == windows


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("mon-fri 9-5", "should look like 09:00-17:30"),
        ("mon-fri", "should look like"),
        ("weekdays 09:00-17:00", "unknown day 'weekdays'"),
        ("mon-fri 17:00-09:00", "end before they start"),
        ("mon 09:00-09:00", "end before they start"),
        ("mon 09:00-25:00", "hour must be in 0..23"),
        ("mon 09:60-10:00", "minute must be in 0..59"),
        ({"mon,": "09:00-17:00"}, "unknown day"),
    ],
)
def test_bad_working_hours(raw: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_working_hours(raw)


def test_format_working_hours_round_trips() -> None:
    raw = {"mon": ["09:00-12:00", "13:00-17:00"], "sat": ["00:00-24:00"]}
    hours = parse_working_hours(raw)
    assert format_working_hours(hours) == raw
    assert parse_working_hours(format_working_hours(hours)) == hours  # type: ignore[arg-type]
    assert format_working_hours(None) is None


# --- round trip ----------------------------------------------------------------------------


def test_org_round_trips_through_its_document(tmp_path: Path) -> None:
    org = load_org(write(tmp_path, ORG_YAML))
    assert org_from_doc(org_to_doc(org)) == org


def test_an_org_built_in_code_round_trips() -> None:
    new_york = zone("America/New_York")
    org = build_org(
        reps=[
            make_rep(
                "r1",
                role=Role.CSM,
                teams=("a", "b"),
                timezone="America/New_York",
                working_hours=WorkingHours(
                    {
                        0: ((time(0), time(23, 59, 59, 999999)),),
                        3: ((time(8), time(9)), (time(10, 30), time(12))),
                    }
                ),
                out_of_office=(
                    Absence(
                        datetime(2026, 1, 1, tzinfo=new_york),
                        datetime(2026, 1, 2, 12, tzinfo=UTC),
                        "flu",
                    ),
                ),
                status=RepStatus.INACTIVE,
                weight=0.5,
                caps=Caps(month=3),
            )
        ],
        teams=[Team("a", "A", ("r1",))],
        territories=[
            Territory(
                "t",
                "T",
                frozenset({"US"}),
                frozenset({"US-CA"}),
                (PostalRange(None, low="1000", high="1999"),),
            )
        ],
        segments=[Segment("s", "S", "annual_revenue", 1.5, 2e6)],
        accounts=[Account("a", "A", None, None, None, AccountStatus.CUSTOMER, None, True)],
    )
    assert org_from_doc(org_to_doc(org)) == org


# --- CSV -----------------------------------------------------------------------------------


def test_reps_and_accounts_from_csv(tmp_path: Path) -> None:
    (tmp_path / "reps.csv").write_text(
        "\ufeffid,name,teams,timezone,working_hours,weight,cap_day,cap_week,cap_month,status\n"
        "r1,Rep One,na; emea,America/Chicago,mon-fri 08:00-16:00,2,5,,,\n"
        "r2, Rep Two ,,,,,,,,paused\n",
        encoding="utf-8",
    )
    (tmp_path / "accounts.csv").write_text(
        "id,name,domain,owner,named,employees,parent\n"
        "a1,Acme,Acme.com,r1,yes,1200,\n"
        "a2,Beta,,,,,a1\n",
        encoding="utf-8",
    )
    org = load_org(
        write(
            tmp_path,
            """\
        reps: [{id: r0, name: Rep Zero}]
        reps_csv: reps.csv
        accounts_csv: accounts.csv
        """,
        )
    )
    assert list(org.reps) == ["r0", "r1", "r2"]
    r1, r2 = org.reps["r1"], org.reps["r2"]
    assert (r1.teams, r1.timezone, r1.weight, r1.caps) == (
        ("na", "emea"),
        "America/Chicago",
        2.0,
        Caps(day=5),
    )
    assert r1.working_hours == WorkingHours.weekdays(time(8), time(16))
    assert (r2.name, r2.teams, r2.timezone, r2.status) == ("Rep Two", (), "UTC", RepStatus.PAUSED)
    a1, a2 = org.accounts["a1"], org.accounts["a2"]
    assert (a1.domain, a1.owner_id, a1.named, a1.employees) == ("acme.com", "r1", True, 1200)
    assert (a2.domain, a2.owner_id, a2.parent_id, a2.named) == (None, None, "a1", False)


def test_csv_errors_name_the_csv_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "reps.csv").write_text(
        "id,name,weight,cap_day\nr1,One,1,\nr2,Two,-1,\n", encoding="utf-8"
    )
    with pytest.raises(OrgFileError) as info:
        load_org(write(tmp_path, "reps_csv: reps.csv\n"))
    message = str(info.value)
    assert message.startswith(f"{tmp_path / 'reps.csv'}:3: weight: ")
    assert "greater than 0" in message


@pytest.mark.parametrize(
    ("row", "said"),
    [
        ("r1,One,mon-fri 9-5,", "working_hours: working hours '9-5' should look like"),
        ("r1,One,,lots", "caps.day:"),
    ],
)
def test_csv_rep_errors(tmp_path: Path, row: str, said: str) -> None:
    (tmp_path / "reps.csv").write_text(f"id,name,working_hours,cap_day\n{row}\n", encoding="utf-8")
    with pytest.raises(OrgFileError, match=r"reps.csv:2: ") as info:
        load_org(write(tmp_path, "reps_csv: reps.csv\n"))
    assert said in str(info.value)


def test_a_missing_csv_file(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError, match=r"accounts.csv: cannot read"):
        load_org(write(tmp_path, "accounts_csv: accounts.csv\n"))


# --- errors with file:line -----------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(OrgFileError, match=r"nope.yaml: cannot read"):
        load_org(tmp_path / "nope.yaml")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    message = load_error(tmp_path, "reps:\n  - {id: r1, name: One\n  - id: r2\n")
    assert ":3: not valid YAML" in message


@pytest.mark.parametrize(
    ("text", "line", "said"),
    [
        (
            "reps:\n  - id: r1\n    name: One\n    timezone: Mars/Olympus\n",
            4,
            "reps.0.timezone: unknown time zone 'Mars/Olympus'",
        ),
        (
            "reps:\n  - id: r1\n    name: One\n  - id: r2\n    name: Two\n    weight: 0\n",
            6,
            "reps.1.weight: Input should be greater than 0",
        ),
        (
            "reps:\n  - id: r1\n    name: One\n    working_hours: mon-fri 9-5\n",
            4,
            "reps.0.working_hours: working hours '9-5' should look like 09:00-17:30",
        ),
        (
            "reps:\n  - id: r1\n    name: One\n"
            "    working_hours: {mon: '09:00-17:00', xyz: '1:00-2:00'}\n",
            4,
            "unknown day 'xyz'",
        ),
        (
            "reps:\n  - id: r1\n    name: One\n    out_of_office:\n      - {start: 2026-01-01}\n",
            5,
            "reps.0.out_of_office.0.end: Field required",
        ),
        (
            "reps:\n  - id: r1\n    name: One\n    colour: blue\n",
            4,
            "reps.0.colour: Extra inputs are not permitted",
        ),
        ("reps:\n  - id: r1\n    name: One\n    role: CEO\n", 4, "reps.0.role:"),
        ("teams:\n  - {id: a}\naccounts:\n  - {id: x}\n", 4, "accounts.0.name: Field required"),
        ("segments:\n  - {id: a, min: lots}\n", 2, "segments.0.min:"),
        (
            "reps:\n  - {id: r1, name: One}\n  - {id: r2, name: Two}\n  - {id: r1, name: Again}\n",
            4,
            "duplicate rep id 'r1'",
        ),
        ("accounts:\n  - {id: a, name: A}\n  - {id: a, name: B}\n", 3, "duplicate account id 'a'"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path: Path, text: str, line: int, said: str) -> None:
    message = load_error(tmp_path, text)
    assert message.startswith(f"{tmp_path / 'org.yaml'}:{line}: "), message
    assert said in message
    assert "Value error, " not in message


def test_duplicate_ids_across_yaml_and_csv(tmp_path: Path) -> None:
    (tmp_path / "reps.csv").write_text("id,name\nr1,Again\n", encoding="utf-8")
    message = load_error(tmp_path, "reps: [{id: r1, name: One}]\nreps_csv: reps.csv\n")
    assert "duplicate rep id 'r1'" in message
    with pytest.raises(ValueError, match="duplicate team id 't'"):
        org_from_doc({"teams": [{"id": "t"}, {"id": "t"}]})
