"""The web console: server-rendered pages (Jinja2, autoescaped, no JavaScript) under /console.

    GET  /console/login, POST /console/login, POST /console/logout
    GET  /console/                 overview: leads today and this week, speed to lead, SLA
    GET  /console/leads            search and filter leads
    GET  /console/leads/{id}       a lead: fields, decision record, brief, history, notifications
    reps, routing and backtest, analytics: see their modules

Users log in with a console user (`leadroute user add`), not an API key; every POST form
carries a CSRF token.
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadroute.console import access, analytics, queries, reps, routing
from leadroute.console.sessions import Sessions
from leadroute.console.ui import LoginNeeded, Ui, form, templates
from leadroute.services.console_auth import ConsoleAuth
from leadroute.services.lifecycle import events
from leadroute.settings import get_settings

if TYPE_CHECKING:  # the API imports the console
    from leadroute.api.state import ApiState

STATUSES = ("new", "routed", "held", "unrouted", "rejected", "converted", "disqualified")


def console_app(
    state: ApiState, *, secret: str | None = None, auth: ConsoleAuth | None = None
) -> FastAPI:
    """The console over the API's state; mount it at /console. `auth` (default: built from the
    settings) holds the sessions, the login throttle and the audit trail."""
    settings = get_settings()
    if auth is None:
        auth = ConsoleAuth(
            state.store,
            idle=timedelta(minutes=settings.console_idle_minutes),
            lifetime=timedelta(hours=settings.console_session_hours),
        )
    if secret is None and settings.console_secret is not None:
        secret = settings.console_secret.get_secret_value()
    ui = Ui(state, auth.users, Sessions(auth, secret), templates(), settings.public_url)
    store = state.store
    css = resources.files("leadroute.console").joinpath("static/console.css").read_text()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(LoginNeeded)
    async def to_login(request: Request, _exc: LoginNeeded) -> Response:
        target = urllib.parse.quote(request.url.path)
        return ui.redirect(request, f"/login?next={target}")

    @app.exception_handler(HTTPException)
    async def problem(request: Request, exc: HTTPException) -> Response:
        session = ui.session_of(request)
        user = ui.users.get(session.username) if session.username else None
        return ui.page(
            request, "error.html", session, user, status_code=exc.status_code, detail=exc.detail
        )

    @app.get("/static/console.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    # -- login -----------------------------------------------------------------------------

    @app.get("/login")
    def login_page(request: Request, next: str = "") -> HTMLResponse:
        return ui.page(request, "login.html", ui.session_of(request), None, next=next, error=None)

    @app.post("/login")
    def login(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        session = ui.checked(request, fields)
        target = fields.get("next", "")
        tried = auth.login(
            fields.get("username", ""),
            fields.get("password", ""),
            address=ui.address(request),
            user_agent=request.headers.get("user-agent"),
        )
        if tried.user is None or tried.token is None or tried.session is None:
            refused = tried.refused
            again = ui.page(
                request,
                "login.html",
                session,
                None,
                status_code=401 if refused is None else 429,
                next=target,
                error="Wrong username or password." if refused is None else refused.message,
            )
            if refused is not None:
                again.headers["Retry-After"] = str(refused.retry_after)
            return again
        base = ui.base(request)
        if not target.startswith(base + "/") or target.startswith("//"):
            target = base + "/"
        response = RedirectResponse(target, status_code=303)
        if session.id is not None:  # logging in again ends the session before
            auth.sessions.end(session.id)
        ui.set_cookie(response, request, ui.sessions.of(tried.session, tried.token))
        return response

    @app.post("/logout")
    def logout(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        session = ui.checked(request, fields)
        if session.id is not None:
            auth.logout(session.id, username=session.username, address=ui.address(request))
        response = ui.redirect(request, "/login")
        ui.forget_cookie(response, request)
        return response

    # -- pages -----------------------------------------------------------------------------

    @app.get("/")
    def overview(request: Request) -> HTMLResponse:
        session, user = ui.login_required(request)
        visible = queries.visible_reps(user, store.load_org())
        data = queries.overview(store, reps=visible, now=datetime.now(UTC))
        return ui.page(request, "overview.html", session, user, data=data, statuses=STATUSES)

    @app.get("/leads")
    def leads(
        request: Request,
        q: str = "",
        status: str = "",
        rep: str = "",
        route: str = "",
        page_: int = Query(1, alias="page", ge=1, le=1_000_000),
    ) -> HTMLResponse:
        session, user = ui.login_required(request)
        org = store.load_org()
        visible = queries.visible_reps(user, org)
        found = queries.search_leads(
            store, reps=visible, text=q.strip(), status=status, rep=rep, route=route, page=page_
        )
        choices = sorted(org.reps) if visible is None else sorted(visible)
        query = {"q": q, "status": status, "rep": rep, "route": route}
        return ui.page(
            request,
            "leads.html",
            session,
            user,
            found=found,
            filters=query,
            more=urllib.parse.urlencode(query),
            statuses=STATUSES,
            reps=choices,
            routes=queries.routes(store),
        )

    @app.get("/leads/{lead_id:path}")  # ids from files and CRMs may hold a slash
    def lead(request: Request, lead_id: str) -> HTMLResponse:
        session, user = ui.login_required(request)
        org = store.load_org()
        stored = store.lead(lead_id)
        if stored is None or not queries.may_see(user, org, stored):
            raise HTTPException(404, f"no lead '{lead_id}' that you may see")
        history = store.decisions(lead_id)
        current = next((d for d in reversed(history) if d.current), None)
        try:
            brief: dict[str, Any] | None = state.routing.brief(lead_id).as_record()
        except LookupError:
            brief = None
        return ui.page(
            request,
            "lead.html",
            session,
            user,
            lead=stored,
            current=current,
            history=history,
            brief=brief,
            events=events(store, lead_id),
            notifications=queries.notifications(store, lead_id),
        )

    reps.register(app, ui)
    routing.register(app, ui)
    analytics.register(app, ui)
    access.register(app, ui, auth)
    return app
