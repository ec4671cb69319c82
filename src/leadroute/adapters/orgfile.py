"""Read and write the org (reps, teams, territories, segments, accounts) as YAML or CSV.

The same dict shape is used for files and for the store's documents, so an org round-trips.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from leadroute.domain.matching import domain_of
from leadroute.domain.org import (
    WEEKDAYS,
    Absence,
    Account,
    AccountStatus,
    Caps,
    Org,
    PostalRange,
    Rep,
    RepStatus,
    Role,
    Segment,
    Team,
    Territory,
    WorkingHours,
    build_org,
)
from leadroute.domain.yamldoc import YamlError, line_of, load_with_lines

_T = TypeVar("_T")


class OrgFileError(ValueError):
    """An org file that cannot be loaded; the message names the file, line and problem."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AbsenceModel(_Model):
    start: datetime | date
    end: datetime | date
    reason: str = "out of office"

    @field_validator("start", "end", mode="before")
    @classmethod
    def _whole_day(cls, value: Any) -> Any:
        """'2026-11-24' (a quoted YAML date, JSON, CSV) is a whole day, as 2026-11-24 is."""
        if isinstance(value, str) and _DATE.match(value.strip()):
            return date.fromisoformat(value.strip())
        return value


class CapsModel(_Model):
    day: int | None = Field(None, ge=0)
    week: int | None = Field(None, ge=0)
    month: int | None = Field(None, ge=0)


class RepModel(_Model):
    id: str = Field(min_length=1)
    name: str
    email: str = ""
    role: Role = Role.AE
    teams: list[str] = Field(default_factory=list)
    timezone: str = "UTC"
    working_hours: str | dict[str, str | list[str]] | None = None
    out_of_office: list[AbsenceModel] = Field(default_factory=list)
    status: RepStatus = RepStatus.ACTIVE
    weight: float = Field(1.0, gt=0)
    caps: CapsModel = Field(default_factory=CapsModel)
    booking_link: str | None = None
    manager: str | None = None

    @field_validator("working_hours")
    @classmethod
    def _hours(
        cls, value: str | dict[str, str | list[str]] | None
    ) -> str | dict[str, str | list[str]] | None:
        parse_working_hours(value)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone '{value}' (use an IANA name such as Europe/Berlin)"
            ) from None
        return value


class TeamModel(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    members: list[str] = Field(default_factory=list)
    manager: str | None = None


class TerritoryModel(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    countries: list[str] = Field(default_factory=list)
    subdivisions: list[str] = Field(default_factory=list)
    postal: list[str] = Field(
        default_factory=list, description="'US:94' (prefix) or 'US:94000-94999' (range)"
    )


class SegmentModel(_Model):
    id: str = Field(min_length=1)
    name: str = ""
    field: str = "employees"
    min: float | None = None
    max: float | None = None


class AccountModel(_Model):
    id: str = Field(min_length=1)
    name: str
    domain: str | None = None
    parent: str | None = None
    owner: str | None = None
    status: AccountStatus = AccountStatus.PROSPECT
    opportunity_stage: str | None = None
    named: bool = False
    industry: str | None = None
    employees: int | None = None


class OrgModel(_Model):
    reps: list[RepModel] = Field(default_factory=list)
    teams: list[TeamModel] = Field(default_factory=list)
    territories: list[TerritoryModel] = Field(default_factory=list)
    segments: list[SegmentModel] = Field(default_factory=list)
    accounts: list[AccountModel] = Field(default_factory=list)
    accounts_csv: str | None = None
    reps_csv: str | None = None


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPAN = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def _days(spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.lower().replace(" ", "").split(","):
        if "-" in part:
            first, last = part.split("-", 1)
            start, end = WEEKDAYS.index(first[:3]), WEEKDAYS.index(last[:3])
            days += [(start + i) % 7 for i in range((end - start) % 7 + 1)]  # fri-mon wraps
        else:
            days.append(WEEKDAYS.index(part[:3]))
    return days


def _span(text: str) -> tuple[time, time]:
    match = _SPAN.match(text)
    if not match:
        raise ValueError(f"working hours '{text}' should look like 09:00-17:30")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    start = time(h1, m1)
    end = time(23, 59, 59, 999999) if (h2, m2) == (24, 0) else time(h2, m2)
    if end <= start:
        raise ValueError(f"working hours '{text}' end before they start")
    return start, end


def parse_working_hours(raw: str | Mapping[str, str | list[str]] | None) -> WorkingHours | None:
    """'mon-fri 09:00-17:00' or {mon-fri: '09:00-17:00', sat: ['10:00-12:00']}."""
    if raw is None:
        return None
    if isinstance(raw, str):
        days_text, _, span_text = raw.strip().partition(" ")
        raw = {days_text: span_text}
    windows: dict[int, list[tuple[time, time]]] = {}
    for day_spec, spans in raw.items():
        try:
            days = _days(day_spec)
        except ValueError:
            raise ValueError(
                f"unknown day '{day_spec}' (use mon..sun, ranges like mon-fri)"
            ) from None
        for span_text in [spans] if isinstance(spans, str) else spans:
            span = _span(span_text)
            for day in days:
                windows.setdefault(day, []).append(span)
    return WorkingHours({d: tuple(sorted(s)) for d, s in windows.items()})


def format_working_hours(hours: WorkingHours | None) -> dict[str, list[str]] | None:
    if hours is None:
        return None
    return {
        WEEKDAYS[d]: [
            f"{s:%H:%M}-{e:%H:%M}" if e != time(23, 59, 59, 999999) else f"{s:%H:%M}-24:00"
            for s, e in spans
        ]
        for d, spans in sorted(hours.windows.items())
    }


def _moment(value: datetime | date, zone: ZoneInfo, end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone)
    day = date.fromordinal(value.toordinal() + 1) if end else value
    return datetime.combine(day, time(0), tzinfo=zone)


def _postal(spec: str) -> PostalRange:
    country, _, body = spec.rpartition(":")
    body = body.replace(" ", "").upper()
    if "-" in body:
        low, high = body.split("-", 1)
        return PostalRange(country.upper() or None, low=low, high=high)
    return PostalRange(country.upper() or None, prefix=body)


def rep_from_doc(doc: Mapping[str, Any]) -> Rep:
    m = RepModel.model_validate(doc)
    zone = ZoneInfo(m.timezone)
    return Rep(
        id=m.id,
        name=m.name,
        email=m.email,
        role=m.role,
        teams=tuple(m.teams),
        timezone=m.timezone,
        working_hours=parse_working_hours(m.working_hours),
        out_of_office=tuple(
            Absence(_moment(a.start, zone), _moment(a.end, zone, end=True), a.reason)
            for a in m.out_of_office
        ),
        status=m.status,
        weight=m.weight,
        caps=Caps(m.caps.day, m.caps.week, m.caps.month),
        booking_link=m.booking_link,
        manager_id=m.manager,
    )


def rep_to_doc(rep: Rep) -> dict[str, Any]:
    return {
        "id": rep.id,
        "name": rep.name,
        "email": rep.email,
        "role": rep.role.value,
        "teams": list(rep.teams),
        "timezone": rep.timezone,
        "working_hours": format_working_hours(rep.working_hours),
        "out_of_office": [
            {"start": a.start.isoformat(), "end": a.end.isoformat(), "reason": a.reason}
            for a in rep.out_of_office
        ],
        "status": rep.status.value,
        "weight": rep.weight,
        "caps": {"day": rep.caps.day, "week": rep.caps.week, "month": rep.caps.month},
        "booking_link": rep.booking_link,
        "manager": rep.manager_id,
    }


def team_from_doc(doc: Mapping[str, Any]) -> Team:
    m = TeamModel.model_validate(doc)
    return Team(m.id, m.name or m.id, tuple(m.members), m.manager)


def team_to_doc(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "name": team.name,
        "members": list(team.members),
        "manager": team.manager_id,
    }


def territory_from_doc(doc: Mapping[str, Any]) -> Territory:
    m = TerritoryModel.model_validate(doc)
    return Territory(
        m.id,
        m.name or m.id,
        frozenset(c.upper() for c in m.countries),
        frozenset(s.upper() for s in m.subdivisions),
        tuple(_postal(p) for p in m.postal),
    )


def territory_to_doc(t: Territory) -> dict[str, Any]:
    postal = [
        f"{p.country or ''}:{p.prefix}"
        if p.prefix is not None
        else f"{p.country or ''}:{p.low}-{p.high}"
        for p in t.postal
    ]
    return {
        "id": t.id,
        "name": t.name,
        "countries": sorted(t.countries),
        "subdivisions": sorted(t.subdivisions),
        "postal": postal,
    }


def segment_from_doc(doc: Mapping[str, Any]) -> Segment:
    m = SegmentModel.model_validate(doc)
    return Segment(m.id, m.name or m.id, m.field, m.min, m.max)


def segment_to_doc(s: Segment) -> dict[str, Any]:
    return {"id": s.id, "name": s.name, "field": s.field, "min": s.low, "max": s.high}


def account_from_doc(doc: Mapping[str, Any]) -> Account:
    clean = {k: v for k, v in doc.items() if v not in ("", None)}  # empty cells: defaults
    m = AccountModel.model_validate(clean)
    return Account(
        m.id,
        m.name,
        domain_of(m.domain),
        m.parent,
        m.owner,
        m.status,
        m.opportunity_stage,
        m.named,
        m.industry,
        m.employees,
    )


def account_to_doc(a: Account) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "domain": a.domain,
        "parent": a.parent_id,
        "owner": a.owner_id,
        "status": a.status.value,
        "opportunity_stage": a.opportunity_stage,
        "named": a.named,
        "industry": a.industry,
        "employees": a.employees,
    }


def org_to_doc(org: Org) -> dict[str, Any]:
    return {
        "reps": [rep_to_doc(r) for r in org.reps.values()],
        "teams": [team_to_doc(t) for t in org.teams.values()],
        "territories": [territory_to_doc(t) for t in org.territories.values()],
        "segments": [segment_to_doc(s) for s in org.segments.values()],
        "accounts": [account_to_doc(a) for a in org.accounts.values()],
    }


def org_from_doc(doc: Mapping[str, Any], *, base: Path | None = None) -> Org:
    """Build an Org from a parsed document; raises ValidationError/ValueError on bad input."""
    OrgModel.model_validate(doc)
    reps = [rep_from_doc(r) for r in doc.get("reps") or []]
    accounts = [account_from_doc(a) for a in doc.get("accounts") or []]
    if doc.get("reps_csv"):
        reps += _from_csv(_resolve(doc["reps_csv"], base), rep_from_doc, rep=True)
    if doc.get("accounts_csv"):
        accounts += _from_csv(_resolve(doc["accounts_csv"], base), account_from_doc)
    teams = [team_from_doc(t) for t in doc.get("teams") or []]
    territories = [territory_from_doc(t) for t in doc.get("territories") or []]
    segments = [segment_from_doc(s) for s in doc.get("segments") or []]
    for kind, items in (
        ("rep", reps),
        ("team", teams),
        ("territory", territories),
        ("segment", segments),
        ("account", accounts),
    ):
        ids = Counter(item.id for item in items)
        repeated = [ident for ident, count in ids.items() if count > 1]
        if repeated:
            raise ValueError(f"duplicate {kind} id '{repeated[0]}'")
    return build_org(
        reps=reps, teams=teams, territories=territories, segments=segments, accounts=accounts
    )


def _resolve(name: str, base: Path | None) -> Path:
    path = Path(name)
    return path if path.is_absolute() or base is None else base / path


_LIST_COLUMNS = ("teams",)


def _from_csv(
    path: Path, convert: Callable[[dict[str, Any]], _T], *, rep: bool = False
) -> list[_T]:
    """Convert every row of a CSV file; a bad row is an error at the file and line."""
    items = []
    for line, row in _csv_rows(path, rep=rep):
        try:
            items.append(convert(row))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise OrgFileError(f"{path}:{line}: {where}: {_message(first['msg'])}") from None
        except ValueError as exc:
            raise OrgFileError(f"{path}:{line}: {exc}") from None
    return items


def _message(text: str) -> str:
    return text.removeprefix("Value error, ")


def _csv_rows(path: Path, *, rep: bool = False) -> Iterable[tuple[int, dict[str, Any]]]:
    """(line, row) for every row; list columns split on ';', cap_day/week/month into caps."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OrgFileError(f"{path}: cannot read: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    for row in reader:
        doc: dict[str, Any] = {
            k.strip(): (v.strip() if isinstance(v, str) else v) for k, v in row.items() if k
        }
        if rep:
            for column in _LIST_COLUMNS:
                if column in doc:
                    doc[column] = [p.strip() for p in str(doc[column]).split(";") if p.strip()]
            caps = {p: doc.pop(f"cap_{p}") for p in ("day", "week", "month") if doc.get(f"cap_{p}")}
            for p in ("day", "week", "month"):
                doc.pop(f"cap_{p}", None)
            if caps:
                doc["caps"] = caps
            doc = {k: v for k, v in doc.items() if v not in ("", None)}
        yield reader.line_num, doc


def load_org(path: str | Path) -> Org:
    """Load an org YAML file; errors name the file and line and say what is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise OrgFileError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        doc, lines = load_with_lines(text)
    except YamlError as exc:
        raise OrgFileError(f"{path}:{exc.line or 1}: {exc}") from None
    if not isinstance(doc, Mapping):
        raise OrgFileError(f"{path}:1: an org file must be a mapping with reps, teams, ...")
    try:
        OrgModel.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = line_of(lines, loc) or 1
        where = ".".join(str(p) for p in loc)
        raise OrgFileError(f"{path}:{line}: {where}: {_message(first['msg'])}") from None
    duplicate = _first_duplicate(doc)
    if duplicate is not None:
        loc, message = duplicate
        raise OrgFileError(f"{path}:{line_of(lines, loc) or 1}: {message}")
    try:
        return org_from_doc(doc, base=path.parent)
    except OrgFileError:
        raise
    except (ValueError, ValidationError) as exc:
        raise OrgFileError(f"{path}: {exc}") from None


def _first_duplicate(doc: Mapping[str, Any]) -> tuple[tuple[str | int, ...], str] | None:
    """Where an id in the file's own lists repeats, and what to say about it."""
    for key, kind in (
        ("reps", "rep"),
        ("teams", "team"),
        ("territories", "territory"),
        ("segments", "segment"),
        ("accounts", "account"),
    ):
        seen: set[Any] = set()
        for index, item in enumerate(doc.get(key) or []):
            ident = item.get("id") if isinstance(item, Mapping) else None
            if ident in seen:
                return (key, index, "id"), f"duplicate {kind} id '{ident}'"
            seen.add(ident)
    return None


def utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
