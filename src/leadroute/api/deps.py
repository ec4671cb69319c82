"""What the API's operations depend on, as FastAPI dependencies, and what they share.

`create_app` (app.py) keeps the app's parts on `app.state`: the per-process `ApiState`
(`leadroute`), the composition root (`root`), the key check (`authenticator`, None when every
request is admitted) and the Prometheus `metrics`. The routers ask for them with the annotated
types below (`StateDep`, `StoreDep`, ...), never through closures; the scope an operation needs
is a dependency of the router it is in (`scoped`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import Depends, Header, HTTPException, Request
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Histogram
from pydantic import WithJsonSchema

from leadroute.adapters.store.errors import RETRY_AFTER_SECONDS
from leadroute.adapters.store.sql import Store
from leadroute.api.payload import problem_response
from leadroute.api.security import Authenticator
from leadroute.api.state import ApiState
from leadroute.bootstrap import Root, Webhooks
from leadroute.services.intake import IntakeResult

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
# A moment in an answer: ISO 8601 as the store gives it back (described without `format:
# date-time`, which needs a UTC offset: SQLite keeps none on some columns).
Moment = Annotated[datetime, WithJsonSchema({"type": "string", "description": "ISO 8601"})]


# -- the app's parts ------------------------------------------------------------------------------


@dataclass
class Metrics:
    """The Prometheus registry of one app: requests by route and status, latency, leads by
    outcome (served at /metrics)."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        self.requests = Counter(
            "leadroute_http_requests",
            "HTTP requests",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.leads = Counter(
            "leadroute_leads",
            "leads answered by the API, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "leadroute_http_request_seconds",
            "HTTP request latency",
            ["route"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )


def api_state(request: Request) -> ApiState:
    return cast(ApiState, request.app.state.leadroute)


def store(request: Request) -> Store:
    return api_state(request).store


def metrics(request: Request) -> Metrics:
    return cast(Metrics, request.app.state.metrics)


def authenticator(request: Request) -> Authenticator | None:
    return cast("Authenticator | None", request.app.state.authenticator)


def webhooks(request: Request) -> Webhooks:
    """The webhook settings, read when a post comes in (leadroute.bootstrap.Root.webhooks)."""
    root: Root = request.app.state.root
    return root.webhooks()


StateDep = Annotated[ApiState, Depends(api_state)]
StoreDep = Annotated[Store, Depends(store)]
MetricsDep = Annotated[Metrics, Depends(metrics)]
AuthenticatorDep = Annotated[Authenticator | None, Depends(authenticator)]
WebhooksDep = Annotated[Webhooks, Depends(webhooks)]


def scoped(check: Authenticator | None, scope: str | None) -> list[Any]:
    """The dependencies a router's operations get for `scope`: the key check of that scope
    (401, 403 or 429 before the operation runs; described as the operation's `security`), or
    none for an open operation or an app that admits every request."""
    if check is None or scope is None:
        return []
    return [Depends(check.require(scope))]


# -- answers --------------------------------------------------------------------------------------


def answer(result: IntakeResult, counted: Metrics) -> JSONResponse:
    """An intake's answer as it is (status, body, `Idempotent-Replayed` on a replay), its
    outcome counted."""
    body = result.body
    if "outcome" in body:
        counted.leads.labels(body["outcome"]).inc()
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return JSONResponse(body, status_code=result.status_code, headers=headers)


def not_found(exc: LookupError) -> HTTPException:
    reason = exc.args[0] if exc.args and isinstance(exc.args[0], str) else str(exc)
    return HTTPException(404, reason)


def no_config(exc: LookupError) -> HTTPException:
    return HTTPException(409, str(exc.args[0] if exc.args else exc))


def database_down() -> JSONResponse:
    """The answer while the database cannot be reached (see adapters.store.errors)."""
    return problem_response(
        503,
        "the database is unavailable: try again in a few seconds "
        "(with the same Idempotency-Key, a retry never stores a lead twice)",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        retryable=True,
    )
