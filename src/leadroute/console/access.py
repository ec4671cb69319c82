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

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from leadroute.adapters.store.console_store import ConsoleUser
from leadroute.console.sessions import Session
from leadroute.console.ui import Ui, form
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


def register(app: FastAPI, ui: Ui, auth: ConsoleAuth) -> None:
    def account_page(
        request: Request,
        session: Session,
        user: ConsoleUser,
        *,
        status_code: int = 200,
        error: str | None = None,
    ) -> HTMLResponse:
        now = auth.clock()
        live = [
            s
            for s in auth.sessions.of_user(user.username)
            if s.expires_at > now and s.last_seen_at + auth.idle > now
        ]
        return ui.page(
            request,
            "account.html",
            session,
            user,
            status_code=status_code,
            sessions=live,
            current=session.id,
            idle=auth.idle,
            lifetime=auth.lifetime,
            error=error,
        )

    def ended(request: Request) -> Response:
        """Back to the login page, this browser's cookie dropped."""
        response = ui.redirect(request, "/login")
        ui.forget_cookie(response, request)
        return response

    @app.get("/account")
    def account(request: Request) -> HTMLResponse:
        session, user = ui.login_required(request)
        return account_page(request, session, user)

    @app.post("/account/password")
    def change_password(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        ui.checked(request, fields)
        session, user = ui.login_required(request)
        new = fields.get("new", "")
        if new != fields.get("again", ""):
            return account_page(
                request, session, user, status_code=422, error="The new passwords differ."
            )
        try:
            auth.change_password(
                user.username,
                new,
                by=user.username,
                current=fields.get("current", ""),
                address=ui.address(request),
            )
        except ValueError as exc:
            return account_page(request, session, user, status_code=422, error=f"{exc}.")
        return ended(request)

    @app.post("/account/signout")
    def sign_out_everywhere(request: Request, fields: dict[str, str] = Depends(form)) -> Response:
        ui.checked(request, fields)
        _, user = ui.login_required(request)
        auth.sign_out_everywhere(user.username, by=user.username, address=ui.address(request))
        return ended(request)

    @app.get("/users")
    def users(request: Request) -> HTMLResponse:
        session, user = ui.login_required(request, roles=("admin",), what="the users page")
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
            session,
            user,
            users=everyone,
            sessions=auth.sessions.counts(now=now, idle=auth.idle),
            locks=locks,
        )

    def admin_post(request: Request, fields: dict[str, str], name: str) -> ConsoleUser:
        ui.checked(request, fields)
        _, admin = ui.login_required(request, roles=("admin",), what="changing users")
        if auth.users.get(name) is None:
            raise HTTPException(404, f"no user '{name}'")
        return admin

    @app.post("/users/{name}/signout")
    def user_signout(
        request: Request, name: str, fields: dict[str, str] = Depends(form)
    ) -> Response:
        admin = admin_post(request, fields, name)
        auth.sign_out_everywhere(name, by=admin.username, address=ui.address(request))
        return ended(request) if name == admin.username else ui.redirect(request, "/users")

    @app.post("/users/{name}/unlock")
    def user_unlock(
        request: Request, name: str, fields: dict[str, str] = Depends(form)
    ) -> Response:
        admin = admin_post(request, fields, name)
        auth.unlock(name, by=admin.username)
        return ui.redirect(request, "/users")

    @app.post("/users/{name}/remove")
    def user_remove(
        request: Request, name: str, fields: dict[str, str] = Depends(form)
    ) -> Response:
        admin = admin_post(request, fields, name)
        if name == admin.username:
            raise HTTPException(409, "you cannot remove yourself; another admin can")
        auth.remove_user(name, by=admin.username, address=ui.address(request))
        return ui.redirect(request, "/users")

    @app.get("/audit")
    def audit(
        request: Request,
        action: str = "",
        actor: str = Query("", max_length=120),
        days: int = Query(7, ge=1, le=3650),
    ) -> HTMLResponse:
        session, user = ui.login_required(request, roles=("admin",), what="the audit trail")
        if action and action not in ACTIONS:
            raise HTTPException(404, f"no audit action '{action}'")
        found = auth.audit.list(
            since=auth.clock() - timedelta(days=days), action=action, actor=actor, limit=500
        )
        return ui.page(
            request,
            "audit.html",
            session,
            user,
            events=found,
            actions=ACTIONS,
            filters={"action": action, "actor": actor, "days": days},
        )
