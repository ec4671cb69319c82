"""Webhooks: leads posted by HubSpot, Salesforce and web forms (ingest).

    POST /v1/webhooks/hubspot          contact events, X-HubSpot-Signature-v3 checked
    POST /v1/webhooks/salesforce       Outbound Messages (Lead); answered with the SOAP Ack
    POST /v1/webhooks/web-to-lead      a web-to-lead form post; redirects to retURL

What the posts are checked against (the HubSpot client secret, the Salesforce org, the public
URL HubSpot signed) is read when a post comes in: `WebhooksDep`, from the composition root.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse
from pydantic import BaseModel, ConfigDict, Field

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
from leadroute.api.deps import StateDep, WebhooksDep, no_config
from leadroute.api.openapi import NO_CONFIG, header, problem
from leadroute.api.payload import check_body, problem_response
from leadroute.api.routers.leads import LeadAnswer
from leadroute.bootstrap import Webhooks

ingest = APIRouter()  # operations that need the `ingest` scope


class EventAnswer(BaseModel):
    """One HubSpot event: the lead's answer, or `routed: false` for an event without one."""

    model_config = ConfigDict(extra="allow")

    event: str = Field(description="the event's key")
    routed: bool | None = None
    lead_id: str | None = None
    outcome: str | None = None


class HubSpotAnswer(BaseModel):
    received: int = Field(description="events in the post")
    results: list[EventAnswer]


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


def signed_uri(request: Request, public_url: str | None) -> str:
    """The URI HubSpot signed: the request's, or its path and query on the public URL when
    leadroute runs behind a proxy (LEADROUTE_PUBLIC_URL)."""
    if public_url is None:
        return str(request.url)
    uri = public_url.rstrip("/") + request.url.path
    return uri + "?" + request.url.query if request.url.query else uri


def hubspot_events(request: Request, body: bytes, settings: Webhooks) -> list[Any]:
    """The post's contact events once its signature is checked; InboundError otherwise."""
    if settings.hubspot_secret is None:
        raise InboundError(503, "LEADROUTE_HUBSPOT_SECRET is not set: cannot verify")
    verify_v3(
        secret=settings.hubspot_secret.get_secret_value(),
        method=request.method,
        uri=signed_uri(request, settings.public_url),
        body=body,
        signature=request.headers.get(hubspot_format.SIGNATURE_HEADER),
        timestamp=request.headers.get(hubspot_format.TIMESTAMP_HEADER),
        now=datetime.now(UTC),
    )
    received = parse_contact_events(body)
    check_body([event.raw for event in received])
    return received


@ingest.post(
    "/v1/webhooks/hubspot",
    openapi_extra=HUBSPOT_REQUEST,
    responses={
        200: {
            "model": HubSpotAnswer,
            "description": "The events received, and each one's decision",
        },
        400: problem("The body is not a JSON array of HubSpot events (`detail` says where)."),
        401: problem("The HubSpot signature is missing, wrong or more than 5 minutes old."),
        409: NO_CONFIG,
        503: problem("LEADROUTE_HUBSPOT_SECRET is not set: the signature cannot be checked."),
    },
)
async def hubspot(request: Request, state: StateDep, settings: WebhooksDep) -> JSONResponse:
    """HubSpot contact events, X-HubSpot-Signature-v3 checked (5-minute window)."""
    try:
        received = hubspot_events(request, await request.body(), settings)
    except InboundError as exc:
        return problem_response(exc.status, exc.message)
    results: list[dict[str, Any]] = []
    for event in received:
        if event.lead is None:
            results.append({"event": event.key, "routed": False})
            continue
        try:
            result = await run_in_threadpool(
                state.intake.submit_lead, event.lead.lead, key=event.key, raw=dict(event.raw)
            )
        except LookupError as exc:  # no active config: HubSpot retries later
            raise no_config(exc) from None
        results.append({"event": event.key, **result.body})
    return JSONResponse({"received": len(received), "results": results})


@ingest.post(
    "/v1/webhooks/salesforce",
    openapi_extra=SALESFORCE_REQUEST,
    response_class=Response,
    responses={
        200: {"description": "The SOAP Ack: every lead was received", "content": SOAP},
        400: soap_fault("Not a well-formed Outbound Message of Leads"),
        403: soap_fault("The OrganizationId is not the configured org"),
        409: soap_fault("No routing config is active: Salesforce sends the message again"),
    },
)
async def salesforce(request: Request, state: StateDep, settings: WebhooksDep) -> Response:
    """Salesforce Outbound Messages (Lead); answered with the SOAP Ack."""
    body = await request.body()
    try:
        message = parse_outbound_message(body, organization_id=settings.salesforce_org_id)
        for item in message.leads:
            await run_in_threadpool(
                state.intake.submit_lead, item.lead, key=item.event_id, raw=dict(item.raw)
            )
    except InboundError as exc:
        return Response(fault(exc.message), exc.status, media_type=ACK_CONTENT_TYPE)
    except LookupError as exc:  # no active config: Salesforce resends until acked
        return Response(fault(str(exc.args[0])), 409, media_type=ACK_CONTENT_TYPE)
    return Response(ack(True), 200, media_type=ACK_CONTENT_TYPE)


@ingest.post(
    "/v1/webhooks/web-to-lead",
    openapi_extra=WEB_TO_LEAD_REQUEST,
    response_class=Response,
    responses={
        303: {
            "description": "Routed: on to retURL",
            "headers": {"Location": header("the post's retURL", required=True)},
        },
        201: {"model": LeadAnswer, "description": "Routed (no retURL, or debug): the decision"},
        200: {
            "model": LeadAnswer,
            "description": "Posted before (a double click): the current decision",
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
async def web_to_lead(request: Request, state: StateDep, settings: WebhooksDep) -> Response:
    """A web-to-lead form post (Salesforce field names); redirects to retURL."""
    body = await request.body()
    try:
        form = read_form(body, request.headers.get("content-type"))
        check_body(form)
        posted = parse_web_to_lead(form, organization_id=settings.salesforce_org_id)
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
