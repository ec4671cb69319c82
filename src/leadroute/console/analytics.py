"""Analytics pages (admins and managers).

GET /console/analytics       speed to lead and conversion by route, rep, config, source, segment
GET /console/analytics.csv   the same table as CSV
"""

from __future__ import annotations

import csv
import io
import urllib.parse
from datetime import datetime
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from leadroute.adapters.store.console_store import ConsoleUser
from leadroute.console.ui import HEADERS, MANAGERS, Ui, day
from leadroute.services.reports import GROUPINGS, performance


def register(app: FastAPI, ui: Ui) -> None:
    store = ui.store

    def analytics_data(
        user: ConsoleUser, by: str, since: str
    ) -> tuple[list[dict[str, Any]], datetime | None]:
        if by not in GROUPINGS:
            raise HTTPException(400, f"group by one of {', '.join(GROUPINGS)}")
        start = day(since)
        return [g.as_record() for g in performance(store, by=by, since=start)], start

    @app.get("/analytics")
    def analytics(request: Request, by: str = "route", since: str = "") -> HTMLResponse:
        """Speed to lead and conversion by route, rep, config version, source or segment."""
        session, user = ui.login_required(request, roles=MANAGERS, what="analytics")
        rows, _ = analytics_data(user, by, since)
        return ui.page(
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
        _, user = ui.login_required(request, roles=MANAGERS, what="analytics")
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
