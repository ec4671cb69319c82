"""Logging in and out.

GET  /console/login, POST /console/login, POST /console/logout
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from leadroute.console.deps import AuthDep, UiDep
from leadroute.console.ui import form

router = APIRouter()


@router.get("/login")
def login_page(request: Request, ui: UiDep, next: str = "") -> HTMLResponse:
    return ui.page(request, "login.html", ui.session_of(request), None, next=next, error=None)


@router.post("/login")
def login(
    request: Request, ui: UiDep, auth: AuthDep, fields: dict[str, str] = Depends(form)
) -> Response:
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


@router.post("/logout")
def logout(
    request: Request, ui: UiDep, auth: AuthDep, fields: dict[str, str] = Depends(form)
) -> Response:
    session = ui.checked(request, fields)
    if session.id is not None:
        auth.logout(session.id, username=session.username, address=ui.address(request))
    response = ui.redirect(request, "/login")
    ui.forget_cookie(response, request)
    return response
