"""Routing pages (admins and managers).

GET  /console/routing            config versions, a diff of two
POST /console/routing/validate   a draft checked against the org, problems at their lines
GET  /console/backtest, POST /console/backtest   replay past leads through a draft
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse

from leadroute.adapters.store.console_store import ConsoleUser
from leadroute.console.sessions import Session
from leadroute.console.ui import MANAGERS, Ui, day, form
from leadroute.services.backtest import backtest as run_backtest
from leadroute.services.configs import config_diff, validate_source


def register(app: FastAPI, ui: Ui) -> None:
    store = ui.store

    def routing_page(
        request: Request,
        session: Session,
        user: ConsoleUser,
        *,
        a: int | None = None,
        b: int | None = None,
        draft: str = "",
        problems: list[dict[str, Any]] | None = None,
        valid: bool | None = None,
    ) -> HTMLResponse:
        versions = store.configs()
        diff = None
        if a is not None and b is not None:
            try:
                diff = config_diff(store, a, b)
            except LookupError as exc:
                raise HTTPException(404, str(exc)) from None
        return ui.page(
            request,
            "routing.html",
            session,
            user,
            versions=versions,
            a=a,
            b=b,
            diff=diff,
            draft=draft,
            problems=problems,
            valid=valid,
        )

    @app.get("/routing")
    def routing(request: Request, a: int | None = None, b: int | None = None) -> HTMLResponse:
        """Config versions, a diff of two, and a draft checked against the org."""
        session, user = ui.login_required(request, roles=MANAGERS, what="routing")
        return routing_page(request, session, user, a=a, b=b)

    @app.post("/routing/validate")
    def routing_validate(request: Request, fields: dict[str, str] = Depends(form)) -> HTMLResponse:
        _, user = ui.login_required(request, roles=MANAGERS, what="routing")
        session = ui.checked(request, fields)
        draft = fields.get("source", "")
        loaded, problems = validate_source(store, draft)
        return routing_page(
            request, session, user, draft=draft, problems=problems, valid=loaded is not None
        )

    @app.get("/backtest")
    def backtest_form(request: Request) -> HTMLResponse:
        """Replay past leads through a draft: who would have got what."""
        session, user = ui.login_required(request, roles=MANAGERS, what="backtests")
        return ui.page(request, "backtest.html", session, user, draft="", since="", report=None)

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
