"""The overview and the leads.

GET  /console/                 overview: leads today and this week, speed to lead, SLA
GET  /console/leads            search and filter leads
GET  /console/leads/{id}       a lead: fields, decision record, brief, history, notifications
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from leadroute.adapters.registry import lifecycle_log
from leadroute.console import queries
from leadroute.console.deps import LoggedIn, UiDep
from leadroute.services.lifecycle import events

router = APIRouter()

STATUSES = ("new", "routed", "held", "unrouted", "rejected", "converted", "disqualified")


@router.get("/")
def overview(request: Request, ui: UiDep, visitor: LoggedIn) -> HTMLResponse:
    visible = queries.visible_reps(visitor.user, ui.store.load_org())
    data = queries.overview(ui.store, reps=visible, now=datetime.now(UTC))
    return ui.page(
        request, "overview.html", visitor.session, visitor.user, data=data, statuses=STATUSES
    )


@router.get("/leads")
def leads(
    request: Request,
    ui: UiDep,
    visitor: LoggedIn,
    q: str = "",
    status: str = "",
    rep: str = "",
    route: str = "",
    page_: int = Query(1, alias="page", ge=1, le=1_000_000),
) -> HTMLResponse:
    org = ui.store.load_org()
    visible = queries.visible_reps(visitor.user, org)
    found = queries.search_leads(
        ui.store, reps=visible, text=q.strip(), status=status, rep=rep, route=route, page=page_
    )
    choices = sorted(org.reps) if visible is None else sorted(visible)
    query = {"q": q, "status": status, "rep": rep, "route": route}
    return ui.page(
        request,
        "leads.html",
        visitor.session,
        visitor.user,
        found=found,
        filters=query,
        more=urllib.parse.urlencode(query),
        statuses=STATUSES,
        reps=choices,
        routes=queries.routes(ui.store),
    )


@router.get("/leads/{lead_id:path}")  # ids from files and CRMs may hold a slash
def lead(request: Request, lead_id: str, ui: UiDep, visitor: LoggedIn) -> HTMLResponse:
    store = ui.store
    stored = store.lead(lead_id)
    if stored is None or not queries.may_see(visitor.user, store.load_org(), stored):
        raise HTTPException(404, f"no lead '{lead_id}' that you may see")
    history = store.decisions(lead_id)
    try:
        brief: dict[str, Any] | None = ui.state.routing.brief(lead_id).as_record()
    except LookupError:
        brief = None
    return ui.page(
        request,
        "lead.html",
        visitor.session,
        visitor.user,
        lead=stored,
        current=next((d for d in reversed(history) if d.current), None),
        history=history,
        brief=brief,
        events=events(lifecycle_log(store), lead_id),
        notifications=queries.notifications(store, lead_id),
    )
