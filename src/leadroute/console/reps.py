"""Reps pages.

GET  /console/reps              availability, out of office, caps, open load
POST /console/reps/{id}/status  pause or resume a rep (admins)
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from leadroute.adapters import orgfile
from leadroute.console import queries
from leadroute.console.ui import Ui, form
from leadroute.domain.org import RepStatus, build_org


def register(app: FastAPI, ui: Ui) -> None:
    store, state = ui.store, ui.state

    @app.get("/reps")
    def reps_page(request: Request) -> HTMLResponse:
        session, user = ui.login_required(request)
        org = store.load_org()
        visible = queries.visible_reps(user, org)
        now = datetime.now(UTC)
        shown = [r for r in org.reps.values() if visible is None or r.id in visible]
        return ui.page(
            request,
            "reps.html",
            session,
            user,
            reps=shown,
            absent={r.id: r.absence_at(now) for r in shown},
            loads=queries.open_loads(store),
            teams=org.teams,
        )

    @app.post("/reps/{rep_id}/status")
    def rep_status(
        request: Request, rep_id: str, fields: dict[str, str] = Depends(form)
    ) -> Response:
        ui.login_required(request, roles=("admin",), what="pausing or resuming a rep")
        ui.checked(request, fields)
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
        return ui.redirect(request, "/reps")
