"""Analytics pages (admins and managers).

GET /console/analytics                  speed to lead and conversion by route, rep, config,
                                        source, segment
GET /console/analytics.csv              the same table as CSV
GET /console/analytics/fairness         leads per rep per day or week, per pool or team: spread
                                        and Gini over time, as a chart and a table
GET /console/analytics/fairness.csv     the same rows as CSV
GET /console/analytics/criteria         which criteria convert best: conversion, 95% interval,
                                        lift per value of each criterion
GET /console/analytics/criteria.csv     the same rows as CSV
"""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from leadroute.adapters.store.sql import Store
from leadroute.console.deps import UiDep, Visitor, logged_in
from leadroute.console.svg import Bar, Series, bar_chart, line_chart
from leadroute.console.ui import HEADERS, MANAGERS, day
from leadroute.services.reports import (
    CRITERIA,
    DEFAULT_CRITERIA,
    GROUPINGS,
    PERIODS,
    SCOPES,
    CriteriaReport,
    CriterionValue,
    FairnessReport,
    Performance,
    criteria,
    fairness,
    performance,
    performance_rows,
    to_csv,
)

DAYS = 30  # fairness and criteria without a start date: the last 30 days
METRICS = ("spread", "gini")
CHOICES = tuple(
    dict.fromkeys([*DEFAULT_CRITERIA, *CRITERIA, "channel", "department", "request_type"])
)
SHOWN = 50  # rows of one criterion's table (the CSV has them all)


def _csv(text: str, name: str) -> Response:
    return Response(
        text,
        media_type="text/csv",
        headers={**HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def _period(since: str, until: str) -> tuple[datetime, datetime | None, str]:
    """The report's [since, until) from the form, with the start date to show back."""
    start = day(since)
    if start is None:
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        start = today - timedelta(days=DAYS)
    return start, day(until, "until"), start.date().isoformat()


def _min_leads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise HTTPException(400, f"min_leads: '{text}' is not a whole number") from None
    if value < 1:
        raise HTTPException(400, "min_leads: 1 or more")
    return value


router = APIRouter()
Manager = Annotated[Visitor, Depends(logged_in(MANAGERS, "analytics"))]


def grouped(store: Store, by: str, since: str) -> list[Performance]:
    if by not in GROUPINGS:
        raise HTTPException(400, f"group by one of {', '.join(GROUPINGS)}")
    return performance(store, by=by, since=day(since))


@router.get("/analytics")
def analytics(
    request: Request, ui: UiDep, visitor: Manager, by: str = "route", since: str = ""
) -> HTMLResponse:
    """Speed to lead and conversion by route, rep, config version, source or segment."""
    rows = [g.as_record() for g in grouped(ui.store, by, since)]
    return ui.page(
        request,
        "analytics.html",
        visitor.session,
        visitor.user,
        rows=rows,
        by=by,
        since=since,
        groupings=GROUPINGS,
        csv_query=urllib.parse.urlencode({"by": by, "since": since}),
    )


@router.get("/analytics.csv")
def analytics_csv(ui: UiDep, _visitor: Manager, by: str = "route", since: str = "") -> Response:
    rows = performance_rows(grouped(ui.store, by, since))
    return _csv(to_csv(rows, () if rows else ["key"]), f"by-{by}.csv")


# -- fairness over time ----------------------------------------------------------------


def fairness_data(
    store: Store, since: str, until: str, period: str, by: str
) -> tuple[FairnessReport, str]:
    start, end, shown = _period(since, until)
    try:
        return fairness(store, since=start, until=end, period=period, by=by), shown
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


@router.get("/analytics/fairness")
def fairness_page(
    request: Request,
    ui: UiDep,
    visitor: Manager,
    since: str = "",
    until: str = "",
    period: str = "day",
    by: str = "pool",
    metric: str = "spread",
) -> HTMLResponse:
    """Leads per rep per day or week, per pool or team, over time."""
    if metric not in METRICS:
        raise HTTPException(400, f"chart: one of {', '.join(METRICS)}")
    report, shown = fairness_data(ui.store, since, until, period, by)
    names = {rep_id: rep.name for rep_id, rep in ui.store.load_org().reps.items()}
    query = {"since": since, "until": until, "period": period, "by": by}
    return ui.page(
        request,
        "analytics_fairness.html",
        visitor.session,
        visitor.user,
        report=report,
        chart=_fairness_chart(report, metric),
        names=names,
        since=shown,
        until=until,
        period=period,
        by=by,
        metric=metric,
        periods=PERIODS,
        scopes=SCOPES,
        metrics=METRICS,
        csv_query=urllib.parse.urlencode(query),
    )


@router.get("/analytics/fairness.csv")
def fairness_csv(
    ui: UiDep,
    _visitor: Manager,
    since: str = "",
    until: str = "",
    period: str = "day",
    by: str = "pool",
) -> Response:
    report, shown = fairness_data(ui.store, since, until, period, by)
    return _csv(to_csv(report.csv_rows()), f"fairness-{by}-{period}-since-{shown}.csv")


# -- which criteria convert best -------------------------------------------------------


def criteria_data(
    store: Store, since: str, until: str, fields: list[str], min_leads: str
) -> tuple[CriteriaReport, str, list[str]]:
    start, end, shown = _period(since, until)
    parts = (part.strip() for text in fields for part in text.split(","))
    wanted = list(dict.fromkeys(p for p in parts if p)) or list(DEFAULT_CRITERIA)
    try:
        report = criteria(
            store, since=start, until=end, fields=wanted, min_leads=_min_leads(min_leads)
        )
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return report, shown, wanted


@router.get("/analytics/criteria")
def criteria_page(
    request: Request,
    ui: UiDep,
    visitor: Manager,
    since: str = "",
    until: str = "",
    field: list[str] = Query(default=[]),
    min_leads: str = "30",
) -> HTMLResponse:
    """Which criteria produce the best results: conversion and lift per value."""
    report, shown, wanted = criteria_data(ui.store, since, until, field, min_leads)
    query = [("since", since), ("until", until), ("min_leads", min_leads)]
    query += [("field", f) for f in wanted]
    return ui.page(
        request,
        "analytics_criteria.html",
        visitor.session,
        visitor.user,
        report=report,
        best=report.ranked()[:15],
        charts={c.name: _criteria_chart(c.name, c.values) for c in report.criteria},
        shown=SHOWN,
        since=shown,
        until=until,
        min_leads=min_leads,
        wanted=wanted,
        choices=CHOICES,
        other=[f for f in wanted if f not in CHOICES],
        csv_query=urllib.parse.urlencode(query),
    )


@router.get("/analytics/criteria.csv")
def criteria_csv(
    ui: UiDep,
    _visitor: Manager,
    since: str = "",
    until: str = "",
    field: list[str] = Query(default=[]),
    min_leads: str = "30",
) -> Response:
    report, shown, _ = criteria_data(ui.store, since, until, field, min_leads)
    return _csv(to_csv(report.csv_rows()), f"criteria-since-{shown}.csv")


def _fairness_chart(report: FairnessReport, metric: str) -> Markup:
    order = list(dict.fromkeys(row.period for row in report.rows))
    lines = [
        Series(
            scope,
            [
                (row.period, float(row.spread.spread if metric == "spread" else row.spread.gini))
                for row in report.rows
                if row.scope == scope
            ],
        )
        for scope in report.scopes()
    ]
    what = "Spread (most minus fewest leads)" if metric == "spread" else "Gini coefficient"
    return line_chart(
        lines,
        title=f"{what} per {report.period} and {report.by}",
        x_label=f"{report.period} (UTC)",
        y_label="leads" if metric == "spread" else "Gini",
        x_order=order,
        y_format=(lambda v: f"{v:g}") if metric == "spread" else (lambda v: f"{v:.2f}"),
        whole=metric == "spread",
    )


def _criteria_chart(name: str, values: list[CriterionValue]) -> Markup:
    bars = [
        Bar(
            v.value,
            v.conversion,
            low=v.interval[0],
            high=v.interval[1],
            note=f"{v.closed} closed, lift {v.lift:.2f}, {v.signal}"
            if v.lift is not None
            else f"{v.closed} closed, {v.signal}",
        )
        for v in values[:20]
        if v.conversion is not None and v.interval is not None
    ]
    baseline = values[0].baseline if values else None
    return bar_chart(
        bars,
        title=f"Conversion by {name}, with 95% intervals",
        x_label="conversion (converted among converted and disqualified)",
        reference=baseline,
        reference_label="all leads",
        x_format=lambda v: f"{v:.0%}",
    )
