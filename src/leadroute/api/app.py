"""The HTTP API: engagement events in, lead briefs out.

    POST /v1/activities          one event, or {"events": [...]}; parked leads it wakes are
                                 re-routed and listed in the answer
    GET  /v1/leads/{id}/brief    what the rep gets with the lead: route, scores with reasons,
                                 recent activity
    GET  /v1/health              the store answers

Every event sent ends as stored, duplicate or rejected (with its index and reason); a single
event that is rejected answers 422 with the reason.
"""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from leadroute.adapters.store.sql import Store
from leadroute.services.activities import ActivityService
from leadroute.services.routing import RoutingService
from leadroute.settings import get_settings


class Rerouted(BaseModel):
    lead_id: str
    outcome: str
    rep: str | None
    queue: str | None
    reason: str


class Rejected(BaseModel):
    index: int = Field(description="position of the event in the request (0-based)")
    reason: str


class ActivityResult(BaseModel):
    received: int
    stored: int
    duplicates: int
    rejected: list[Rejected]
    rerouted: list[Rerouted]


def create_app(store: Store | None = None) -> FastAPI:
    """The API over `store` (default: the configured database, migrated)."""
    if store is None:
        store = Store(get_settings().db)
        store.migrate()
    app = FastAPI(title="leadroute", version="1", summary="Lead routing with a reason")
    app.state.store = store

    def record(events: list[dict[str, Any]], source: str | None) -> ActivityResult:
        # A service per request: each sees the active config and org as they are now.
        service = ActivityService(RoutingService(store))
        summary = service.record(list(enumerate(events)), source=source)
        return ActivityResult(
            received=summary.received,
            stored=summary.stored,
            duplicates=summary.duplicates,
            rejected=[Rejected(index=i or 0, reason=r) for i, r in summary.rejected],
            rerouted=[
                Rerouted(
                    lead_id=d.lead_id,
                    outcome=d.outcome.value,
                    rep=d.rep_id,
                    queue=d.queue,
                    reason=d.reason,
                )
                for d in summary.rerouted
            ],
        )

    @app.post("/v1/activities", response_model=ActivityResult)
    async def post_activities(
        body: dict[str, Any] = Body(
            ...,
            examples=[
                {
                    "type": "demo_request",
                    "email": "ada@acme.com",
                    "occurred_at": "2026-11-24T10:00:00Z",
                    "id": "evt-1",
                }
            ],
        ),
        source: str | None = None,
    ) -> ActivityResult:
        """Record engagement events and re-route the parked leads they move."""
        many = "events" in body
        events = body["events"] if many else [body]
        if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
            raise HTTPException(422, "'events' must be a list of objects")
        result = await run_in_threadpool(record, events, source)
        if not many and result.rejected:
            raise HTTPException(422, result.rejected[0].reason)
        return result

    @app.get("/v1/leads/{lead_id}/brief")
    async def get_brief(lead_id: str) -> dict[str, Any]:
        """The lead's brief: person, route, account, scores with reasons, recent activity."""
        try:
            brief = await run_in_threadpool(RoutingService(store).brief, lead_id)
        except LookupError as exc:
            raise HTTPException(404, str(exc)) from None
        return brief.as_record()

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        count = await run_in_threadpool(store.lead_counts)
        return {"status": "ok", "leads": sum(count.values())}

    return app
