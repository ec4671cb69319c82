"""The HTTP API (FastAPI; the OpenAPI description is served at /docs and /openapi.json).

    POST /v1/leads                     route one lead now; the answer is its decision
    POST /v1/leads/bulk                many leads; an answer per lead
    GET  /v1/leads/{id}                status and current decision
    GET  /v1/leads/{id}/decisions      every decision record, oldest first
    GET  /v1/leads/{id}/brief          what the rep gets with the lead
    GET  /v1/leads/{id}/events         its lifecycle
    POST /v1/leads/{id}/actions/{a}    accept, contacted, convert, disqualify
    GET  /v1/decisions                 recent decisions
    POST /v1/activities                engagement events; parked leads they wake are re-routed
    GET  /v1/accounts[/{id}], POST /v1/accounts
    GET  /v1/reps[/{id}], PATCH /v1/reps/{id}, POST /v1/reps/{id}/deactivate
    GET  /v1/configs[/{seq}], POST /v1/configs (a draft), POST /v1/configs/validate,
    GET  /v1/configs/diff, POST /v1/configs/{seq}/activate, POST /v1/configs/rollback
    POST /v1/webhooks/hubspot | salesforce | web-to-lead
    GET  /v1/health, GET /metrics (Prometheus)

`Idempotency-Key` on POST /v1/leads and /v1/leads/bulk makes a retry return the first answer.

Every refusal (4xx) and 503 is a `Problem` (payload.py): `detail`, a sentence, and members
where they apply. The OpenAPI description lists every status an operation can answer: its own
(404, 409...) in its decorator, the ones every operation shares (the body limit, the encoding
checks, the key check, the database) added by `describe_answers`.
"""

from __future__ import annotations

import copy
import json
import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic.json_schema import SkipJsonSchema
from sqlalchemy.exc import SQLAlchemyError

from leadroute.adapters import orgfile
from leadroute.adapters.inbound import (
    ACK_CONTENT_TYPE,
    InboundError,
    ack,
    fault,
    parse_contact_events,
    parse_outbound_message,
    parse_web_to_lead,
    read_form,
    verify_v3,
)
from leadroute.adapters.inbound import hubspot as hubspot_format
from leadroute.adapters.store.errors import RETRY_AFTER_SECONDS, database_unavailable
from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.api import payload
from leadroute.api.deadline import BodyDeadline
from leadroute.api.payload import ConfigProblem, Problem, Refused, check_body, problem_response
from leadroute.api.security import Authenticator, BodyLimit, RateHeaders
from leadroute.api.state import ApiState
from leadroute.console import console_app
from leadroute.domain.org import RepStatus, build_org
from leadroute.services import reps as rep_changes
from leadroute.services.configs import (
    ConfigRejected,
    activate_version,
    config_diff,
    rollback,
    save_version,
    validate_source,
)
from leadroute.services.console_auth import ConsoleAuth
from leadroute.services.intake import IntakeResult, decision_view
from leadroute.services.lifecycle import act, events
from leadroute.services.privacy import erase_person
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


EXAMPLE_CONFIG = """name: inbox
queues:
  inbox: {message: "Thanks: we will be in touch"}
flow:
  - id: everyone
    fallback: true
    then: {queue: inbox}
"""


class ConfigText(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"source": EXAMPLE_CONFIG}]})

    source: str = Field(description="the routing config, YAML")


class ConfigCheck(BaseModel):
    valid: bool
    problems: list[ConfigProblem]


class NewKey(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=120,
        pattern=r"\S",
        description="who holds the key (unique; names of revoked keys stay taken)",
    )
    scopes: list[Literal["ingest", "read", "admin"]] = Field(min_length=1)


class Erasure(BaseModel):
    email: str | None = Field(None, max_length=320, description="the person's email")
    lead_id: str | None = Field(None, max_length=200, description="or one of their leads")


MAX_SEQ = 2**31 - 1  # config versions are numbered in a 32-bit column

# Optional parameters are described as what may be sent (a string), not as "string or null":
# a header or a query parameter cannot be null, and "null" would be taken as text.
Text = Annotated[str | None, WithJsonSchema({"type": "string"})]
IdempotencyKey = Annotated[
    str | None,
    Header(
        max_length=200,
        description="a retry with the same key and request gets the first answer",
    ),
    WithJsonSchema({"type": "string", "maxLength": 200}),
]
Since = Annotated[datetime | None, WithJsonSchema({"type": "string", "format": "date-time"})]


# -- what each operation may answer (its OpenAPI description) -------------------------------------

PROBLEM_SCHEMA = {"$ref": "#/components/schemas/Problem"}


def problem(description: str, **extra: Any) -> dict[str, Any]:
    """A documented refusal: a Problem, in JSON."""
    return {
        "description": description,
        "content": {"application/json": {"schema": PROBLEM_SCHEMA}},
        **extra,
    }


def header(description: str, *, required: bool = False, kind: str = "string") -> dict[str, Any]:
    return {"description": description, "required": required, "schema": {"type": kind}}


RATE_HEADERS = {
    "X-RateLimit-Limit": header(
        "requests a minute this key may make", required=True, kind="integer"
    ),
    "X-RateLimit-Remaining": header(
        "requests the key may still make at once (its bucket)", required=True, kind="integer"
    ),
}


def shared_answers(*, protected: bool, has_input: bool) -> dict[str, dict[str, Any]]:
    """The answers an operation may give whatever it does: from the middleware (URL, body size
    and encoding), the request's validation, the key check and the database."""
    answers = {
        "400": problem(
            "The URL holds a NUL character (%00), or a JSON body is not UTF-8 or cannot be read."
        ),
        "408": problem(
            "The request body did not arrive whole within the body deadline "
            "(LEADROUTE_BODY_TIMEOUT); the connection is closed."
        ),
        "413": problem("The request body is over the size limit."),
        "415": problem(
            "A JSON body declared in a charset other than UTF-8, or a body that is not JSON "
            "where JSON is expected."
        ),
        "503": problem(
            "The database is unavailable: nothing was done (`retryable`); send the same request "
            "again after `Retry-After` seconds.",
            headers={"Retry-After": header("seconds to wait", kind="integer")},
        ),
    }
    if has_input:
        answers["422"] = problem(
            "The request does not fit this description (`errors` says where), or what it holds "
            "cannot be stored (`detail` names the place)."
        )
    if protected:
        challenge = {"WWW-Authenticate": header('Bearer realm="leadroute", and the error')}
        answers["401"] = problem(
            "No API key, or it is unknown, malformed or revoked; or an Authorization header "
            "that is not 'Bearer <key>', or one whose key differs from X-API-Key's.",
            headers=challenge,
        )
        answers["403"] = problem(
            "The key lacks the scope this operation needs (`detail` names it).", headers=challenge
        )
        answers["429"] = problem(
            "The key has used up its rate; `Retry-After` says when to send again.",
            headers={
                "Retry-After": header("seconds to wait", required=True, kind="integer"),
                **RATE_HEADERS,
            },
        )
    return answers


def describe_answers(document: dict[str, Any]) -> dict[str, Any]:
    """Complete an OpenAPI document FastAPI made: the Problem schema for every refusal (FastAPI's
    HTTPValidationError replaced), the shared answers added to every operation, and the rate
    headers on the successful answers of the operations that need a key."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    shape = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(shape.pop("$defs", {}))
    schemas["Problem"] = shape
    for name in ("Problem", "ValidationIssue"):  # a member left out is absent, never null
        for member in schemas[name]["properties"].values():
            if member.get("default", ...) is None and "type" in member:
                del member["default"]
    for methods in document.get("paths", {}).values():
        for operation in methods.values():
            responses = operation.setdefault("responses", {})
            protected = bool(operation.get("security"))
            has_input = bool(operation.get("parameters") or operation.get("requestBody"))
            for status, shared in shared_answers(protected=protected, has_input=has_input).items():
                _merge_answer(responses, status, shared)
            if protected:
                for status, answer in responses.items():
                    if status.startswith(("2", "3")):
                        answer.setdefault("headers", {}).update(copy.deepcopy(RATE_HEADERS))
    used = json.dumps(document.get("paths", {}))
    for name in ("HTTPValidationError", "ValidationError"):
        if f'/{name}"' not in used:
            schemas.pop(name, None)
    return document


def _merge_answer(responses: dict[str, Any], status: str, shared: dict[str, Any]) -> None:
    own = responses.get(status)
    if own is None:
        responses[status] = copy.deepcopy(shared)
        return
    content = own.setdefault("content", {})
    in_json = content.get("application/json")
    if in_json is None or "HTTPValidationError" in json.dumps(in_json):
        content["application/json"] = {"schema": PROBLEM_SCHEMA}
    described = own.get("description") or ""
    if described in ("", "Validation Error"):
        own["description"] = shared["description"]
    elif shared["description"] not in described:
        own["description"] = f"{described} Or: {shared['description']}"
    for name, value in shared.get("headers", {}).items():
        own.setdefault("headers", {}).setdefault(name, copy.deepcopy(value))


class LeadrouteAPI(FastAPI):
    """FastAPI whose OpenAPI description lists every answer (`describe_answers`)."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = describe_answers(super().openapi())
        return self.openapi_schema


NOT_FOUND = problem("Nothing of that id; `detail` names it.")
NO_CONFIG = problem("No routing config is active yet.")
LEAD = {"lead_id": "$response.body#/lead_id"}
LEAD_LINKS = {
    "GetLead": {"operationId": "get_lead", "parameters": LEAD},
    "GetDecisions": {"operationId": "get_decisions", "parameters": LEAD},
    "GetBrief": {"operationId": "get_brief", "parameters": LEAD},
    "GetEvents": {"operationId": "get_events", "parameters": LEAD},
    "AcceptLead": {"operationId": "post_action", "parameters": {**LEAD, "action": "accept"}},
    "ConvertLead": {"operationId": "post_action", "parameters": {**LEAD, "action": "convert"}},
}
SEQ = {"seq": "$response.body#/seq"}
CONFIG_LINKS = {
    "GetConfig": {"operationId": "get_config", "parameters": SEQ},
    "ActivateConfig": {"operationId": "post_activate", "parameters": SEQ},
    "DiffConfigs": {
        "operationId": "get_diff",
        "parameters": {"a": "$response.body#/seq", "b": "$response.body#/seq"},
    },
}
REP = {"rep_id": "$response.body#/0/id"}
ACCOUNT = {"account_id": "$response.body#/0/id"}


def listed(links: dict[str, Any], member: str, parameter: str) -> dict[str, Any]:
    """`links` (whose `parameter` comes from the answer's `member`) for an answer that lists such
    objects: the same links, from its first item."""
    first = f"$response.body#/0/{member}"
    return {
        name: {
            **link,
            "parameters": {
                key: first if value == f"$response.body#/{member}" else value
                for key, value in link["parameters"].items()
            },
        }
        for name, link in links.items()
    }


REP_LINKS = {
    "GetRep": {"operationId": "get_rep", "parameters": REP},
    "ChangeRep": {"operationId": "patch_rep", "parameters": REP},
}
SOAP = {"text/xml": {"schema": {"type": "string", "description": "a SOAP 1.1 envelope"}}}


def soap_fault(description: str) -> dict[str, Any]:
    """A documented Salesforce refusal: a SOAP fault whose faultstring says why."""
    return {"description": f"{description} (a SOAP fault)", "content": copy.deepcopy(SOAP)}


HUBSPOT_REQUEST = {
    "parameters": [
        {
            "name": "X-HubSpot-Signature-v3",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "base64 HMAC-SHA256 of method, URI, body and timestamp",
        },
        {
            "name": "X-HubSpot-Request-Timestamp",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "milliseconds since the epoch; at most 5 minutes old",
        },
    ],
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["subscriptionType", "objectId"],
                        "properties": {
                            "eventId": {"type": "integer"},
                            "subscriptionType": {"type": "string"},
                            "objectId": {"type": "integer"},
                            "occurredAt": {"type": "integer"},
                            "propertyName": {"type": "string"},
                            "propertyValue": {"type": "string"},
                        },
                    },
                }
            }
        },
    },
}
SALESFORCE_REQUEST = {
    "requestBody": {
        "required": True,
        "content": {
            "text/xml": {
                "schema": {"type": "string", "description": "a SOAP 1.1 Outbound Message of Leads"}
            }
        },
    }
}
WEB_FORM_FIELDS = (
    "oid first_name last_name email company title phone city state country zip description "
    "lead_source employees retURL debug"
).split()
WEB_TO_LEAD_REQUEST = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {name: {"type": "string"} for name in WEB_FORM_FIELDS},
                    "additionalProperties": {"type": "string"},
                    "description": "Salesforce web-to-lead field names; custom fields by id",
                }
            }
        },
    }
}
REJECTED_LINKS = {name: LEAD_LINKS[name] for name in ("GetLead", "GetDecisions", "GetEvents")}
DECISION = problem(
    "The lead is not valid (`detail` says why; it is kept as rejected under `lead_id`), or "
    "the Idempotency-Key was used with a different request.",
    links=REJECTED_LINKS,
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


def _metrics() -> tuple[CollectorRegistry, Counter, Counter, Histogram]:
    registry = CollectorRegistry()
    requests = Counter(
        "leadroute_http_requests", "HTTP requests", ["method", "route", "status"], registry=registry
    )
    decisions = Counter(
        "leadroute_leads", "leads answered by the API, by outcome", ["outcome"], registry=registry
    )
    latency = Histogram(
        "leadroute_http_request_seconds",
        "HTTP request latency",
        ["route"],
        registry=registry,
        buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
    )
    return registry, requests, decisions, latency


def database_down() -> JSONResponse:
    """The answer while the database cannot be reached (see adapters.store.errors)."""
    return problem_response(
        503,
        "the database is unavailable: try again in a few seconds "
        "(with the same Idempotency-Key, a retry never stores a lead twice)",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        retryable=True,
    )


def create_app(
    store: Store | None = None,
    *,
    auth: Authenticator | bool = True,
    max_body_bytes: int = 2_000_000,
    console_auth: ConsoleAuth | None = None,
    body_timeout: float | None = None,  # default: LEADROUTE_BODY_TIMEOUT
) -> FastAPI:
    """The API over `store` (default: the configured database, migrated).

    Every endpoint but /v1/health needs an API key of the right scope (see security.md);
    `auth=False` admits every request (for an API embedded in a trusted process, and tests).
    """
    if store is None:
        store = Store(get_settings().db)
        store.migrate()
    state = ApiState(store)
    app = LeadrouteAPI(
        title="leadroute",
        version="1",
        summary="Lead routing with a reason",
        description="Every refusal (4xx) and 503 answers a `Problem`: `detail` says why in a "
        "sentence; `errors`, `problems`, `retryable`, `lead_id` and `outcome` are there where "
        "they apply. See docs/api.md.",
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.leadroute = state
    app.mount("/console", console_app(state, auth=console_auth))
    payload.install(app)
    app.add_middleware(RateHeaders)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(BodyDeadline, seconds=body_timeout)  # 408 for a body that is too slow
    registry, requests_total, leads_total, latency = _metrics()
    authenticator = Authenticator(store) if auth is True else auth or None

    def scope(name: str) -> Any:
        if authenticator is None:
            return Depends(lambda: None)
        return Depends(authenticator.require(name))

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        latency.labels(path).observe(time.perf_counter() - started)
        requests_total.labels(request.method, path, str(response.status_code)).inc()
        return response

    @app.exception_handler(SQLAlchemyError)
    async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
        """The database is down or restarting: 503 with Retry-After, never a 500 or a hang.
        Nothing of the request was stored; a retry with the same Idempotency-Key is safe."""
        if not database_unavailable(exc):
            raise exc
        return database_down()

    def answer(result: IntakeResult) -> JSONResponse:
        body = result.body
        if "outcome" in body:
            leads_total.labels(body["outcome"]).inc()
        headers = {"Idempotent-Replayed": "true"} if result.replayed else None
        return JSONResponse(body, status_code=result.status_code, headers=headers)

    def not_found(exc: LookupError) -> HTTPException:
        reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
        return HTTPException(404, reason)

    def no_config(exc: LookupError) -> HTTPException:
        return HTTPException(409, str(exc.args[0] if exc.args else exc))

    # -- leads ---------------------------------------------------------------------------------

    @app.post(
        "/v1/leads",
        status_code=201,
        dependencies=[scope("ingest")],
        responses={
            201: {"description": "Routed now: the decision", "links": LEAD_LINKS},
            200: {
                "description": "This lead was received before (or this Idempotency-Key was "
                "answered): its current decision",
                "content": {"application/json": {"schema": {"type": "object"}}},
                "links": LEAD_LINKS,
            },
            409: problem(
                "No routing config is active, or a request with this Idempotency-Key is still "
                "in progress."
            ),
            422: DECISION,
        },
        openapi_extra=LEAD_BODY,
    )
    async def post_lead(
        lead: dict[str, Any] = Body(
            ...,
            examples=[
                {"email": "ada@acme.com", "company": "Acme", "country": "US"},
                {"id": "00Q5e00001AbCdE", "Email": "lin@wu-labs.com", "NumberOfEmployees": 120},
            ],
        ),
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
        return answer(result)

    @app.post(
        "/v1/leads/bulk",
        dependencies=[scope("ingest")],
        responses={
            409: problem(
                "No routing config is active, or a request with this Idempotency-Key is still "
                "in progress."
            ),
            413: problem("More than 1,000 leads, or the body is over the size limit."),
        },
    )
    async def post_leads(
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
                state.intake.submit_many,
                leads,
                key=idempotency_key,
                channel=channel,
                source=source,
            )
        except LookupError as exc:
            raise no_config(exc) from None
        return answer(result)

    @app.get("/v1/leads/{lead_id}", dependencies=[scope("read")], responses={404: NOT_FOUND})
    async def get_lead(lead_id: str) -> dict[str, Any]:
        stored = await run_in_threadpool(store.lead, lead_id)
        if stored is None:
            raise HTTPException(404, f"no lead '{lead_id}'")
        view = await run_in_threadpool(state.intake.view, lead_id)
        return {
            "lead_id": lead_id,
            "status": stored.status,
            "owner": stored.owner_id,
            "queue": stored.queue,
            "fields": stored.lead.fields,
            "source": stored.lead.source,
            "channel": stored.lead.channel,
            "received_at": stored.lead.received_at,
            "decision": view if "decision_id" in view else None,
        }

    @app.get(
        "/v1/leads/{lead_id}/decisions", dependencies=[scope("read")], responses={404: NOT_FOUND}
    )
    async def get_decisions(lead_id: str) -> list[dict[str, Any]]:
        records = await run_in_threadpool(store.decisions, lead_id)
        if not records and await run_in_threadpool(store.lead, lead_id) is None:
            raise HTTPException(404, f"no lead '{lead_id}'")
        return [r.record | {"decision_id": r.id, "current": r.current} for r in records]

    @app.get("/v1/leads/{lead_id}/brief", dependencies=[scope("read")], responses={404: NOT_FOUND})
    async def get_brief(lead_id: str) -> dict[str, Any]:
        """The lead's brief: person, route, account, scores with reasons, recent activity."""
        try:
            brief = await run_in_threadpool(state.routing.brief, lead_id)
        except LookupError as exc:
            raise not_found(exc) from None
        return brief.as_record()

    @app.get("/v1/leads/{lead_id}/events", dependencies=[scope("read")], responses={404: NOT_FOUND})
    async def get_events(lead_id: str) -> list[dict[str, Any]]:
        rows = await run_in_threadpool(events, store, lead_id)
        if not rows and await run_in_threadpool(store.lead, lead_id) is None:
            raise HTTPException(404, f"no lead '{lead_id}'")
        return rows

    @app.post(
        "/v1/leads/{lead_id}/actions/{action}",
        dependencies=[scope("ingest")],
        responses={
            404: NOT_FOUND,
            409: problem(
                "The action is unknown, or does not apply to the lead in its status (`detail` "
                "says which)."
            ),
        },
    )
    async def post_action(lead_id: str, action: str, actor: Text = None) -> dict[str, Any]:
        """The rep accepted, contacted, converted or disqualified the lead (stops its SLA)."""
        try:
            status = await run_in_threadpool(
                act, store, lead_id, action, now=datetime.now(UTC), actor=actor
            )
        except LookupError as exc:
            raise not_found(exc) from None
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from None
        return {"lead_id": lead_id, "action": action, "status": status}

    @app.get(
        "/v1/decisions",
        dependencies=[scope("read")],
        responses={200: {"links": listed(LEAD_LINKS, "lead_id", "lead_id")}},
    )
    async def get_recent(since: Since = None, limit: int = 100) -> list[dict[str, Any]]:
        """Current decisions (at most `limit`, 1 to 1,000), from `since` on."""
        limit = max(1, min(limit, 1000))

        def read() -> list[dict[str, Any]]:
            try:
                reps = state.routing.router.org.reps
            except LookupError:  # no active config: the reps as stored
                reps = store.load_org().reps
            found = []
            for stored in store.decisions_since(since):
                found.append(decision_view(stored, reps))
                if len(found) >= limit:
                    break
            return found

        return await run_in_threadpool(read)

    # -- activities ----------------------------------------------------------------------------

    @app.post(
        "/v1/activities",
        response_model=ActivityResult,
        dependencies=[scope("ingest")],
        responses={409: NO_CONFIG},
    )
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
        source: Text = None,
    ) -> ActivityResult:
        """Record engagement events and re-route the parked leads they move."""
        check_body(body)
        many = "events" in body
        items = body["events"] if many else [body]
        if not isinstance(items, list) or not all(isinstance(e, dict) for e in items):
            raise HTTPException(422, "'events' must be a list of objects")

        def record() -> ActivityResult:
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

        try:
            result = await run_in_threadpool(record)
        except LookupError as exc:  # no active config to re-route by
            raise no_config(exc) from None
        if not many and result.rejected:
            raise HTTPException(422, result.rejected[0].reason)
        return result

    # -- org: accounts and reps ----------------------------------------------------------------

    @app.get(
        "/v1/accounts",
        dependencies=[scope("read")],
        responses={
            200: {"links": {"GetAccount": {"operationId": "get_account", "parameters": ACCOUNT}}}
        },
    )
    async def get_accounts(domain: Text = None, limit: int = 100) -> list[dict[str, Any]]:
        org = await run_in_threadpool(store.load_org)
        accounts = org.accounts.values()
        if domain:
            accounts = [a for a in accounts if a.domain == domain.lower()]  # type: ignore[assignment]
        return [orgfile.account_to_doc(a) for a in list(accounts)[: max(1, min(limit, 1000))]]

    @app.get("/v1/accounts/{account_id}", dependencies=[scope("read")], responses={404: NOT_FOUND})
    async def get_account(account_id: str) -> dict[str, Any]:
        org = await run_in_threadpool(store.load_org)
        account = org.accounts.get(account_id)
        if account is None:
            raise HTTPException(404, f"no account '{account_id}'")
        return orgfile.account_to_doc(account)

    @app.post(
        "/v1/accounts",
        dependencies=[scope("admin")],
        responses={
            200: {
                "description": "Saved",
                "links": {
                    "GetAccount": {
                        "operationId": "get_account",
                        "parameters": {"account_id": "$request.body#/accounts/0/id"},
                    }
                },
            },
            422: problem("An account is not valid (`detail` says which and why)."),
        },
    )
    async def post_accounts(
        body: dict[str, Any] = Body(
            ...,
            examples=[
                {"accounts": [{"id": "globex", "name": "Globex", "domain": "globex.example"}]}
            ],
        ),
    ) -> dict[str, Any]:
        """Create or update accounts: {"accounts": [{id, name, domain, owner, ...}]}."""
        check_body(body)
        docs = body.get("accounts")
        if not isinstance(docs, list):
            raise HTTPException(422, "'accounts' must be a list of account objects")
        try:
            accounts = [orgfile.account_from_doc(doc) for doc in docs]
        except (KeyError, ValueError, TypeError) as exc:
            raise HTTPException(422, f"invalid account: {exc}") from None
        await run_in_threadpool(store.save_org, build_org(accounts=accounts))
        state.reset()
        return {"saved": len(accounts)}

    @app.get("/v1/reps", dependencies=[scope("read")], responses={200: {"links": REP_LINKS}})
    async def get_reps() -> list[dict[str, Any]]:
        org = await run_in_threadpool(store.load_org)
        return [orgfile.rep_to_doc(r) for r in org.reps.values()]

    @app.get("/v1/reps/{rep_id}", dependencies=[scope("read")], responses={404: NOT_FOUND})
    async def get_rep(rep_id: str) -> dict[str, Any]:
        org = await run_in_threadpool(store.load_org)
        rep = org.reps.get(rep_id)
        if rep is None:
            raise HTTPException(404, f"no rep '{rep_id}'")
        return orgfile.rep_to_doc(rep)

    @app.patch("/v1/reps/{rep_id}", dependencies=[scope("admin")], responses={404: NOT_FOUND})
    async def patch_rep(rep_id: str, change: RepChange) -> dict[str, Any]:
        """Availability, out of office, caps, weight, hours. Making a rep inactive hands
        their open leads on through the flow (the answer lists where each went)."""
        changes = change.model_dump(exclude_unset=True)
        check_body(changes)
        return await rep_changed(lambda: rep_changes.change_rep(state.routing, rep_id, changes))

    @app.post(
        "/v1/reps/{rep_id}/deactivate",
        dependencies=[scope("admin")],
        responses={404: NOT_FOUND, 422: problem("The change is not valid (`detail` says why).")},
    )
    async def deactivate(rep_id: str) -> dict[str, Any]:
        """Mark the rep inactive and hand their open leads on through the flow."""
        return await rep_changed(lambda: rep_changes.deactivate(state.routing, rep_id))

    async def rep_changed(change: Callable[[], rep_changes.RepUpdate]) -> dict[str, Any]:
        def apply() -> dict[str, Any]:
            try:
                with state.lock:
                    return change().as_record()
            finally:
                state.reset()

        try:
            return await run_in_threadpool(apply)
        except LookupError as exc:
            raise not_found(exc) from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None

    # -- configs -------------------------------------------------------------------------------

    def config_summary(stored: Any) -> dict[str, Any]:
        return {
            "seq": stored.seq,
            "name": stored.name,
            "hash": stored.hash,
            "active": stored.active,
            "created_at": stored.created_at,
        }

    def validate(source: str) -> tuple[Any, list[dict[str, Any]]]:
        return validate_source(store, source)

    @app.get(
        "/v1/configs",
        dependencies=[scope("read")],
        responses={200: {"links": listed(CONFIG_LINKS, "seq", "seq")}},
    )
    async def get_configs() -> list[dict[str, Any]]:
        return [config_summary(c) for c in await run_in_threadpool(store.configs)]

    @app.get(
        "/v1/configs/diff",
        dependencies=[scope("read")],
        response_class=PlainTextResponse,
        responses={404: NOT_FOUND},
    )
    async def get_diff(
        a: int = Query(ge=1, le=MAX_SEQ), b: int = Query(ge=1, le=MAX_SEQ)
    ) -> PlainTextResponse:
        """A unified diff of two versions' YAML."""
        try:
            return PlainTextResponse(config_diff(store, a, b))
        except LookupError as exc:
            raise not_found(exc) from None

    @app.get("/v1/configs/{seq}", dependencies=[scope("read")], responses={404: NOT_FOUND})
    async def get_config(seq: int = Path(ge=1, le=MAX_SEQ)) -> dict[str, Any]:
        stored = await run_in_threadpool(store.config, seq)
        if stored is None:
            raise HTTPException(404, f"no config #{seq}")
        return config_summary(stored) | {"source": stored.source}

    @app.post("/v1/configs/validate", dependencies=[scope("read")])
    async def post_validate(config: ConfigText) -> ConfigCheck:
        """Errors and warnings, each at its line; nothing is stored."""
        loaded, problems = await run_in_threadpool(validate, config.source)
        return ConfigCheck(
            valid=loaded is not None, problems=[ConfigProblem(**p) for p in problems]
        )

    @app.post(
        "/v1/configs",
        status_code=201,
        dependencies=[scope("admin")],
        responses={
            201: {"description": "Stored", "links": CONFIG_LINKS},
            422: problem("The config is not valid: `problems` lists each at its line."),
        },
    )
    async def post_config(config: ConfigText, activate: bool = False) -> dict[str, Any]:
        """Store a version (a draft unless `activate`); an invalid one is refused with its
        problems at their lines."""
        try:
            seq, problems = await run_in_threadpool(
                save_version, store, config.source, activate=activate
            )
        except ConfigRejected as exc:
            raise rejected(exc) from None
        if activate:
            state.reset()
        return config_summary(store.config(seq)) | {"problems": problems}

    def rejected(exc: ConfigRejected) -> Refused:
        errors = [p for p in exc.problems if p.get("severity") == "error"] or exc.problems
        shown = "; ".join(
            (f"line {p['line']}: " if p.get("line") else "") + str(p.get("message"))
            for p in errors[:3]
        )
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        return Refused(
            422, f"the config is not valid: {shown or 'no config'}{more}", problems=exc.problems
        )

    def activated(change: Callable[[], int], *, missing: int) -> dict[str, Any]:
        """Run a change of the active version; `missing` is the status when there is nothing to
        activate (404 for an unknown version, 409 for no earlier one)."""
        try:
            seq = change()
        except ConfigRejected as exc:
            raise rejected(exc) from None
        except LookupError as exc:
            raise HTTPException(missing, str(exc)) from None
        state.reset()
        return config_summary(store.config(seq))

    @app.post(
        "/v1/configs/{seq}/activate",
        dependencies=[scope("admin")],
        responses={
            200: {
                "description": "Active now",
                "links": {"RollBack": {"operationId": "post_rollback"}},
            },
            404: NOT_FOUND,
            422: problem(
                "The version is not valid against today's org: `problems` lists each at its line."
            ),
        },
    )
    async def post_activate(seq: int = Path(ge=1, le=MAX_SEQ)) -> dict[str, Any]:
        """Make a stored version the active one (checked against today's org first)."""
        return await run_in_threadpool(
            lambda: activated(lambda: activate_version(store, seq), missing=404)
        )

    @app.post(
        "/v1/configs/rollback",
        dependencies=[scope("admin")],
        responses={
            409: problem("No version was active before the current one."),
            422: problem(
                "That version is not valid against today's org: `problems` lists each at its line."
            ),
        },
    )
    async def post_rollback() -> dict[str, Any]:
        """Activate the version that was active before the current one."""
        return await run_in_threadpool(lambda: activated(lambda: rollback(store), missing=409))

    # -- webhooks ------------------------------------------------------------------------------

    def settings_value(name: str) -> str | None:
        return os.environ.get(name) or None

    @app.post(
        "/v1/webhooks/hubspot",
        dependencies=[scope("ingest")],
        openapi_extra=HUBSPOT_REQUEST,
        responses={
            200: {
                "description": "The events received, and each one's decision",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            400: problem("The body is not a JSON array of HubSpot events (`detail` says where)."),
            401: problem("The HubSpot signature is missing, wrong or more than 5 minutes old."),
            409: NO_CONFIG,
            503: problem("LEADROUTE_HUBSPOT_SECRET is not set: the signature cannot be checked."),
        },
    )
    async def hubspot(request: Request) -> JSONResponse:
        """HubSpot contact events, X-HubSpot-Signature-v3 checked (5-minute window)."""
        body = await request.body()
        secret = settings_value("LEADROUTE_HUBSPOT_SECRET")
        public = settings_value("LEADROUTE_PUBLIC_URL")
        uri = str(request.url) if public is None else public.rstrip("/") + request.url.path
        if public is not None and request.url.query:
            uri += "?" + request.url.query
        try:
            if secret is None:
                raise InboundError(503, "LEADROUTE_HUBSPOT_SECRET is not set: cannot verify")
            verify_v3(
                secret=secret,
                method=request.method,
                uri=uri,
                body=body,
                signature=request.headers.get(hubspot_format.SIGNATURE_HEADER),
                timestamp=request.headers.get(hubspot_format.TIMESTAMP_HEADER),
                now=datetime.now(UTC),
            )
            received = parse_contact_events(body)
            check_body([event.raw for event in received])
        except InboundError as exc:
            return problem_response(exc.status, exc.message)
        results = []
        for event in received:
            if event.lead is None:
                results.append({"event": event.key, "routed": False})
                continue
            try:
                result = await run_in_threadpool(
                    state.intake.submit_lead,
                    event.lead.lead,
                    key=event.key,
                    raw=dict(event.raw),
                )
            except LookupError as exc:  # no active config: HubSpot retries later
                raise no_config(exc) from None
            results.append({"event": event.key, **result.body})
        return JSONResponse({"received": len(received), "results": results})

    @app.post(
        "/v1/webhooks/salesforce",
        dependencies=[scope("ingest")],
        openapi_extra=SALESFORCE_REQUEST,
        response_class=Response,
        responses={
            200: {"description": "The SOAP Ack: every lead was received", "content": SOAP},
            400: soap_fault("Not a well-formed Outbound Message of Leads"),
            403: soap_fault("The OrganizationId is not the configured org"),
            409: soap_fault("No routing config is active: Salesforce sends the message again"),
        },
    )
    async def salesforce(request: Request) -> Response:
        """Salesforce Outbound Messages (Lead); answered with the SOAP Ack."""
        body = await request.body()
        try:
            message = parse_outbound_message(
                body, organization_id=settings_value("LEADROUTE_SALESFORCE_ORG_ID")
            )
            for item in message.leads:
                await run_in_threadpool(
                    state.intake.submit_lead, item.lead, key=item.event_id, raw=dict(item.raw)
                )
        except InboundError as exc:
            return Response(fault(exc.message), exc.status, media_type=ACK_CONTENT_TYPE)
        except LookupError as exc:  # no active config: Salesforce resends until acked
            return Response(fault(str(exc.args[0])), 409, media_type=ACK_CONTENT_TYPE)
        return Response(ack(True), 200, media_type=ACK_CONTENT_TYPE)

    @app.post(
        "/v1/webhooks/web-to-lead",
        dependencies=[scope("ingest")],
        openapi_extra=WEB_TO_LEAD_REQUEST,
        response_class=Response,
        responses={
            303: {
                "description": "Routed: on to retURL",
                "headers": {"Location": header("the post's retURL", required=True)},
            },
            201: {
                "description": "Routed (no retURL, or debug): the decision",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            200: {
                "description": "Posted before (a double click): the current decision",
                "content": {"application/json": {"schema": {"type": "object"}}},
            },
            400: problem("A field is not text in the form's charset (`detail` names it)."),
            403: problem("The post's oid is not the configured Salesforce org."),
            409: NO_CONFIG,
            415: problem("Not a form post, or a charset leadroute does not know."),
            422: problem(
                "The post has neither an email nor a last name and company, or holds text no "
                "field may hold, or the lead is not valid (`detail` says why)."
            ),
        },
    )
    async def web_to_lead(request: Request) -> Response:
        """A web-to-lead form post (Salesforce field names); redirects to retURL."""
        body = await request.body()
        try:
            form = read_form(body, request.headers.get("content-type"))
            check_body(form)
            posted = parse_web_to_lead(
                form, organization_id=settings_value("LEADROUTE_SALESFORCE_ORG_ID")
            )
        except InboundError as exc:
            return problem_response(exc.status, exc.message)
        try:
            result = await run_in_threadpool(
                state.intake.submit_lead,
                posted.lead.lead,
                key=f"w2l:{posted.lead.lead.id}",
                raw=dict(posted.lead.raw),
            )
        except LookupError as exc:
            raise no_config(exc) from None
        if posted.debug or posted.return_url is None:
            return JSONResponse(result.body, status_code=result.status_code)
        return RedirectResponse(posted.return_url, status_code=303)

    # -- health and metrics --------------------------------------------------------------------

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        """For load balancers: 200 while the database answers (503 when it does not). Cheap
        (one indexed read) and tells nothing about the leads, as it needs no key."""
        active = await run_in_threadpool(store.active_config_seq)
        return {"status": "ok", "database": "ok", "config": active}

    # -- keys and erasure ----------------------------------------------------------------------

    @app.get("/v1/keys", dependencies=[scope("admin")])
    async def get_keys() -> list[dict[str, Any]]:
        keys = KeyStore(store)
        return [k.as_record() for k in await run_in_threadpool(keys.list)]

    @app.post(
        "/v1/keys",
        status_code=201,
        dependencies=[scope("admin")],
        responses={
            201: {
                "description": "Created: the key is in this answer only",
                "links": {
                    "RevokeKey": {
                        "operationId": "delete_key",
                        "parameters": {"name": "$response.body#/name"},
                    }
                },
            },
            422: problem("The name is taken (revoked keys keep theirs), or the body is not valid."),
        },
    )
    async def post_key(body: NewKey) -> dict[str, Any]:
        """{"name": ..., "scopes": ["ingest", "read"]}: the key is in this answer only."""
        check_body(body.model_dump())
        try:
            plaintext, key = await run_in_threadpool(KeyStore(store).create, body.name, body.scopes)
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return key.as_record() | {"key": plaintext}

    @app.delete("/v1/keys/{name}", dependencies=[scope("admin")], responses={404: NOT_FOUND})
    async def delete_key(name: str) -> dict[str, Any]:
        key = await run_in_threadpool(KeyStore(store).revoke, name)
        if key is None:
            raise HTTPException(404, f"no key '{name}'")
        if authenticator is not None:
            authenticator.forget()
        return key.as_record()

    @app.post("/v1/privacy/erase", dependencies=[scope("admin")])
    async def post_erase(body: Erasure) -> dict[str, Any]:
        """Erase a person (GDPR): {"email": ...} or {"lead_id": ...}. Counts are kept."""
        check_body(body.model_dump())
        try:
            report = await run_in_threadpool(
                lambda: erase_person(
                    store,
                    email=body.email,
                    lead_id=body.lead_id,
                    now=datetime.now(UTC),
                    actor="api",
                )
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        state.reset()
        return report.as_record()

    @app.get("/metrics", dependencies=[scope("read")], response_class=PlainTextResponse)
    async def metrics() -> Response:
        """Prometheus text: requests by route and status, latency, leads by outcome. Behind the
        `read` scope: it tells traffic volumes and lead outcomes."""
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
