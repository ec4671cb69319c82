"""What every console page shares: templates, the session cookie, login and role checks, the
CSRF check of forms. The pages get the `Ui` (and the user) through console/deps.py."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape

from leadroute.adapters.store.console_store import ConsoleUser, ConsoleUserStore
from leadroute.console import queries
from leadroute.console.sessions import COOKIE, Session, Sessions

if TYPE_CHECKING:  # the API imports the console
    from leadroute.adapters.store.sql import Store
    from leadroute.api.state import ApiState

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MANAGERS = ("admin", "manager")


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


def _percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def templates() -> Environment:
    env = Environment(
        loader=PackageLoader("leadroute.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    env.filters["show"] = _show
    env.filters["seconds"] = _seconds
    env.filters["percent"] = _percent
    return env


async def form(request: Request) -> dict[str, str]:
    """A POSTed form's fields (the last value of each)."""
    body = (await request.body()).decode("utf-8", "replace")
    return {k: v[-1] for k, v in urllib.parse.parse_qs(body, keep_blank_values=True).items()}


def day(text: str, name: str = "since") -> datetime | None:
    """A YYYY-MM-DD (or ISO) date from a form, as UTC; None when empty; 400 when not a date."""
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise HTTPException(400, f"{name}: '{text}' is not a date (YYYY-MM-DD)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


ANONYMOUS_LIFETIME = 3600  # seconds a login form's cookie lasts


@dataclass
class Ui:
    state: ApiState
    users: ConsoleUserStore
    sessions: Sessions
    env: Environment
    public_url: str | None = None

    @property
    def store(self) -> Store:
        return self.state.store

    def base(self, request: Request) -> str:
        return str(request.scope.get("root_path", "")).rstrip("/")

    def redirect(self, request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(f"{self.base(request)}{path}", status_code=303)

    def secure(self, request: Request) -> bool:
        """Cookies are Secure when the console is reached over https (or its public URL is)."""
        public = (self.public_url or "").lower()
        return request.url.scheme == "https" or public.startswith("https://")

    def set_cookie(self, response: Response, request: Request, session: Session) -> None:
        lifetime = self.sessions.auth.lifetime.total_seconds()
        response.set_cookie(
            COOKIE,
            self.sessions.dump(session),
            max_age=int(lifetime) if session.id is not None else ANONYMOUS_LIFETIME,
            path=self.base(request) or "/",
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
        )

    def forget_cookie(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            COOKIE,
            path=self.base(request) or "/",
            httponly=True,
            samesite="lax",
            secure=self.secure(request),
        )

    def address(self, request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def page(
        self,
        request: Request,
        name: str,
        session: Session,
        user: ConsoleUser | None,
        status_code: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(
            base=self.base(request), user=user, csrf=self.sessions.csrf(session), **context
        )
        response = HTMLResponse(html, status_code=status_code, headers=HEADERS)
        if getattr(request.state, "console_session_new", False) or session.token is not None:
            self.set_cookie(response, request, session)
        return response

    def loaded(self, request: Request) -> Session | None:
        """The session the request's cookie names (read from the store once per request)."""
        if not hasattr(request.state, "console_session"):
            request.state.console_session = self.sessions.load(request.cookies.get(COOKIE))
        found: Session | None = request.state.console_session
        return found

    def session_of(self, request: Request) -> Session:
        """The request's session, or a new anonymous one (kept for the rest of the request)."""
        found = self.loaded(request)
        if found is None:
            found = request.state.console_session = self.sessions.anonymous()
            request.state.console_session_new = True
        return found

    def login_required(
        self, request: Request, *, roles: tuple[str, ...] = (), what: str = "this page"
    ) -> tuple[Session, ConsoleUser]:
        """The session and user; LoginNeeded without one; 403 when the role is not in `roles`."""
        session = self.loaded(request)
        user = self.users.get(session.username) if session and session.username else None
        if session is None or user is None:
            raise LoginNeeded()
        if roles and user.role not in roles:
            raise HTTPException(403, f"{what} is for {' and '.join(r + 's' for r in roles)}")
        return session, user

    def checked(self, request: Request, fields: dict[str, str]) -> Session:
        """The session of a POSTed form whose CSRF token is right; 403 otherwise."""
        session = self.loaded(request)
        if session is None or not self.sessions.csrf_ok(session, fields.get("csrf", "")):
            raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
        return session
