"""Health and metrics.

GET /v1/health                     for load balancers; needs no key
GET /metrics                       Prometheus text (read)
"""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field

from leadroute.api.deps import MetricsDep, StoreDep

public = APIRouter()  # operations open to every caller
read = APIRouter()  # operations that need the `read` scope


class Health(BaseModel):
    status: str = Field(description="ok")
    database: str = Field(description="ok")
    config: int | None = Field(description="the active config version, if any")


@public.get("/v1/health")
async def health(store: StoreDep) -> Health:
    """For load balancers: 200 while the database answers (503 when it does not). Cheap
    (one indexed read) and tells nothing about the leads, as it needs no key."""
    active = await run_in_threadpool(store.active_config_seq)
    return Health(status="ok", database="ok", config=active)


@read.get("/metrics", response_class=PlainTextResponse)
async def metrics(counted: MetricsDep) -> Response:
    """Prometheus text: requests by route and status, latency, leads by outcome. Behind the
    `read` scope: it tells traffic volumes and lead outcomes."""
    return Response(generate_latest(counted.registry), media_type=CONTENT_TYPE_LATEST)
