"""Routing pages (admins and managers).

GET  /console/routing            config versions, a diff of two
POST /console/routing/validate   a draft checked against the org, problems at their lines
GET  /console/backtest, POST /console/backtest   replay past leads through a draft
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from leadroute.adapters.registry import flow_reads
from leadroute.adapters.store.console_store import ConsoleUser
from leadroute.console.flowgraph import layout
from leadroute.console.sessions import Session
from leadroute.console.ui import MANAGERS, Ui, day, form
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


def register(app: FastAPI, ui: Ui) -> None:
    store = ui.store

    def routing_page(
        request: Request,
        session: Session,
        user: ConsoleUser,
        *,
        a: int | None = None,
        b: int | None = None,
        seq: int | None = None,
        since: str = "",
        until: str = "",
        draft: str = "",
        problems: list[dict[str, Any]] | None = None,
        valid: bool | None = None,
        notice: str = "",
        status_code: int = 200,
    ) -> HTMLResponse:
        versions = store.configs()
        diff = None
        if a is not None and b is not None:
            try:
                diff = config_diff(store, a, b)
            except LookupError as exc:
                raise HTTPException(404, str(exc)) from None
        if not since and not until:
            since = (datetime.now(UTC) - timedelta(days=7)).date().isoformat()
        start, end = day(since), day(until, "until")
        if end is not None and len(until) <= 10:
            end += timedelta(days=1)  # a date as the end means to the end of that day
        flow = graph = None
        if versions:
            try:
                flow = flow_counts(flow_reads(store), seq=seq, since=start, until=end)
            except LookupError as exc:
                if seq is not None:
                    raise HTTPException(404, str(exc)) from None
            graph = layout(flow) if flow is not None else None
        return ui.page(
            request,
            "routing.html",
            session,
            user,
            status_code=status_code,
            versions=versions,
            a=a,
            b=b,
            diff=diff,
            flow=flow,
            graph=graph,
            since=since,
            until=until,
            draft=draft,
            problems=problems,
            valid=valid,
            notice=notice,
        )

    @app.get("/routing")
    def routing(
        request: Request,
        a: int | None = None,
        b: int | None = None,
        seq: int | None = None,
        since: str = "",
        until: str = "",
        notice: str = "",
    ) -> HTMLResponse:
        """The flow with per-node counts, config versions, a diff of two, a draft check."""
        session, user = ui.login_required(request, roles=MANAGERS, what="routing")
        return routing_page(
            request, session, user, a=a, b=b, seq=seq, since=since, until=until, notice=notice
        )

    @app.post("/routing/validate")
    def routing_validate(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        """Check a draft; with `save` (admins): store it as a draft, or store and activate it."""
        _, user = ui.login_required(request, roles=MANAGERS, what="routing")
        session = ui.checked(request, fields)
        draft = fields.get("source", "")
        save = fields.get("save", "")
        if save and user.role != "admin":
            raise HTTPException(403, "storing or activating a config is for admins")
        if save not in ("", "draft", "activate"):
            raise HTTPException(422, "save is draft or activate")
        if not save:
            loaded, problems = validate_source(store, draft)
            return routing_page(
                request, session, user, draft=draft, problems=problems, valid=loaded is not None
            )
        try:
            seq, _warnings = save_version(store, draft, activate=save == "activate")
        except ConfigRejected as exc:
            return routing_page(
                request,
                session,
                user,
                draft=draft,
                problems=exc.problems,
                valid=False,
                status_code=422,
            )
        if save == "activate":
            ui.state.reset()
            return ui.redirect(request, f"/routing?notice=activated-{seq}")
        return ui.redirect(request, f"/routing?notice=saved-{seq}")

    @app.get("/routing/{seq}/activate")
    def activate_preview(request: Request, seq: int) -> HTMLResponse:
        """What activating version `seq` changes, with the button that does it."""
        session, user = ui.login_required(request, roles=ADMIN, what="activating a config")
        target = store.config(seq)
        if target is None:
            raise HTTPException(404, f"no config #{seq}")
        active = store.config()
        diff = config_diff(store, active.seq, seq) if active is not None else None
        loaded, problems = validate_source(store, target.source)
        return ui.page(
            request,
            "activate.html",
            session,
            user,
            target=target,
            active=active,
            diff=diff,
            problems=problems,
            valid=loaded is not None,
        )

    @app.post("/routing/{seq}/activate")
    def activate(request: Request, seq: int, fields: dict[str, str] = Depends(form)) -> Response:
        ui.login_required(request, roles=ADMIN, what="activating a config")
        ui.checked(request, fields)
        try:
            activate_version(store, seq)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        except ConfigRejected as exc:
            raise HTTPException(422, f"#{seq} is not valid against today's org: {exc}") from None
        ui.state.reset()
        return ui.redirect(request, f"/routing?notice=activated-{seq}")

    @app.post("/routing/rollback")
    def roll_back(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        ui.login_required(request, roles=ADMIN, what="rolling back a config")
        ui.checked(request, fields)
        try:
            seq = rollback(store)
        except LookupError as exc:
            raise HTTPException(409, str(exc)) from None
        except ConfigRejected as exc:
            raise HTTPException(422, f"the earlier version is not valid today: {exc}") from None
        ui.state.reset()
        return ui.redirect(request, f"/routing?notice=activated-{seq}")

    @app.get("/backtest")
    def backtest_form(request: Request, seq: int | None = None) -> HTMLResponse:
        """Replay past leads through a draft (or stored version `seq`): who would have got what."""
        session, user = ui.login_required(request, roles=MANAGERS, what="backtests")
        draft = ""
        if seq is not None:
            stored = store.config(seq)
            if stored is None:
                raise HTTPException(404, f"no config #{seq}")
            draft = stored.source
        return ui.page(request, "backtest.html", session, user, draft=draft, since="", report=None)

    @app.post("/backtest")
    def backtest_run(request: Request, fields: dict[str, str] = Depends(form)) -> HTMLResponse:
        _, user = ui.login_required(request, roles=MANAGERS, what="backtests")
        session = ui.checked(request, fields)
        draft, since = fields.get("source", ""), fields.get("since", "")
        loaded, problems = validate_source(store, draft)
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
            report = run_backtest(store, loaded.config, since=start).as_record()
        return ui.page(
            request,
            "backtest.html",
            session,
            user,
            draft=draft,
            since=since,
            report=report,
            problems=problems,
        )
