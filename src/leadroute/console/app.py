"""The web console: server-rendered pages (Jinja2, autoescaped, no JavaScript) under /console.

    GET  /console/login, POST /console/login, POST /console/logout
    GET  /console/                 overview: leads today and this week, speed to lead, SLA
    GET  /console/leads            search and filter leads
    GET  /console/leads/{id}       a lead: fields, decision record, brief, history, notifications
    GET  /console/reps             availability, out of office, caps, open load
    POST /console/reps/{id}/status pause or resume a rep (admins)

Users log in with a console user (`leadroute user add`), not an API key; every POST form
carries a CSRF token.
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from datetime import UTC, datetime
from importlib import resources
from typing import TYPE_CHECKING, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from leadroute.adapters import orgfile
from leadroute.adapters.store.console_store import ConsoleUser, ConsoleUserStore
from leadroute.console import queries
from leadroute.console.sessions import COOKIE, LIFETIME, Session, Sessions
from leadroute.domain.org import RepStatus, build_org
from leadroute.services.backtest import backtest as run_backtest
from leadroute.services.configs import config_diff, validate_source
from leadroute.services.lifecycle import events
from leadroute.services.reports import GROUPINGS, performance

if TYPE_CHECKING:  # the API imports the console
    from leadroute.api.state import ApiState

STATUSES = ("new", "routed", "held", "unrouted", "rejected", "converted", "disqualified")
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class LoginNeeded(Exception):
    pass


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return queries.when(value)
    return str(value)


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 120:
        return f"{value:.0f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def console_app(state: ApiState, *, secret: str | None = None) -> FastAPI:
    """The console over the API's state; mount it at /console."""
    store = state.store
    users = ConsoleUserStore(store)
    sessions = Sessions(secret)
    env = Environment(
        loader=PackageLoader("leadroute.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["show"] = _show
    env.filters["seconds"] = _seconds
    css = resources.files("leadroute.console").joinpath("static/console.css").read_text()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    def base(request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def set_cookie(response: Response, request: Request, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            sessions.dump(session),
            max_age=LIFETIME,
            path=base(request) or "/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def page(
        request: Request,
        name: str,
        session: Session,
        user: ConsoleUser | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        html = env.get_template(name).render(
            base=base(request), user=user, csrf=sessions.csrf(session), **context
        )
        response = HTMLResponse(html, status_code=status_code, headers=HEADERS)
        if request.cookies.get(COOKIE) is None or sessions.load(request.cookies[COOKIE]) is None:
            set_cookie(response, request, session)
        return response

    def session_of(request: Request) -> Session:
        return sessions.load(request.cookies.get(COOKIE)) or sessions.new()

    def login_required(request: Request) -> tuple[Session, ConsoleUser]:
        session = sessions.load(request.cookies.get(COOKIE))
        user = users.get(session.username) if session and session.username else None
        if session is None or user is None:
            raise LoginNeeded()
        return session, user

    async def form(request: Request) -> dict[str, str]:
        body = (await request.body()).decode("utf-8", "replace")
        return {k: v[-1] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}

    def checked(request: Request, fields: dict[str, str]) -> Session:
        session = sessions.load(request.cookies.get(COOKIE))
        if session is None or not sessions.csrf_ok(session, fields.get("csrf", "")):
            raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
        return session

    @app.exception_handler(LoginNeeded)
    async def to_login(request: Request, _exc: LoginNeeded) -> Response:
        target = urllib.parse.quote(request.url.path)
        return RedirectResponse(f"{base(request)}/login?next={target}", status_code=303)

    @app.exception_handler(HTTPException)
    async def problem(request: Request, exc: HTTPException) -> Response:
        session = session_of(request)
        user = users.get(session.username) if session.username else None
        return page(
            request, "error.html", session, user, status_code=exc.status_code, detail=exc.detail
        )

    @app.get("/static/console.css", include_in_schema=False)
    def stylesheet() -> Response:
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    # -- login -----------------------------------------------------------------------------

    @app.get("/login")
    def login_page(request: Request, next: str = "") -> HTMLResponse:
        return page(request, "login.html", session_of(request), None, next=next, error=None)

    @app.post("/login")
    def login(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        session = checked(request, fields)
        user = users.verify(fields.get("username", ""), fields.get("password", ""))
        target = fields.get("next", "")
        if user is None:
            return page(
                request,
                "login.html",
                session,
                None,
                status_code=401,
                next=target,
                error="Wrong username or password.",
            )
        if not target.startswith(base(request) + "/") or target.startswith("//"):
            target = base(request) + "/"
        response = RedirectResponse(target, status_code=303)
        set_cookie(response, request, sessions.new(user.username))  # a new nonce at login
        return response

    @app.post("/logout")
    def logout(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        checked(request, fields)
        response = RedirectResponse(f"{base(request)}/login", status_code=303)
        set_cookie(response, request, sessions.new())
        return response

    # -- pages -----------------------------------------------------------------------------

    @app.get("/")
    def overview(request: Request) -> HTMLResponse:
        session, user = login_required(request)
        reps = queries.visible_reps(user, store.load_org())
        data = queries.overview(store, reps=reps, now=datetime.now(UTC))
        return page(request, "overview.html", session, user, data=data, statuses=STATUSES)

    @app.get("/leads")
    def leads(
        request: Request,
        q: str = "",
        status: str = "",
        rep: str = "",
        route: str = "",
        page_: int = Query(1, alias="page", ge=1),
    ) -> HTMLResponse:
        session, user = login_required(request)
        org = store.load_org()
        reps = queries.visible_reps(user, org)
        found = queries.search_leads(
            store, reps=reps, text=q.strip(), status=status, rep=rep, route=route, page=page_
        )
        choices = sorted(org.reps) if reps is None else sorted(reps)
        query = {"q": q, "status": status, "rep": rep, "route": route}
        return page(
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

    @app.get("/leads/{lead_id}")
    def lead(request: Request, lead_id: str) -> HTMLResponse:
        session, user = login_required(request)
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
        return page(
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

    @app.get("/reps")
    def reps_page(request: Request) -> HTMLResponse:
        session, user = login_required(request)
        org = store.load_org()
        reps = queries.visible_reps(user, org)
        now = datetime.now(UTC)
        shown = [r for r in org.reps.values() if reps is None or r.id in reps]
        return page(
            request,
            "reps.html",
            session,
            user,
            reps=shown,
            absent={r.id: r.absence_at(now) for r in shown},
            loads=queries.open_loads(store),
            teams=org.teams,
        )

    def analytics_data(
        user: ConsoleUser, by: str, since: str
    ) -> tuple[list[dict[str, Any]], datetime | None]:
        if user.role == "rep":
            raise HTTPException(403, "analytics are for admins and managers")
        if by not in GROUPINGS:
            raise HTTPException(400, f"group by one of {', '.join(GROUPINGS)}")
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
        except ValueError:
            raise HTTPException(400, f"'{since}' is not a date (YYYY-MM-DD)") from None
        return [g.as_record() for g in performance(store, by=by, since=start)], start

    @app.get("/analytics")
    def analytics(request: Request, by: str = "route", since: str = "") -> HTMLResponse:
        """Speed to lead and conversion by route, rep, config version, source or segment."""
        session, user = login_required(request)
        rows, _ = analytics_data(user, by, since)
        return page(
            request,
            "analytics.html",
            session,
            user,
            rows=rows,
            by=by,
            since=since,
            groupings=GROUPINGS,
            csv_query=urllib.parse.urlencode({"by": by, "since": since}),
        )

    @app.get("/analytics.csv")
    def analytics_csv(request: Request, by: str = "route", since: str = "") -> Response:
        _, user = login_required(request)
        rows, _ = analytics_data(user, by, since)
        out = io.StringIO()
        columns = [k for k in rows[0] if k != "outcomes"] if rows else ["key"]
        writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={**HEADERS, "Content-Disposition": f'attachment; filename="by-{by}.csv"'},
        )

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
        return page(
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
        session, user = login_required(request)
        if user.role == "rep":
            raise HTTPException(403, "routing is for admins and managers")
        return routing_page(request, session, user, a=a, b=b)

    @app.post("/routing/validate")
    def routing_validate(request: Request, fields: dict[str, str] = Depends(form)) -> HTMLResponse:
        _, user = login_required(request)
        session = checked(request, fields)
        if user.role == "rep":
            raise HTTPException(403, "routing is for admins and managers")
        draft = fields.get("source", "")
        loaded, problems = validate_source(store, draft)
        return routing_page(
            request, session, user, draft=draft, problems=problems, valid=loaded is not None
        )

    @app.get("/backtest")
    def backtest_form(request: Request) -> HTMLResponse:
        """Replay past leads through a draft: who would have got what."""
        session, user = login_required(request)
        if user.role == "rep":
            raise HTTPException(403, "backtests are for admins and managers")
        return page(request, "backtest.html", session, user, draft="", since="", report=None)

    @app.post("/backtest")
    def backtest_run(request: Request, fields: dict[str, str] = Depends(form)) -> HTMLResponse:
        _, user = login_required(request)
        session = checked(request, fields)
        if user.role == "rep":
            raise HTTPException(403, "backtests are for admins and managers")
        draft, since = fields.get("source", ""), fields.get("since", "")
        loaded, problems = validate_source(store, draft)
        report = None
        try:
            start = datetime.fromisoformat(since).replace(tzinfo=UTC) if since else None
        except ValueError:
            start = None
            problems.append({"line": None, "severity": "error", "message": "since: not a date"})
        if loaded is not None and loaded.config is not None and start is not None:
            report = run_backtest(store, loaded.config, since=start).as_record()
        elif start is None and not any(p["message"] == "since: not a date" for p in problems):
            problems.append({"line": None, "severity": "error", "message": "give a start date"})
        return page(
            request,
            "backtest.html",
            session,
            user,
            draft=draft,
            since=since,
            report=report,
            problems=problems,
        )

    @app.post("/reps/{rep_id}/status")
    def rep_status(
        request: Request, rep_id: str, fields: dict[str, str] = Depends(form)
    ) -> Response:
        _session, user = login_required(request)
        checked(request, fields)
        if user.role != "admin":
            raise HTTPException(403, "only an admin may pause or resume a rep")
        try:
            status = RepStatus(fields.get("status", ""))
        except ValueError:
            raise HTTPException(422, "status is active or paused") from None
        if status not in (RepStatus.ACTIVE, RepStatus.PAUSED):
            raise HTTPException(422, "status is active or paused")
        rep = store.load_org().reps.get(rep_id)
        if rep is None:
            raise HTTPException(404, f"no rep '{rep_id}'")
        updated = orgfile.rep_from_doc(orgfile.rep_to_doc(rep) | {"status": status.value})
        with state.lock:
            state.routing.load_org(build_org(reps=[updated]))
        state.reset()
        return RedirectResponse(f"{base(request)}/reps", status_code=303)

    return app
