"""What the console pages read: scoped to what the logged-in user may see.

Who sees what: an admin sees everything; a rep sees their own leads; a manager sees their team,
which is themselves, the reps whose `manager_id` is them, and the members of every team whose
`manager_id` is them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, func, or_, select

from leadroute.adapters.store import tables as t
from leadroute.adapters.store.console_store import ConsoleUser
from leadroute.adapters.store.service_tables import lead_events, outbox
from leadroute.adapters.store.sql import OPEN, Store, StoredLead, _stored_lead, aware
from leadroute.domain.org import Org, Rep, periods_at
from leadroute.services.reports import completeness, performance

PAGE = 25


def visible_reps(user: ConsoleUser, org: Org) -> set[str] | None:
    """The rep ids whose leads the user sees; None: every lead (admin)."""
    if user.role == "admin":
        return None
    own = user.rep_id or ""
    if user.role == "rep":
        return {own}
    team = {own} | {r.id for r in org.reps.values() if r.manager_id == own}
    for group in org.teams.values():
        if group.manager_id == own:
            team |= set(group.members)
            team |= {r.id for r in org.reps.values() if group.id in r.teams}
    return team


def may_see(user: ConsoleUser, org: Org, lead: StoredLead) -> bool:
    reps = visible_reps(user, org)
    return reps is None or (lead.owner_id is not None and lead.owner_id in reps)


@dataclass(frozen=True, slots=True)
class LeadPage:
    leads: list[tuple[StoredLead, str | None]]  # with the current decision's route
    total: int
    page: int
    pages: int


def search_leads(
    store: Store,
    *,
    reps: set[str] | None,
    text: str = "",
    status: str = "",
    rep: str = "",
    route: str = "",
    page: int = 1,
) -> LeadPage:
    current = t.decisions.c.is_current.is_(True)
    base = select(t.leads, t.decisions.c.node).outerjoin(
        t.decisions, and_(t.decisions.c.lead_id == t.leads.c.id, current)
    )
    conditions: list[Any] = []
    if reps is not None:
        conditions.append(t.leads.c.owner_id.in_(sorted(reps)))
    if text:
        like = f"%{text.lower()}%"
        conditions.append(
            or_(
                func.lower(t.leads.c.id).like(like),
                func.lower(cast(t.leads.c.data, String)).like(like),
            )
        )
    if status:
        conditions.append(t.leads.c.status == status)
    if rep:
        conditions.append(t.leads.c.owner_id == rep)
    if route:
        conditions.append(t.decisions.c.node == route)
    query = base.where(*conditions)
    count = select(func.count()).select_from(query.subquery())
    page = max(1, page)
    ordered = (
        query.order_by(t.leads.c.received_at.desc(), t.leads.c.id)
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    )
    with store.engine.connect() as conn:
        total = int(conn.execute(count).scalar_one())
        rows = [(_stored_lead(r), r["node"]) for r in conn.execute(ordered).mappings()]
    return LeadPage(rows, total, page, max(1, -(-total // PAGE)))


def routes(store: Store) -> list[str]:
    query = select(t.decisions.c.node).where(t.decisions.c.node.is_not(None)).distinct()
    with store.engine.connect() as conn:
        return sorted(str(n) for n in conn.scalars(query))


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def overview(store: Store, *, reps: set[str] | None, now: datetime) -> dict[str, Any]:
    """Leads today and this week by status, speed to lead, held and unrouted reasons, SLA
    breaches (escalations) this week, and (for admins) the data completeness of the week's
    leads. Days and weeks are in UTC; weeks start on Monday."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    owned = [] if reps is None else [t.leads.c.owner_id.in_(sorted(reps))]

    def by_status(since: datetime) -> dict[str, int]:
        query = (
            select(t.leads.c.status, func.count())
            .where(t.leads.c.received_at >= since, *owned)
            .group_by(t.leads.c.status)
        )
        with store.engine.connect() as conn:
            return {s: int(n) for s, n in conn.execute(query)}

    groups = performance(store, by="rep", since=week)
    if reps is not None:
        groups = [g for g in groups if g.key in reps]
    seconds = [s for g in groups for s in g.to_assign]
    reasons: dict[str, Counter[str]] = {"held": Counter(), "unrouted": Counter()}
    if reps is None:  # held and unrouted leads have no owner: admins see them
        query = (
            select(t.leads.c.status, t.leads.c.reason, func.count())
            .where(t.leads.c.status.in_(("held", "unrouted")))
            .group_by(t.leads.c.status, t.leads.c.reason)
        )
        with store.engine.connect() as conn:
            for status, reason, n in conn.execute(query):
                reasons[status][reason or "(no reason)"] += int(n)
    breaches = select(lead_events).where(
        lead_events.c.kind == "escalated", lead_events.c.at >= week
    )
    if reps is not None:
        breaches = breaches.where(lead_events.c.rep_id.in_(sorted(reps)))
    with store.engine.connect() as conn:
        escalated = [dict(r) for r in conn.execute(breaches.order_by(lead_events.c.at)).mappings()]
    return {
        "today": by_status(today),
        "week": by_status(week),
        "week_start": week,
        "speed_p50": _quantile(seconds, 0.5),
        "speed_p90": _quantile(seconds, 0.9),
        "decided": len(seconds),
        "reasons": {k: v.most_common(10) for k, v in reasons.items()},
        "breaches": escalated,
        "completeness": completeness(store, since=week) if reps is None else None,
    }


def notifications(store: Store, lead_id: str) -> list[dict[str, Any]]:
    query = select(outbox).where(outbox.c.lead_id == lead_id).order_by(outbox.c.id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def open_loads(store: Store) -> dict[str, int]:
    """Open leads per rep (the counter routing keeps for caps on open leads)."""
    query = select(t.rep_counters.c.rep_id, t.rep_counters.c.count).where(
        t.rep_counters.c.period == OPEN
    )
    with store.engine.connect() as conn:
        return {rep: int(n) for rep, n in conn.execute(query)}


def when(moment: datetime | None) -> str:
    return aware(moment).strftime("%Y-%m-%d %H:%M UTC") if moment else "—"


def rep_load(store: Store, rep: Rep, now: datetime) -> dict[str, int]:
    """Leads assigned to the rep this day, week and month (in the rep's time zone, weeks from
    Monday: what caps count) and their open leads now."""
    periods = {key: name for name, key in periods_at(rep.timezone, now).items()}
    periods[OPEN] = "open"
    query = select(t.rep_counters.c.period, t.rep_counters.c.count).where(
        t.rep_counters.c.rep_id == rep.id, t.rep_counters.c.period.in_(sorted(periods))
    )
    load = dict.fromkeys(("day", "week", "month", "open"), 0)
    with store.engine.connect() as conn:
        for period, count in conn.execute(query):
            load[periods[period]] = int(count)
    return load


@dataclass(frozen=True, slots=True)
class CalendarDay:
    day: date
    working: bool  # the rep works on this weekday (a rep without working hours always does)
    away: str | None  # the reason of an out-of-office period on this day
    whole: bool  # the period covers the whole day


@dataclass(frozen=True, slots=True)
class CalendarRow:
    rep: Rep
    days: list[CalendarDay]


def out_of_office_calendar(reps: Iterable[Rep], start: date, days: int = 28) -> list[CalendarRow]:
    """Each rep's days from `start` on, each day in the rep's own time zone: out of office
    (for all or part of the day) and whether the rep's working hours include that weekday."""
    rows = []
    for rep in reps:
        cells = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            begin = datetime.combine(day, time(0), tzinfo=rep.zone)
            end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=rep.zone)
            away = next((a for a in rep.out_of_office if a.start < end and a.end > begin), None)
            hours = rep.working_hours
            working = hours is None or bool(hours.windows.get(day.weekday()))
            whole = away is not None and away.start <= begin and away.end >= end
            cells.append(CalendarDay(day, working, away.reason if away else None, whole))
        rows.append(CalendarRow(rep, cells))
    return rows
