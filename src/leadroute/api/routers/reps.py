"""Reps of the org: read them, change availability, caps, weight and hours, deactivate.

    GET  /v1/reps[/{id}]               (read)
    PATCH /v1/reps/{id}                (admin)
    POST /v1/reps/{id}/deactivate      their open leads handed on through the flow (admin)

Changes go through services.reps, as the console's and the CLI's do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from leadroute.adapters import orgfile
from leadroute.api.deps import StateDep, StoreDep, not_found
from leadroute.api.openapi import NOT_FOUND, problem
from leadroute.api.payload import check_body
from leadroute.api.state import ApiState
from leadroute.domain.org import RepStatus
from leadroute.services import reps as rep_changes

read = APIRouter()  # operations that need the `read` scope
admin = APIRouter()  # operations that need the `admin` scope


class RepChange(BaseModel):
    """What to change; a member left out is left as it is (null is not a value but for
    working_hours, where it means none)."""

    status: RepStatus | SkipJsonSchema[None] = Field(None, description="active, paused, inactive")
    out_of_office: list[dict[str, Any]] | SkipJsonSchema[None] = Field(
        None, description="absences: [{start, end, reason}] (replaces the list)"
    )
    caps: dict[str, int | None] | SkipJsonSchema[None] = Field(
        None, description="{day, week, month}"
    )
    weight: Annotated[float, Field(gt=0)] | SkipJsonSchema[None] = Field(
        None, description="share under `method: weighted`: weight 2 gets twice the leads of 1"
    )
    working_hours: Any = Field(None, description="as in the org file")


class RepDoc(BaseModel):
    """A rep as the org file writes it."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    email: str | None
    role: str
    teams: list[str]
    timezone: str
    working_hours: dict[str, Any] | None = Field(description="days -> windows, or none")
    out_of_office: list[dict[str, Any]] = Field(description="[{start, end, reason}]")
    status: str = Field(description="active, paused, inactive")
    weight: float
    caps: dict[str, int | None] = Field(description="{day, week, month}")
    booking_link: str | None
    manager: str | None


class HandedOn(BaseModel):
    lead_id: str
    rep: str | None = Field(description="the rep the lead went to")
    queue: str | None
    reason: str | None


class RepUpdated(BaseModel):
    rep: RepDoc = Field(description="the rep as it is now")
    handed_on: list[HandedOn] = Field(description="where each open lead went (deactivation)")


REP = {"rep_id": "$response.body#/0/id"}
REP_LINKS = {
    "GetRep": {"operationId": "get_rep", "parameters": REP},
    "ChangeRep": {"operationId": "patch_rep", "parameters": REP},
}


def changed(state: ApiState, change: Callable[[], rep_changes.RepUpdate]) -> dict[str, Any]:
    """Apply a change while no lead is being routed in this process; route with it next."""
    try:
        with state.lock:
            return change().as_record()
    finally:
        state.reset()


async def rep_changed(state: ApiState, change: Callable[[], rep_changes.RepUpdate]) -> RepUpdated:
    """The change applied: 404 for a rep that is not there, 422 for a change that is not
    valid."""
    try:
        record = await run_in_threadpool(changed, state, change)
    except LookupError as exc:
        raise not_found(exc) from None
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return RepUpdated.model_validate(record)


@read.get("/v1/reps", responses={200: {"links": REP_LINKS}})
async def get_reps(store: StoreDep) -> list[RepDoc]:
    org = await run_in_threadpool(store.load_org)
    return [RepDoc.model_validate(orgfile.rep_to_doc(r)) for r in org.reps.values()]


@read.get("/v1/reps/{rep_id}", responses={404: NOT_FOUND})
async def get_rep(rep_id: str, store: StoreDep) -> RepDoc:
    org = await run_in_threadpool(store.load_org)
    rep = org.reps.get(rep_id)
    if rep is None:
        raise HTTPException(404, f"no rep '{rep_id}'")
    return RepDoc.model_validate(orgfile.rep_to_doc(rep))


@admin.patch("/v1/reps/{rep_id}", responses={404: NOT_FOUND})
async def patch_rep(rep_id: str, change: RepChange, state: StateDep) -> RepUpdated:
    """Availability, out of office, caps, weight, hours. Making a rep inactive hands
    their open leads on through the flow (the answer lists where each went)."""
    changes = change.model_dump(exclude_unset=True)
    check_body(changes)
    return await rep_changed(state, lambda: rep_changes.change_rep(state.routing, rep_id, changes))


@admin.post(
    "/v1/reps/{rep_id}/deactivate",
    responses={404: NOT_FOUND, 422: problem("The change is not valid (`detail` says why).")},
)
async def deactivate(rep_id: str, state: StateDep) -> RepUpdated:
    """Mark the rep inactive and hand their open leads on through the flow."""
    return await rep_changed(state, lambda: rep_changes.deactivate(state.routing, rep_id))
