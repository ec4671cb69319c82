"""The web console: server-rendered pages (Jinja2, autoescaped, no JavaScript) under /console.

    login and logout: login.py; the overview and the leads: leads.py
    reps: reps.py; routing and backtest: routing.py; analytics: analytics.py;
    your account, users and the audit trail: access.py

Each area is an `APIRouter` whose pages ask for what they need with dependencies (deps.py: the
`Ui`, the logged-in user and their role, a CSRF-checked form); `console_app` assembles them.
Users log in with a console user (`leadroute user add`), not an API key; every POST form
carries a CSRF token.
"""

from __future__ import annotations

import urllib.parse
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import Response

from leadroute.console import access, analytics, leads, login, reps, routing
from leadroute.console.deps import ui
from leadroute.console.sessions import Sessions
from leadroute.console.ui import LoginNeeded, Ui, templates
from leadroute.services.console_auth import ConsoleAuth

if TYPE_CHECKING:  # the API imports the console
    from leadroute.api.state import ApiState

AREAS = (login.router, leads.router, reps.router, routing.router, analytics.router, access.router)


STYLESHEET = resources.files("leadroute.console").joinpath("static/console.css")
assets = APIRouter()


@assets.get("/static/console.css", include_in_schema=False)
def stylesheet() -> Response:
    return Response(
        stylesheet_text(), media_type="text/css", headers={"Cache-Control": "max-age=3600"}
    )


@cache
def stylesheet_text() -> str:
    return STYLESHEET.read_text()


async def to_login(request: Request, _exc: Exception) -> Response:
    """A page that needs a login, without one: to the login page, then back."""
    target = urllib.parse.quote(request.url.path)
    return ui(request).redirect(request, f"/login?next={target}")


async def problem(request: Request, exc: Exception) -> Response:
    """A refusal as a page of the console (its status, `detail` in a sentence)."""
    assert isinstance(exc, HTTPException)
    pages = ui(request)
    session = pages.session_of(request)
    user = pages.users.get(session.username) if session.username else None
    return pages.page(
        request, "error.html", session, user, status_code=exc.status_code, detail=exc.detail
    )


def console_app(
    state: ApiState,
    *,
    auth: ConsoleAuth,
    secret: str | None = None,
    public_url: str | None = None,
) -> FastAPI:
    """The console over the API's state; mount it at /console. `auth` holds the sessions, the
    login throttle and the audit trail; `secret` signs the login form's cookie (None: a key per
    process); `public_url` is where users reach the server (its scheme makes cookies Secure).
    The composition root passes the settings' (`leadroute.bootstrap.Root`)."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ui = Ui(state, auth.users, Sessions(auth, secret), templates(), public_url)
    app.add_exception_handler(LoginNeeded, to_login)
    app.add_exception_handler(HTTPException, problem)
    for area in (assets, *AREAS):
        app.include_router(area)
    return app
