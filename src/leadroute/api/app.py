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
"""

from __future__ import annotations

import os
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

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
from pydantic import BaseModel, Field
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
from leadroute.api.payload import check_body
from leadroute.api.security import Authenticator, BodyLimit
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
    status: RepStatus | None = Field(None, description="active, paused or inactive")
    out_of_office: list[dict[str, Any]] | None = Field(
        None, description="absences: [{start, end, reason}] (replaces the list)"
    )
    caps: dict[str, int | None] | None = Field(None, description="{day, week, month}")
    weight: float | None = Field(None, gt=0)
    working_hours: Any = Field(None, description="as in the org file")


class ConfigText(BaseModel):
    source: str = Field(description="the routing config, YAML")


MAX_SEQ = 2**31 - 1  # config versions are numbered in a 32-bit column


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
    return JSONResponse(
        {
            "detail": "the database is unavailable: try again in a few seconds "
            "(with the same Idempotency-Key, a retry never stores a lead twice)",
            "retryable": True,
        },
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def create_app(
    store: Store | None = None,
    *,
    auth: Authenticator | bool = True,
    max_body_bytes: int = 2_000_000,
) -> FastAPI:
    """The API over `store` (default: the configured database, migrated).

    Every endpoint but /v1/health needs an API key of the right scope (see security.md);
    `auth=False` admits every request (for an API embedded in a trusted process, and tests).
    """
    if store is None:
        store = Store(get_settings().db)
        store.migrate()
    state = ApiState(store)
    app = FastAPI(title="leadroute", version="1", summary="Lead routing with a reason")
    app.state.leadroute = state
    app.mount("/console", console_app(state))
    payload.install(app)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
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
        return HTTPException(404, str(exc).strip("'\""))

    # -- leads ---------------------------------------------------------------------------------

    @app.post("/v1/leads", status_code=201, dependencies=[scope("ingest")])
    async def post_lead(
        lead: dict[str, Any] = Body(
            ...,
            examples=[{"email": "ada@acme.com", "company": "Acme", "country": "US"}],
        ),
        idempotency_key: str | None = Header(None, max_length=200),
        channel: str = "api",
        source: str | None = None,
    ) -> JSONResponse:
        """Route one lead now. The answer is its decision: the rep (with the booking link) or
        the queue (with its redirect URL or message), the route and the reason."""
        check_body(lead)
        try:
            result = await run_in_threadpool(
                state.intake.submit, lead, key=idempotency_key, channel=channel, source=source
            )
        except LookupError as exc:  # no active config
            raise HTTPException(409, str(exc)) from None
        return answer(result)

    @app.post("/v1/leads/bulk", dependencies=[scope("ingest")])
    async def post_leads(
        body: dict[str, Any] = Body(..., examples=[{"leads": [{"email": "a@b.com"}]}]),
        idempotency_key: str | None = Header(None, max_length=200),
        channel: str = "api",
        source: str | None = None,
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
            raise HTTPException(409, str(exc)) from None
        return answer(result)

    @app.get("/v1/leads/{lead_id}", dependencies=[scope("read")])
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

    @app.get("/v1/leads/{lead_id}/decisions", dependencies=[scope("read")])
    async def get_decisions(lead_id: str) -> list[dict[str, Any]]:
        records = await run_in_threadpool(store.decisions, lead_id)
        if not records and await run_in_threadpool(store.lead, lead_id) is None:
            raise HTTPException(404, f"no lead '{lead_id}'")
        return [r.record | {"decision_id": r.id, "current": r.current} for r in records]

    @app.get("/v1/leads/{lead_id}/brief", dependencies=[scope("read")])
    async def get_brief(lead_id: str) -> dict[str, Any]:
        """The lead's brief: person, route, account, scores with reasons, recent activity."""
        try:
            brief = await run_in_threadpool(state.routing.brief, lead_id)
        except LookupError as exc:
            raise not_found(exc) from None
        return brief.as_record()

    @app.get("/v1/leads/{lead_id}/events", dependencies=[scope("read")])
    async def get_events(lead_id: str) -> list[dict[str, Any]]:
        rows = await run_in_threadpool(events, store, lead_id)
        if not rows and await run_in_threadpool(store.lead, lead_id) is None:
            raise HTTPException(404, f"no lead '{lead_id}'")
        return rows

    @app.post("/v1/leads/{lead_id}/actions/{action}", dependencies=[scope("ingest")])
    async def post_action(lead_id: str, action: str, actor: str | None = None) -> dict[str, Any]:
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

    @app.get("/v1/decisions", dependencies=[scope("read")])
    async def get_recent(since: datetime | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Current decisions (at most `limit`, 1 to 1,000), from `since` on."""
        limit = max(1, min(limit, 1000))

        def read() -> list[dict[str, Any]]:
            reps = state.routing.router.org.reps
            found = []
            for stored in store.decisions_since(since):
                found.append(decision_view(stored, reps))
                if len(found) >= limit:
                    break
            return found

        return await run_in_threadpool(read)

    # -- activities ----------------------------------------------------------------------------

    @app.post("/v1/activities", response_model=ActivityResult, dependencies=[scope("ingest")])
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

        result = await run_in_threadpool(record)
        if not many and result.rejected:
            raise HTTPException(422, result.rejected[0].reason)
        return result

    # -- org: accounts and reps ----------------------------------------------------------------

    @app.get("/v1/accounts", dependencies=[scope("read")])
    async def get_accounts(domain: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        org = await run_in_threadpool(store.load_org)
        accounts = org.accounts.values()
        if domain:
            accounts = [a for a in accounts if a.domain == domain.lower()]  # type: ignore[assignment]
        return [orgfile.account_to_doc(a) for a in list(accounts)[: max(1, min(limit, 1000))]]

    @app.get("/v1/accounts/{account_id}", dependencies=[scope("read")])
    async def get_account(account_id: str) -> dict[str, Any]:
        org = await run_in_threadpool(store.load_org)
        account = org.accounts.get(account_id)
        if account is None:
            raise HTTPException(404, f"no account '{account_id}'")
        return orgfile.account_to_doc(account)

    @app.post("/v1/accounts", dependencies=[scope("admin")])
    async def post_accounts(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
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

    @app.get("/v1/reps", dependencies=[scope("read")])
    async def get_reps() -> list[dict[str, Any]]:
        org = await run_in_threadpool(store.load_org)
        return [orgfile.rep_to_doc(r) for r in org.reps.values()]

    @app.get("/v1/reps/{rep_id}", dependencies=[scope("read")])
    async def get_rep(rep_id: str) -> dict[str, Any]:
        org = await run_in_threadpool(store.load_org)
        rep = org.reps.get(rep_id)
        if rep is None:
            raise HTTPException(404, f"no rep '{rep_id}'")
        return orgfile.rep_to_doc(rep)

    @app.patch("/v1/reps/{rep_id}", dependencies=[scope("admin")])
    async def patch_rep(rep_id: str, change: RepChange) -> dict[str, Any]:
        """Availability, out of office, caps, weight, hours. Making a rep inactive hands
        their open leads on through the flow (the answer lists where each went)."""
        changes = change.model_dump(exclude_unset=True)
        check_body(changes)
        return await rep_changed(lambda: rep_changes.change_rep(state.routing, rep_id, changes))

    @app.post("/v1/reps/{rep_id}/deactivate", dependencies=[scope("admin")])
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

    @app.get("/v1/configs", dependencies=[scope("read")])
    async def get_configs() -> list[dict[str, Any]]:
        return [config_summary(c) for c in await run_in_threadpool(store.configs)]

    @app.get("/v1/configs/diff", dependencies=[scope("read")])
    async def get_diff(
        a: int = Query(ge=1, le=MAX_SEQ), b: int = Query(ge=1, le=MAX_SEQ)
    ) -> PlainTextResponse:
        """A unified diff of two versions' YAML."""
        try:
            return PlainTextResponse(config_diff(store, a, b))
        except LookupError as exc:
            raise not_found(exc) from None

    @app.get("/v1/configs/{seq}", dependencies=[scope("read")])
    async def get_config(seq: int = Path(ge=1, le=MAX_SEQ)) -> dict[str, Any]:
        stored = await run_in_threadpool(store.config, seq)
        if stored is None:
            raise HTTPException(404, f"no config #{seq}")
        return config_summary(stored) | {"source": stored.source}

    @app.post("/v1/configs/validate", dependencies=[scope("read")])
    async def post_validate(config: ConfigText) -> dict[str, Any]:
        """Errors and warnings, each at its line; nothing is stored."""
        loaded, problems = await run_in_threadpool(validate, config.source)
        return {"valid": loaded is not None, "problems": problems}

    @app.post("/v1/configs", status_code=201, dependencies=[scope("admin")])
    async def post_config(config: ConfigText, activate: bool = False) -> dict[str, Any]:
        """Store a version (a draft unless `activate`); an invalid one is refused with its
        problems at their lines."""
        try:
            seq, problems = await run_in_threadpool(
                save_version, store, config.source, activate=activate
            )
        except ConfigRejected as exc:
            raise HTTPException(422, {"problems": exc.problems}) from None
        if activate:
            state.reset()
        return config_summary(store.config(seq)) | {"problems": problems}

    def activated(change: Callable[[], int], *, missing: int) -> dict[str, Any]:
        """Run a change of the active version; `missing` is the status when there is nothing to
        activate (404 for an unknown version, 409 for no earlier one)."""
        try:
            seq = change()
        except ConfigRejected as exc:
            raise HTTPException(422, {"problems": exc.problems}) from None
        except LookupError as exc:
            raise HTTPException(missing, str(exc)) from None
        state.reset()
        return config_summary(store.config(seq))

    @app.post("/v1/configs/{seq}/activate", dependencies=[scope("admin")])
    async def post_activate(seq: int = Path(ge=1, le=MAX_SEQ)) -> dict[str, Any]:
        """Make a stored version the active one (checked against today's org first)."""
        return await run_in_threadpool(
            lambda: activated(lambda: activate_version(store, seq), missing=404)
        )

    @app.post("/v1/configs/rollback", dependencies=[scope("admin")])
    async def post_rollback() -> dict[str, Any]:
        """Activate the version that was active before the current one."""
        return await run_in_threadpool(lambda: activated(lambda: rollback(store), missing=409))

    # -- webhooks ------------------------------------------------------------------------------

    def settings_value(name: str) -> str | None:
        return os.environ.get(name) or None

    @app.post("/v1/webhooks/hubspot", dependencies=[scope("ingest")])
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
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        results = []
        for event in received:
            if event.lead is None:
                results.append({"event": event.key, "routed": False})
                continue
            result = await run_in_threadpool(
                state.intake.submit_lead,
                event.lead.lead,
                key=event.key,
                raw=dict(event.raw),
            )
            results.append({"event": event.key, **result.body})
        return JSONResponse({"received": len(received), "results": results})

    @app.post("/v1/webhooks/salesforce", dependencies=[scope("ingest")])
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
        return Response(ack(True), 200, media_type=ACK_CONTENT_TYPE)

    @app.post("/v1/webhooks/web-to-lead", dependencies=[scope("ingest")])
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
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        result = await run_in_threadpool(
            state.intake.submit_lead,
            posted.lead.lead,
            key=f"w2l:{posted.lead.lead.id}",
            raw=dict(posted.lead.raw),
        )
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

    @app.post("/v1/keys", status_code=201, dependencies=[scope("admin")])
    async def post_key(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """{"name": ..., "scopes": ["ingest", "read"]}: the key is in this answer only."""
        check_body(body)
        try:
            plaintext, key = await run_in_threadpool(
                KeyStore(store).create, str(body.get("name", "")), body.get("scopes") or []
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return key.as_record() | {"key": plaintext}

    @app.delete("/v1/keys/{name}", dependencies=[scope("admin")])
    async def delete_key(name: str) -> dict[str, Any]:
        key = await run_in_threadpool(KeyStore(store).revoke, name)
        if key is None:
            raise HTTPException(404, f"no key '{name}'")
        if authenticator is not None:
            authenticator.forget()
        return key.as_record()

    @app.post("/v1/privacy/erase", dependencies=[scope("admin")])
    async def post_erase(body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Erase a person (GDPR): {"email": ...} or {"lead_id": ...}. Counts are kept."""
        check_body(body)
        try:
            report = await run_in_threadpool(
                lambda: erase_person(
                    store,
                    email=body.get("email"),
                    lead_id=body.get("lead_id"),
                    now=datetime.now(UTC),
                    actor="api",
                )
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        state.reset()
        return report.as_record()

    @app.get("/metrics", include_in_schema=False, dependencies=[scope("read")])
    async def metrics() -> Response:
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return app
