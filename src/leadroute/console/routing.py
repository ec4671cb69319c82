"""Routing pages (admins and managers).

GET  /console/routing            config versions, a diff of two
POST /console/routing/validate   a draft checked against the org, problems at their lines
GET  /console/backtest, POST /console/backtest   replay past leads through a draft
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from leadroute.adapters.registry import flow_reads
from leadroute.console.deps import CheckedForm, UiDep, Visitor, logged_in
from leadroute.console.flowgraph import layout
from leadroute.console.ui import MANAGERS, Ui, day
from leadroute.services.backtest import backtest as run_backtest
from leadroute.services.configs import (
    ConfigRejected,
    activate_version,
    config_diff,
    rollback,
    save_version,
    validate_source,
)
from leadroute.services.flow import flow_counts

ADMIN = ("admin",)


router = APIRouter()
Manager = Annotated[Visitor, Depends(logged_in(MANAGERS, "routing"))]
Tester = Annotated[Visitor, Depends(logged_in(MANAGERS, "backtests"))]


def routing_page(
    request: Request,
    ui: Ui,
    visitor: Visitor,
    *,
    a: int | None = None,
    b: int | None = None,
    seq: int | None = None,
    since: str = "",
    until: str = "",
    status_code: int = 200,
    **shown: Any,
) -> HTMLResponse:
    """The routing page: the flow with per-node counts from `since` to `until` (default: the
    last 7 days), the versions, a diff of `a` and `b`; `shown` adds the draft and its check."""
    store = ui.store
    versions = store.configs()
    diff = None
    if a is not None and b is not None:
        try:
            diff = config_diff(store, a, b)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
    if not since and not until:
        since = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
    flow = flow_of(ui, bool(versions), seq, since, until)
    return ui.page(
        request,
        "routing.html",
        visitor.session,
        visitor.user,
        status_code=status_code,
        versions=versions,
        a=a,
        b=b,
        diff=diff,
        flow=flow,
        graph=layout(flow) if flow is not None else None,
        since=since,
        until=until,
        **({"draft": "", "problems": None, "valid": None, "notice": ""} | shown),
    )


def flow_of(ui: Ui, any_version: bool, seq: int | None, since: str, until: str) -> Any:
    """The flow of version `seq` (default: the active one) with its counts; None without
    one (404 for a `seq` that is not there)."""
    start, end = day(since), day(until, "until")
    if end is not None and len(until) <= 10:
        end += timedelta(days=1)  # a date as the end means to the end of that day
    if not any_version:
        return None
    try:
        return flow_counts(flow_reads(ui.store), seq=seq, since=start, until=end)
    except LookupError as exc:
        if seq is not None:
            raise HTTPException(404, str(exc)) from None
        return None


@router.get("/routing")
def routing(
    request: Request,
    ui: UiDep,
    visitor: Manager,
    a: int | None = None,
    b: int | None = None,
    seq: int | None = None,
    since: str = "",
    until: str = "",
    notice: str = "",
) -> HTMLResponse:
    """The flow with per-node counts, config versions, a diff of two, a draft check."""
    return routing_page(
        request, ui, visitor, a=a, b=b, seq=seq, since=since, until=until, notice=notice
    )


@router.post("/routing/validate")
def routing_validate(
    request: Request, ui: UiDep, visitor: Manager, fields: CheckedForm
) -> Response:
    """Check a draft; with `save` (admins): store it as a draft, or store and activate it."""
    draft, save = fields.get("source", ""), fields.get("save", "")
    if save and visitor.user.role != "admin":
        raise HTTPException(403, "storing or activating a config is for admins")
    if save not in ("", "draft", "activate"):
        raise HTTPException(422, "save is draft or activate")
    if not save:
        loaded, problems = validate_source(ui.store, draft)
        return routing_page(
            request, ui, visitor, draft=draft, problems=problems, valid=loaded is not None
        )
    try:
        seq, _warnings = save_version(ui.store, draft, activate=save == "activate")
    except ConfigRejected as exc:
        return routing_page(
            request, ui, visitor, draft=draft, problems=exc.problems, valid=False, status_code=422
        )
    if save == "activate":
        ui.state.reset()
        return ui.redirect(request, f"/routing?notice=activated-{seq}")
    return ui.redirect(request, f"/routing?notice=saved-{seq}")


@router.get("/routing/{seq}/activate")
def activate_preview(
    request: Request,
    seq: int,
    ui: UiDep,
    admin: Annotated[Visitor, Depends(logged_in(ADMIN, "activating a config"))],
) -> HTMLResponse:
    """What activating version `seq` changes, with the button that does it."""
    target = ui.store.config(seq)
    if target is None:
        raise HTTPException(404, f"no config #{seq}")
    active = ui.store.config()
    diff = config_diff(ui.store, active.seq, seq) if active is not None else None
    loaded, problems = validate_source(ui.store, target.source)
    return ui.page(
        request,
        "activate.html",
        admin.session,
        admin.user,
        target=target,
        active=active,
        diff=diff,
        problems=problems,
        valid=loaded is not None,
    )


@router.post("/routing/{seq}/activate")
def activate(
    request: Request,
    seq: int,
    ui: UiDep,
    _admin: Annotated[Visitor, Depends(logged_in(ADMIN, "activating a config"))],
    _fields: CheckedForm,
) -> Response:
    try:
        activate_version(ui.store, seq)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None
    except ConfigRejected as exc:
        raise HTTPException(422, f"#{seq} is not valid against today's org: {exc}") from None
    ui.state.reset()
    return ui.redirect(request, f"/routing?notice=activated-{seq}")


@router.post("/routing/rollback")
def roll_back(
    request: Request,
    ui: UiDep,
    _admin: Annotated[Visitor, Depends(logged_in(ADMIN, "rolling back a config"))],
    _fields: CheckedForm,
) -> Response:
    try:
        seq = rollback(ui.store)
    except LookupError as exc:
        raise HTTPException(409, str(exc)) from None
    except ConfigRejected as exc:
        raise HTTPException(422, f"the earlier version is not valid today: {exc}") from None
    ui.state.reset()
    return ui.redirect(request, f"/routing?notice=activated-{seq}")


@router.get("/backtest")
def backtest_form(
    request: Request, ui: UiDep, visitor: Tester, seq: int | None = None
) -> HTMLResponse:
    """Replay past leads through a draft (or stored version `seq`): who would have got what."""
    draft = ""
    if seq is not None:
        stored = ui.store.config(seq)
        if stored is None:
            raise HTTPException(404, f"no config #{seq}")
        draft = stored.source
    return ui.page(
        request, "backtest.html", visitor.session, visitor.user, draft=draft, since="", report=None
    )


@router.post("/backtest")
def backtest_run(request: Request, ui: UiDep, visitor: Tester, fields: CheckedForm) -> HTMLResponse:
    draft, since = fields.get("source", ""), fields.get("since", "")
    loaded, problems = validate_source(ui.store, draft)
    report = None
    try:
        start = day(since)
    except HTTPException as exc:
        start = None
        problems.append({"line": None, "severity": "error", "message": exc.detail})
    else:
        if start is None:
            problems.append({"line": None, "severity": "error", "message": "give a start date"})
    if loaded is not None and loaded.config is not None and start is not None:
        report = run_backtest(ui.store, loaded.config, since=start).as_record()
    return ui.page(
        request,
        "backtest.html",
        visitor.session,
        visitor.user,
        draft=draft,
        since=since,
        report=report,
        problems=problems,
    )
