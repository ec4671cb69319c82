"""What the console's pages depend on, as FastAPI dependencies.

`console_app` keeps the `Ui` (templates, sessions, the API's state) on `app.state.ui`; a page
asks for it with `UiDep`, for the logged-in user with `LoggedIn` (or `logged_in(roles, what)`
when the page is for some roles: 403 naming them otherwise; the login page without a session),
and for a POSTed form whose CSRF token is right with `CheckedForm`. The dependencies run in
the order of the page's parameters: a page that checks the form before the login lists
`CheckedForm` first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request

from leadroute.adapters.store.console_store import ConsoleUser
from leadroute.console.sessions import Session
from leadroute.console.ui import Ui, form
from leadroute.services.console_auth import ConsoleAuth


def ui(request: Request) -> Ui:
    return cast(Ui, request.app.state.ui)


def console_auth(request: Request) -> ConsoleAuth:
    """Logins, sessions, the throttle and the audit trail."""
    return ui(request).sessions.auth


UiDep = Annotated[Ui, Depends(ui)]
AuthDep = Annotated[ConsoleAuth, Depends(console_auth)]


@dataclass(frozen=True)
class Visitor:
    """A logged-in user and their session."""

    session: Session
    user: ConsoleUser


def logged_in(roles: tuple[str, ...] = (), what: str = "this page") -> Callable[..., Visitor]:
    """A dependency: the logged-in visitor (to the login page without one; 403 when their role
    is not in `roles`, saying `what` is for whom)."""

    def visitor(request: Request, pages: UiDep) -> Visitor:
        session, user = pages.login_required(request, roles=roles, what=what)
        return Visitor(session, user)

    return visitor


def checked_form(
    request: Request, pages: UiDep, fields: dict[str, str] = Depends(form)
) -> dict[str, str]:
    """A POSTed form's fields once its CSRF token is checked (403 otherwise)."""
    pages.checked(request, fields)
    return fields


LoggedIn = Annotated[Visitor, Depends(logged_in())]
CheckedForm = Annotated[dict[str, str], Depends(checked_form)]
