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
(404, 409...) in its router's decorator, the ones every operation shares (the body limit, the
encoding checks, the key check, the database) added by `describe_answers` (openapi.py).

The operations are in `routers/`, a module per resource; `create_app` only assembles the app:
its state, the middleware, the routers with the key check of their scope, the console, the
error handlers and the description.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from leadroute.adapters.store.errors import database_unavailable
from leadroute.adapters.store.sql import Store
from leadroute.api import payload
from leadroute.api.deadline import BodyDeadline
from leadroute.api.deps import Metrics, database_down, scoped
from leadroute.api.openapi import LeadrouteAPI
from leadroute.api.routers import ROUTERS
from leadroute.api.security import Authenticator, BodyLimit, RateHeaders
from leadroute.console import console_app
from leadroute.services.console_auth import ConsoleAuth

if TYPE_CHECKING:
    from leadroute.bootstrap import Root

DESCRIPTION = (
    "Every refusal (4xx) and 503 answers a `Problem`: `detail` says why in a sentence; "
    "`errors`, `problems`, `retryable`, `lead_id` and `outcome` are there where they apply. "
    "See docs/api.md."
)


def create_app(
    store: Store | None = None,
    *,
    auth: Authenticator | bool = True,
    max_body_bytes: int = 2_000_000,
    console_auth: ConsoleAuth | None = None,
    body_timeout: float | None = None,  # default: LEADROUTE_BODY_TIMEOUT
    root: Root | None = None,
) -> FastAPI:
    """The API over `store` (default: the configured database, migrated).

    Every endpoint but /v1/health needs an API key of the right scope (see security.md);
    `auth=False` admits every request (for an API embedded in a trusted process, and tests).
    The settings not given as arguments come from `root` (default: a `Root()`, reading the
    environment when asked for); `Root.api` builds the app as `leadroute serve` runs it.
    """
    from leadroute.bootstrap import Root

    root = root or Root()
    store = store or root.store()
    check = Authenticator(store) if auth is True else auth or None
    app = LeadrouteAPI(
        title="leadroute",
        version="1",
        summary="Lead routing with a reason",
        description=DESCRIPTION,
        generate_unique_id_function=lambda route: route.name,
    )
    state = root.api_state(store)
    app.state.leadroute = state
    app.state.root = root
    app.state.authenticator = check
    app.state.metrics = Metrics()
    console = console_app(
        state,
        auth=console_auth or root.console_auth(store),
        secret=root.console_secret(),
        public_url=root.settings.public_url,
    )
    app.mount("/console", console)
    payload.install(app)
    app.add_middleware(RateHeaders)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    seconds = root.settings.body_timeout if body_timeout is None else body_timeout
    app.add_middleware(BodyDeadline, seconds=seconds)  # 408 for a body that is too slow
    app.middleware("http")(measure)
    app.add_exception_handler(SQLAlchemyError, database_error)  # type: ignore[arg-type]
    for router, scope in ROUTERS:
        app.include_router(router, dependencies=scoped(check, scope))
    return app


async def measure(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Count the request and time it, by route (Prometheus, /metrics)."""
    counted: Metrics = request.app.state.metrics
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    path = getattr(route, "path", "unmatched")
    counted.latency.labels(path).observe(time.perf_counter() - started)
    counted.requests.labels(request.method, path, str(response.status_code)).inc()
    return response


async def database_error(request: Request, exc: SQLAlchemyError) -> JSONResponse:
    """The database is down or restarting: 503 with Retry-After, never a 500 or a hang.
    Nothing of the request was stored; a retry with the same Idempotency-Key is safe."""
    if not database_unavailable(exc):
        raise exc
    return database_down()
