"""Activities: engagement events; the parked leads they wake are re-routed.

POST /v1/activities                one event, or {"events": [...]} (ingest)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from leadroute.api.deps import StateDep, Text, no_config
from leadroute.api.openapi import NO_CONFIG
from leadroute.api.payload import check_body
from leadroute.api.state import ApiState

ingest = APIRouter()  # operations that need the `ingest` scope


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


EXAMPLE = {
    "type": "demo_request",
    "email": "ada@acme.com",
    "occurred_at": "2026-11-24T10:00:00Z",
    "id": "evt-1",
}


def record(state: ApiState, items: list[dict[str, Any]], source: str | None) -> ActivityResult:
    """Store the events and re-route the leads they wake (while no lead is being routed)."""
    with state.lock:
        summary = state.activities().record(list(enumerate(items)), source=source)
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


@ingest.post("/v1/activities", response_model=ActivityResult, responses={409: NO_CONFIG})
async def post_activities(
    state: StateDep,
    body: dict[str, Any] = Body(..., examples=[EXAMPLE]),
    source: Text = None,
) -> ActivityResult:
    """Record engagement events and re-route the parked leads they move."""
    check_body(body)
    many = "events" in body
    items = body["events"] if many else [body]
    if not isinstance(items, list) or not all(isinstance(e, dict) for e in items):
        raise HTTPException(422, "'events' must be a list of objects")
    try:
        result = await run_in_threadpool(record, state, items, source)
    except LookupError as exc:  # no active config to re-route by
        raise no_config(exc) from None
    if not many and result.rejected:
        raise HTTPException(422, result.rejected[0].reason)
    return result
