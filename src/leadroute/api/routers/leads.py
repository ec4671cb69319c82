"""Leads: route one or many now, read a lead, its decisions, brief and lifecycle, act on it.

    POST /v1/leads                     route one lead now; the answer is its decision (ingest)
    POST /v1/leads/bulk                many leads; an answer per lead (ingest)
    GET  /v1/leads/{id}                status and current decision (read)
    GET  /v1/leads/{id}/decisions      every decision record, oldest first (read)
    GET  /v1/leads/{id}/brief          what the rep gets with the lead (read)
    GET  /v1/leads/{id}/events         its lifecycle (read)
    POST /v1/leads/{id}/actions/{a}    accept, contacted, convert, disqualify (ingest)
    GET  /v1/decisions                 recent decisions (read)

`Idempotency-Key` on POST /v1/leads and /v1/leads/bulk makes a retry return the first answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Body, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from leadroute.adapters.registry import lifecycle_log
from leadroute.api.deps import (
    IdempotencyKey,
    MetricsDep,
    Moment,
    Since,
    StateDep,
    StoreDep,
    Text,
    answer,
    no_config,
    not_found,
)
from leadroute.api.openapi import NOT_FOUND, listed, problem
from leadroute.api.payload import check_body
from leadroute.services.intake import decision_view
from leadroute.services.lifecycle import act, events

ingest = APIRouter()  # operations that need the `ingest` scope
read = APIRouter()  # operations that need the `read` scope

# -- models ----------------------------------------------------------------------------------------


class RepRef(BaseModel):
    id: str
    name: str
    email: str | None


class DecisionMembers(BaseModel):
    """The members of a lead's answer besides its id and outcome: there when they apply."""

    model_config = ConfigDict(extra="allow")

    decision_id: int | None = Field(None, description="the decision record's id")
    rep: RepRef | None = Field(None, description="the rep the lead went to")
    queue: str | None = Field(None, description="the queue the lead went to")
    route: str | None = Field(None, description="the flow node that decided")
    reason: str | None = Field(None, description="why, in a sentence")
    booking_link: str | None = None
    redirect_url: str | None = None
    message: str | None = None
    decided_at: str | None = Field(None, description="ISO 8601")
    config: Any = Field(None, description="the config version that decided")
    scores: dict[str, Any] | None = Field(None, description="score name -> value and reasons")
    detail: str | None = Field(None, description="e.g. that the lead was received before")


class LeadAnswer(DecisionMembers):
    """A lead's decision (the rep with the booking link, or the queue with its redirect URL or
    message; the route and the reason) or, while it has none, its status."""

    lead_id: str
    outcome: str = Field(description="routed, held, unrouted, rejected...")


class BulkItem(DecisionMembers):
    """One lead of a bulk request: its answer, or why it was rejected (`detail`)."""

    index: int = Field(description="position of the lead in the request (0-based)")
    lead_id: str | None = None
    outcome: str


class BulkAnswer(BaseModel):
    received: int
    outcomes: dict[str, int] = Field(description="outcome -> leads")
    counts_add_up: bool = Field(description="every lead read ended with an outcome")
    results: list[BulkItem]


class LeadView(BaseModel):
    lead_id: str
    status: str
    owner: str | None
    queue: str | None
    fields: dict[str, Any]
    source: str | None
    channel: str | None
    received_at: Moment | None
    decision: LeadAnswer | None = Field(description="the current decision, if any")


class DecisionRecord(BaseModel):
    """A decision record as `leadroute explain --json` prints it: every node tried with the
    values it saw, the reps skipped and why (a documented object; see docs/concepts.md)."""

    model_config = ConfigDict(extra="allow")

    decision_id: int
    current: bool = Field(description="the lead's current decision")


class LeadBrief(BaseModel):
    """What the rep gets with the lead."""

    lead_id: str
    person: dict[str, Any]
    route: dict[str, Any]
    account: dict[str, Any] | None
    scores: dict[str, Any] = Field(description="score name -> value and reasons")
    recent_activity: list[dict[str, Any]]


class LeadEvent(BaseModel):
    at: Moment
    kind: str
    rep: str | None
    actor: str | None
    detail: dict[str, Any]


class ActionDone(BaseModel):
    lead_id: str
    action: str
    status: str = Field(description="the lead's status now")


# -- what the description says ------------------------------------------------------------------

LEAD = {"lead_id": "$response.body#/lead_id"}
LEAD_LINKS = {
    "GetLead": {"operationId": "get_lead", "parameters": LEAD},
    "GetDecisions": {"operationId": "get_decisions", "parameters": LEAD},
    "GetBrief": {"operationId": "get_brief", "parameters": LEAD},
    "GetEvents": {"operationId": "get_events", "parameters": LEAD},
    "AcceptLead": {"operationId": "post_action", "parameters": {**LEAD, "action": "accept"}},
    "ConvertLead": {"operationId": "post_action", "parameters": {**LEAD, "action": "convert"}},
}
REJECTED_LINKS = {name: LEAD_LINKS[name] for name in ("GetLead", "GetDecisions", "GetEvents")}
DECISION = problem(
    "The lead is not valid (`detail` says why; it is kept as rejected under `lead_id`), or "
    "the Idempotency-Key was used with a different request.",
    links=REJECTED_LINKS,
)
IN_PROGRESS = problem(
    "No routing config is active, or a request with this Idempotency-Key is still in progress."
)
LEAD_FIELDS = {
    "id": "the lead's id in the system it comes from (else one is made)",
    "email": "an email, company, last_name, phone or domain is needed to identify the lead",
    "first_name": "also FirstName (Salesforce), firstname (HubSpot)",
    "last_name": "also LastName, lastname",
    "company": "also Company",
    "phone": "also Phone",
    "domain": "the company's web domain (or website)",
    "country": "also Country",
    "employees": "a number; also NumberOfEmployees, numemployees",
}
LEAD_BODY = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "description": "The lead's fields, by leadroute's, Salesforce's or HubSpot's "
                    "names; any others are kept as custom fields.",
                    "properties": {
                        name: {"description": text} for name, text in LEAD_FIELDS.items()
                    },
                }
            }
        }
    }
}
LEAD_EXAMPLES = [
    {"email": "ada@acme.com", "company": "Acme", "country": "US"},
    {"id": "00Q5e00001AbCdE", "Email": "lin@wu-labs.com", "NumberOfEmployees": 120},
]


# -- operations ----------------------------------------------------------------------------------


@ingest.post(
    "/v1/leads",
    status_code=201,
    responses={
        201: {"model": LeadAnswer, "description": "Routed now: the decision", "links": LEAD_LINKS},
        200: {
            "model": LeadAnswer,
            "description": "This lead was received before (or this Idempotency-Key was "
            "answered): its current decision",
            "links": LEAD_LINKS,
        },
        409: IN_PROGRESS,
        422: DECISION,
    },
    openapi_extra=LEAD_BODY,
)
async def post_lead(
    state: StateDep,
    counted: MetricsDep,
    lead: dict[str, Any] = Body(..., examples=LEAD_EXAMPLES),
    idempotency_key: IdempotencyKey = None,
    channel: str = "api",
    source: Text = None,
) -> JSONResponse:
    """Route one lead now. The answer is its decision: the rep (with the booking link) or
    the queue (with its redirect URL or message), the route and the reason."""
    check_body(lead)
    try:
        result = await run_in_threadpool(
            state.intake.submit, lead, key=idempotency_key, channel=channel, source=source
        )
    except LookupError as exc:  # no active config
        raise no_config(exc) from None
    return answer(result, counted)


@ingest.post(
    "/v1/leads/bulk",
    responses={
        200: {"model": BulkAnswer},
        409: IN_PROGRESS,
        413: problem("More than 1,000 leads, or the body is over the size limit."),
    },
)
async def post_leads(
    state: StateDep,
    counted: MetricsDep,
    body: dict[str, Any] = Body(..., examples=[{"leads": [{"email": "a@b.com"}]}]),
    idempotency_key: IdempotencyKey = None,
    channel: str = "api",
    source: Text = None,
) -> JSONResponse:
    """Route many leads (at most 1,000); the answer has each lead's decision or reason."""
    check_body(body)
    leads = body.get("leads")
    if not isinstance(leads, list) or not all(isinstance(x, dict) for x in leads):
        raise HTTPException(422, "'leads' must be a list of objects")
    try:
        result = await run_in_threadpool(
            state.intake.submit_many, leads, key=idempotency_key, channel=channel, source=source
        )
    except LookupError as exc:
        raise no_config(exc) from None
    return answer(result, counted)


@read.get("/v1/leads/{lead_id}", responses={404: NOT_FOUND}, response_model_exclude_unset=True)
async def get_lead(lead_id: str, state: StateDep, store: StoreDep) -> LeadView:
    stored = await run_in_threadpool(store.lead, lead_id)
    if stored is None:
        raise HTTPException(404, f"no lead '{lead_id}'")
    view = await run_in_threadpool(state.intake.view, lead_id)
    return LeadView(
        lead_id=lead_id,
        status=stored.status,
        owner=stored.owner_id,
        queue=stored.queue,
        fields=stored.lead.fields,
        source=stored.lead.source,
        channel=stored.lead.channel,
        received_at=stored.lead.received_at,
        decision=LeadAnswer.model_validate(view) if "decision_id" in view else None,
    )


@read.get("/v1/leads/{lead_id}/decisions", responses={404: NOT_FOUND})
async def get_decisions(lead_id: str, store: StoreDep) -> list[DecisionRecord]:
    records = await run_in_threadpool(store.decisions, lead_id)
    if not records and await run_in_threadpool(store.lead, lead_id) is None:
        raise HTTPException(404, f"no lead '{lead_id}'")
    return [
        DecisionRecord.model_validate(r.record | {"decision_id": r.id, "current": r.current})
        for r in records
    ]


@read.get("/v1/leads/{lead_id}/brief", responses={404: NOT_FOUND})
async def get_brief(lead_id: str, state: StateDep) -> LeadBrief:
    """The lead's brief: person, route, account, scores with reasons, recent activity."""
    try:
        brief = await run_in_threadpool(state.routing.brief, lead_id)
    except LookupError as exc:
        raise not_found(exc) from None
    return LeadBrief.model_validate(brief.as_record())


@read.get("/v1/leads/{lead_id}/events", responses={404: NOT_FOUND})
async def get_events(lead_id: str, store: StoreDep) -> list[LeadEvent]:
    rows = await run_in_threadpool(events, lifecycle_log(store), lead_id)
    if not rows and await run_in_threadpool(store.lead, lead_id) is None:
        raise HTTPException(404, f"no lead '{lead_id}'")
    return [LeadEvent.model_validate(row) for row in rows]


@ingest.post(
    "/v1/leads/{lead_id}/actions/{action}",
    responses={
        404: NOT_FOUND,
        409: problem(
            "The action is unknown, or does not apply to the lead in its status (`detail` "
            "says which)."
        ),
    },
)
async def post_action(lead_id: str, action: str, store: StoreDep, actor: Text = None) -> ActionDone:
    """The rep accepted, contacted, converted or disqualified the lead (stops its SLA)."""
    try:
        status = await run_in_threadpool(
            act, store, lead_id, action, now=datetime.now(UTC), actor=actor
        )
    except LookupError as exc:
        raise not_found(exc) from None
    except ValueError as exc:
        raise HTTPException(409, str(exc)) from None
    return ActionDone(lead_id=lead_id, action=action, status=status)


@read.get(
    "/v1/decisions",
    responses={200: {"links": listed(LEAD_LINKS, "lead_id", "lead_id")}},
    response_model_exclude_unset=True,
)
async def get_recent(
    state: StateDep, store: StoreDep, since: Since = None, limit: int = 100
) -> list[LeadAnswer]:
    """Current decisions (at most `limit`, 1 to 1,000), from `since` on."""
    limit = max(1, min(limit, 1000))

    def read_decisions() -> list[LeadAnswer]:
        try:
            reps = state.routing.router.org.reps
        except LookupError:  # no active config: the reps as stored
            reps = store.load_org().reps
        found = []
        for stored in store.decisions_since(since):
            found.append(LeadAnswer.model_validate(decision_view(stored, reps)))
            if len(found) >= limit:
                break
        return found

    return await run_in_threadpool(read_decisions)
