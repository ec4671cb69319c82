"""Console pages about access itself.

GET  /console/account                  your sessions; change your password
POST /console/account/password         (ends every session of yours: log in again)
POST /console/account/signout          sign yourself out everywhere
GET  /console/users                    admins: users, live sessions, locks
POST /console/users/{name}/signout     end every session of a user
POST /console/users/{name}/unlock      clear a user's failed logins
POST /console/users/{name}/remove      remove a user (not yourself)
GET  /console/audit                    admins: the audit trail (logins, failures, locks...)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from leadroute.console.deps import AuthDep, CheckedForm, LoggedIn, UiDep, Visitor, logged_in
from leadroute.console.ui import Ui
from leadroute.services.console_auth import ConsoleAuth

ACTIONS = (
    "login",
    "login_failed",
    "login_locked",
    "login_refused",
    "logout",
    "password_changed",
    "signed_out_everywhere",
    "unlocked",
    "user_added",
    "user_removed",
)


router = APIRouter()
Admin = Annotated[Visitor, Depends(logged_in(("admin",), "changing users"))]


def account_page(
    request: Request,
    ui: Ui,
    auth: ConsoleAuth,
    visitor: Visitor,
    *,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    now = auth.clock()
    live = [
        s
        for s in auth.sessions.of_user(visitor.user.username)
        if s.expires_at > now and s.last_seen_at + auth.idle > now
    ]
    return ui.page(
        request,
        "account.html",
        visitor.session,
        visitor.user,
        status_code=status_code,
        sessions=live,
        current=visitor.session.id,
        idle=auth.idle,
        lifetime=auth.lifetime,
        error=error,
    )


def ended(request: Request, ui: Ui) -> Response:
    """Back to the login page, this browser's cookie dropped."""
    response = ui.redirect(request, "/login")
    ui.forget_cookie(response, request)
    return response


def known_user(auth: ConsoleAuth, name: str) -> None:
    if auth.users.get(name) is None:
        raise HTTPException(404, f"no user '{name}'")


@router.get("/account")
def account(request: Request, ui: UiDep, auth: AuthDep, visitor: LoggedIn) -> HTMLResponse:
    return account_page(request, ui, auth, visitor)


@router.post("/account/password")
def change_password(
    request: Request, ui: UiDep, auth: AuthDep, fields: CheckedForm, visitor: LoggedIn
) -> Response:
    new = fields.get("new", "")
    if new != fields.get("again", ""):
        return account_page(
            request, ui, auth, visitor, status_code=422, error="The new passwords differ."
        )
    try:
        auth.change_password(
            visitor.user.username,
            new,
            by=visitor.user.username,
            current=fields.get("current", ""),
            address=ui.address(request),
        )
    except ValueError as exc:
        return account_page(request, ui, auth, visitor, status_code=422, error=f"{exc}.")
    return ended(request, ui)


@router.post("/account/signout")
def sign_out_everywhere(
    request: Request, ui: UiDep, auth: AuthDep, _fields: CheckedForm, visitor: LoggedIn
) -> Response:
    name = visitor.user.username
    auth.sign_out_everywhere(name, by=name, address=ui.address(request))
    return ended(request, ui)


@router.get("/users")
def users(
    request: Request,
    ui: UiDep,
    auth: AuthDep,
    admin: Annotated[Visitor, Depends(logged_in(("admin",), "the users page"))],
) -> HTMLResponse:
    now = auth.clock()
    everyone = auth.users.list()
    keys = [f"user:{u.username}" for u in everyone]
    locks = {
        f.key.removeprefix("user:"): f
        for f in auth.throttle.get(keys)
        if f.locked_until is not None and f.locked_until > now
    }
    return ui.page(
        request,
        "users.html",
        admin.session,
        admin.user,
        users=everyone,
        sessions=auth.sessions.counts(now=now, idle=auth.idle),
        locks=locks,
    )


@router.post("/users/{name}/signout")
def user_signout(
    request: Request, name: str, ui: UiDep, auth: AuthDep, _fields: CheckedForm, admin: Admin
) -> Response:
    known_user(auth, name)
    auth.sign_out_everywhere(name, by=admin.user.username, address=ui.address(request))
    if name == admin.user.username:
        return ended(request, ui)
    return ui.redirect(request, "/users")


@router.post("/users/{name}/unlock")
def user_unlock(
    request: Request, name: str, ui: UiDep, auth: AuthDep, _fields: CheckedForm, admin: Admin
) -> Response:
    known_user(auth, name)
    auth.unlock(name, by=admin.user.username)
    return ui.redirect(request, "/users")


@router.post("/users/{name}/remove")
def user_remove(
    request: Request, name: str, ui: UiDep, auth: AuthDep, _fields: CheckedForm, admin: Admin
) -> Response:
    known_user(auth, name)
    if name == admin.user.username:
        raise HTTPException(409, "you cannot remove yourself; another admin can")
    auth.remove_user(name, by=admin.user.username, address=ui.address(request))
    return ui.redirect(request, "/users")


@router.get("/audit")
def audit(
    request: Request,
    ui: UiDep,
    auth: AuthDep,
    admin: Annotated[Visitor, Depends(logged_in(("admin",), "the audit trail"))],
    action: str = "",
    actor: str = Query("", max_length=120),
    days: int = Query(7, ge=1, le=3650),
) -> HTMLResponse:
    if action and action not in ACTIONS:
        raise HTTPException(404, f"no audit action '{action}'")
    found = auth.audit.list(
        since=auth.clock() - timedelta(days=days), action=action, actor=actor, limit=500
    )
    return ui.page(
        request,
        "audit.html",
        admin.session,
        admin.user,
        events=found,
        actions=ACTIONS,
        filters={"action": action, "actor": actor, "days": days},
    )
