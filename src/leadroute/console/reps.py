"""Reps pages.

GET  /console/reps                              availability, out of office, caps, open load
GET  /console/reps/calendar?from=YYYY-MM-DD     out of office and working days, four weeks
GET  /console/reps/{id}                         a rep: details, load against caps, out of
                                                office, open leads; the admins' forms
POST /console/reps/{id}/status                  pause or resume (admins)
POST /console/reps/{id}/settings                caps, weight, time zone, working hours (admins)
POST /console/reps/{id}/out-of-office           add an out-of-office period (admins)
POST /console/reps/{id}/out-of-office/remove    remove one (admins)
GET  /console/reps/{id}/deactivate              who would take over the open leads (admins)
POST /console/reps/{id}/deactivate              deactivate; the actual hand-off (admins)

Changes go through the same service functions as PATCH /v1/reps/{id}: validated all or
nothing, saved, and used by routing at once.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from leadroute.adapters import orgfile
from leadroute.adapters.store.console_store import ConsoleUser
from leadroute.console import queries
from leadroute.console.deps import CheckedForm, LoggedIn, UiDep, Visitor, logged_in
from leadroute.console.ui import Ui, day
from leadroute.domain.config import Pool
from leadroute.domain.org import WEEKDAYS, Absence, Org, Rep, RepStatus, WorkingHours
from leadroute.services import reps as rep_changes
from leadroute.services.reps import HandOff, RepChangeError, RepUpdate

ADMINS = ("admin",)
PERIODS = ("day", "week", "month")
CALENDAR_DAYS = 28
OPEN_SHOWN = 100  # open leads listed on a rep's page; the rest are one search away
LABELS = {
    "cap_day": "Cap per day",
    "cap_week": "Cap per week",
    "cap_month": "Cap per month",
    "weight": "Weight",
    "timezone": "Time zone",
    "working_hours": "Working hours",
    "ooo_start": "Out of office: first day",
    "ooo_end": "Out of office: last day",
    "ooo_reason": "Out of office: reason",
    "": "Rep",
}
SAVED = {
    "settings": "Caps, weight and hours saved; routing uses them from now on.",
    "ooo": "Out-of-office period added; routing uses it from now on.",
    "removed": "Out-of-office period removed.",
    "status": "Status changed.",
}


router = APIRouter()
Admin = Annotated[Visitor, Depends(logged_in(ADMINS, "changing a rep"))]
Deactivating = Annotated[Visitor, Depends(logged_in(ADMINS, "deactivating a rep"))]


def visible_rep(ui: Ui, user: ConsoleUser, rep_id: str) -> tuple[Org, Rep]:
    org = ui.store.load_org()
    visible = queries.visible_reps(user, org)
    rep = org.reps.get(rep_id)
    if rep is None or (visible is not None and rep_id not in visible):
        raise HTTPException(404, f"no rep '{rep_id}' that you may see")
    return org, rep


def changed(ui: Ui, change: Callable[[], RepUpdate]) -> RepUpdate:
    """Apply a change while no lead is being routed in this process; route with it next.
    404 for a rep that is not there."""
    try:
        with ui.state.lock:
            return change()
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    finally:
        ui.state.reset()


def submitted(
    request: Request,
    ui: Ui,
    visitor: Visitor,
    rep_id: str,
    change: Callable[[], RepUpdate],
    *,
    values: dict[str, str],
    saved: str,
) -> Response:
    """Apply a form's change: back to the rep's page saying what was saved, or the page
    again (422) with each problem at its field and the values as typed."""
    try:
        changed(ui, change)
    except RepChangeError as exc:
        return rep_page(
            request, ui, visitor, rep_id, status_code=422, errors=form_errors(exc), values=values
        )
    return ui.redirect(request, back_to(rep_id, saved))


def pools_of(ui: Ui, rep_id: str) -> list[Pool]:
    try:
        pools = ui.state.routing.router.config.pools
    except (LookupError, ValueError):  # no active config, or one that no longer loads
        return []
    return [pool for pool in pools.values() if rep_id in pool.members]


def rep_page(
    request: Request,
    ui: Ui,
    visitor: Visitor,
    rep_id: str,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    saved: str = "",
) -> HTMLResponse:
    org, rep = visible_rep(ui, visitor.user, rep_id)
    now = datetime.now(UTC)
    load = queries.rep_load(ui.store, rep, now)
    leads = ui.store.leads(status="routed", owner_id=rep.id, limit=OPEN_SHOWN + 1)
    away = rep.absence_at(now)
    link = rep.booking_link or ""
    return ui.page(
        request,
        "rep.html",
        visitor.session,
        visitor.user,
        status_code=status_code,
        rep=rep,
        teams=[(t, org.teams[t].name if t in org.teams else t) for t in rep.teams],
        hours=hours_text(rep.working_hours),
        load=load,
        caps=[(p, load[p], getattr(rep.caps, p)) for p in PERIODS],
        pools=pools_of(ui, rep.id),
        away=absence_view(rep, away) if away else None,
        absences=[absence_view(rep, a) for a in rep.out_of_office],
        leads=leads[:OPEN_SHOWN],
        more_leads=len(leads) > OPEN_SHOWN,
        booking_href=link if link.startswith(("https://", "http://")) else None,
        form=settings_values(rep) | (values or {}),
        errors=errors or {},
        labels=LABELS,
        saved=SAVED.get(saved, ""),
    )


def back_to(rep_id: str, saved: str) -> str:
    return f"/reps/{urllib.parse.quote(rep_id, safe='')}?saved={saved}"


def shown_reps(ui: Ui, user: ConsoleUser) -> tuple[Org, list[Rep]]:
    """The org and the reps `user` may see."""
    org = ui.store.load_org()
    visible = queries.visible_reps(user, org)
    return org, [r for r in org.reps.values() if visible is None or r.id in visible]


@router.get("/reps")
def reps_page(request: Request, ui: UiDep, visitor: LoggedIn) -> HTMLResponse:
    org, shown = shown_reps(ui, visitor.user)
    now = datetime.now(UTC)
    return ui.page(
        request,
        "reps.html",
        visitor.session,
        visitor.user,
        reps=shown,
        absent={r.id: r.absence_at(now) for r in shown},
        loads=queries.open_loads(ui.store),
        teams=org.teams,
    )


@router.get("/reps/calendar")
def calendar(
    request: Request, ui: UiDep, visitor: LoggedIn, from_: str = Query("", alias="from")
) -> HTMLResponse:
    """Out of office and working days of the reps the user sees, four weeks from `from`."""
    start = (day(from_.strip(), "from") or datetime.now(UTC)).date()
    _, shown = shown_reps(ui, visitor.user)
    rows = queries.out_of_office_calendar(shown, start, CALENDAR_DAYS)
    return ui.page(
        request,
        "rep_calendar.html",
        visitor.session,
        visitor.user,
        rows=rows,
        start=start,
        last=start + timedelta(days=CALENDAR_DAYS - 1),
        days=[start + timedelta(days=i) for i in range(CALENDAR_DAYS)],
        earlier=start - timedelta(days=CALENDAR_DAYS),
        later=start + timedelta(days=CALENDAR_DAYS),
    )


@router.get("/reps/{rep_id}")
def rep_detail(
    request: Request, rep_id: str, ui: UiDep, visitor: LoggedIn, saved: str = ""
) -> HTMLResponse:
    return rep_page(request, ui, visitor, rep_id, saved=saved)


@router.post("/reps/{rep_id}/status")
def rep_status(
    request: Request,
    rep_id: str,
    ui: UiDep,
    _admin: Annotated[Visitor, Depends(logged_in(ADMINS, "pausing or resuming a rep"))],
    fields: CheckedForm,
) -> Response:
    try:
        status = RepStatus(fields.get("status", ""))
    except ValueError:
        raise HTTPException(422, "status is active or paused") from None
    if status not in (RepStatus.ACTIVE, RepStatus.PAUSED):
        raise HTTPException(422, "status is active or paused")
    changed(ui, lambda: rep_changes.change_rep(ui.state.routing, rep_id, {"status": status}))
    if fields.get("back") == "rep":
        return ui.redirect(request, back_to(rep_id, "status"))
    return ui.redirect(request, "/reps")


@router.post("/reps/{rep_id}/settings")
def rep_settings(
    request: Request, rep_id: str, ui: UiDep, admin: Admin, fields: CheckedForm
) -> Response:
    """Caps, weight, time zone and working hours in one change: all saved or none."""
    changes = settings_changes(fields)
    return submitted(
        request,
        ui,
        admin,
        rep_id,
        lambda: rep_changes.change_rep(ui.state.routing, rep_id, changes),
        values={k: v for k, v in fields.items() if k in LABELS},
        saved="settings",
    )


@router.post("/reps/{rep_id}/out-of-office")
def add_out_of_office(
    request: Request, rep_id: str, ui: UiDep, admin: Admin, fields: CheckedForm
) -> Response:
    """Add a period: first and last day (whole days in the rep's time zone), a reason."""
    start, end = fields.get("ooo_start", "").strip(), fields.get("ooo_end", "").strip()
    reason = fields.get("ooo_reason", "")
    return submitted(
        request,
        ui,
        admin,
        rep_id,
        lambda: rep_changes.add_absence(
            ui.state.routing, rep_id, start=start, end=end, reason=reason
        ),
        values={"ooo_start": start, "ooo_end": end, "ooo_reason": reason},
        saved="ooo",
    )


@router.post("/reps/{rep_id}/out-of-office/remove")
def remove_out_of_office(
    request: Request, rep_id: str, ui: UiDep, _admin: Admin, fields: CheckedForm
) -> Response:
    start, end = moment(fields.get("start", ""), "start"), moment(fields.get("end", ""), "end")
    changed(ui, lambda: rep_changes.remove_absence(ui.state.routing, rep_id, start=start, end=end))
    return ui.redirect(request, back_to(rep_id, "removed"))


@router.get("/reps/{rep_id}/deactivate")
def deactivate_preview(
    request: Request, rep_id: str, ui: UiDep, admin: Deactivating
) -> HTMLResponse:
    """Who would take over each open lead: a dry run through the active config."""
    try:
        preview = rep_changes.preview_deactivation(ui.store, rep_id)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except ValueError as exc:
        raise HTTPException(409, f"the active config does not load: {exc}") from None
    return ui.page(
        request,
        "rep_deactivate.html",
        admin.session,
        admin.user,
        rep=preview.rep,
        preview=preview,
        encoded=encode(preview.hand_offs),
        result=None,
    )


@router.post("/reps/{rep_id}/deactivate")
def deactivate_confirm(
    request: Request, rep_id: str, ui: UiDep, admin: Deactivating, fields: CheckedForm
) -> HTMLResponse:
    """Deactivate for real and show where each lead went, and how that differs from the
    preview the admin confirmed."""
    previewed = decode(fields.get("preview", ""))

    def deactivate() -> RepUpdate:
        rep = ui.store.load_org().reps.get(rep_id)
        if rep is None:
            raise LookupError(f"no rep '{rep_id}'")
        if rep.status is RepStatus.INACTIVE:
            raise HTTPException(409, f"{rep.name} ({rep.id}) is inactive already")
        return rep_changes.deactivate(ui.state.routing, rep_id)

    update = changed(ui, deactivate)
    diffs = None
    if previewed is not None:
        diffs = rep_changes.differences(previewed, update.handed_on)
    return ui.page(
        request,
        "rep_deactivate.html",
        admin.session,
        admin.user,
        rep=update.rep,
        preview=None,
        result=update,
        previewed={h.lead_id: h for h in previewed or []},
        differences=diffs,
    )


# -- forms ---------------------------------------------------------------------------------


def settings_values(rep: Rep) -> dict[str, str]:
    """The settings form as the rep is now."""
    values = {f"cap_{p}": _text(getattr(rep.caps, p)) for p in PERIODS}
    return values | {
        "weight": f"{rep.weight:g}",
        "timezone": rep.timezone,
        "working_hours": hours_text(rep.working_hours),
    }


def settings_changes(fields: dict[str, str]) -> dict[str, Any]:
    """The org file's rep keys the posted settings form sets (a field not posted is left
    alone; a blank cap is no cap; blank working hours: any time). Values are validated where
    every rep change is, by `change_rep`."""
    changes: dict[str, Any] = {}
    if any(f"cap_{p}" in fields for p in PERIODS):
        changes["caps"] = {p: fields.get(f"cap_{p}", "").strip() or None for p in PERIODS}
    for name in ("weight", "timezone"):
        if name in fields:
            changes[name] = fields[name].strip()
    if "working_hours" in fields:
        changes["working_hours"] = hours_doc(fields["working_hours"])
    return changes


def hours_text(hours: WorkingHours | None) -> str:
    """Working hours as the form shows them: a line per run of days with the same windows,
    e.g. "mon-fri 09:00-17:00" and "sat 10:00-12:00, 13:00-15:00"."""
    doc = orgfile.format_working_hours(hours) or {}
    spans = {WEEKDAYS.index(name): ", ".join(windows) for name, windows in doc.items()}
    lines, first = [], 0
    while first < 7:
        if first not in spans:
            first += 1
            continue
        last = first
        while last + 1 in spans and spans[last + 1] == spans[first]:
            last += 1
        days = WEEKDAYS[first] if last == first else f"{WEEKDAYS[first]}-{WEEKDAYS[last]}"
        lines.append(f"{days} {spans[first]}")
        first = last + 1
    return "\n".join(lines)


def hours_doc(text: str) -> dict[str, list[str]] | None:
    """The form's working hours as the org file writes them: {days: [windows]}; None when
    blank. Each line is days, a space, then windows separated by commas."""
    doc: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip():
            days, _, windows = line.strip().partition(" ")
            doc.setdefault(days, []).extend(w.strip() for w in windows.split(","))
    return doc or None


def form_errors(exc: RepChangeError) -> dict[str, str]:
    """Form field name -> its first problem, in the order of the form."""
    errors: dict[str, str] = {}
    for where, message in exc.problems:
        errors.setdefault(_form_field(where), message)
    order = list(LABELS)
    return dict(sorted(errors.items(), key=lambda item: order.index(item[0])))


def _form_field(where: str) -> str:
    parts = where.split(".")
    if parts[0] == "caps" and len(parts) > 1 and parts[1] in PERIODS:
        return f"cap_{parts[1]}"
    if parts[0] == "out_of_office":
        return f"ooo_{parts[-1]}" if parts[-1] in ("start", "end", "reason") else "ooo_end"
    return parts[0] if parts[0] in LABELS else ""


def absence_view(rep: Rep, absence: Absence) -> dict[str, str]:
    """An out-of-office period in the rep's time zone: whole days as dates (last day
    included), otherwise dates and times; with its exact bounds for the remove form."""
    start, end = absence.start.astimezone(rep.zone), absence.end.astimezone(rep.zone)
    if start.time() == time(0) and end.time() == time(0):
        last = (end - timedelta(days=1)).date()
        when = f"{start.date()}" if last == start.date() else f"{start.date()} to {last}"
    else:
        when = f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M}"
    return {
        "when": when,
        "until": f"{end:%Y-%m-%d %H:%M} {rep.timezone}",
        "reason": absence.reason,
        "start": absence.start.isoformat(),
        "end": absence.end.isoformat(),
    }


def moment(text: str, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise HTTPException(400, f"{name}: '{text}' is not a date and time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def encode(hand_offs: list[HandOff]) -> str:
    """A preview's hand-offs for the confirm form, to compare with the actual ones."""
    return json.dumps([[h.lead_id, h.outcome, h.route, h.rep_id, h.queue] for h in hand_offs])


def decode(text: str) -> list[HandOff] | None:
    """The hand-offs `encode` wrote; None when the form did not carry them intact."""
    try:
        rows = json.loads(text)
    except ValueError:
        return None
    if not isinstance(rows, list):
        return None
    found = []
    for row in rows:
        if not (
            isinstance(row, list)
            and len(row) == 5
            and isinstance(row[0], str)
            and isinstance(row[1], str)
            and all(v is None or isinstance(v, str) for v in row[2:])
        ):
            return None
        found.append(HandOff(row[0], row[1], row[2], row[3], row[4]))
    return found


def _text(value: object) -> str:
    return "" if value is None else str(value)
