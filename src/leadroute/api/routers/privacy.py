"""Erasure of a person (GDPR), admin.

POST /v1/privacy/erase             {"email": ...} or {"lead_id": ...}; counts are kept
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from leadroute.adapters.registry import person_erasure
from leadroute.api.deps import StateDep
from leadroute.api.payload import check_body
from leadroute.services.privacy import erase_person

admin = APIRouter()  # operations that need the `admin` scope


class Erasure(BaseModel):
    email: str | None = Field(None, max_length=320, description="the person's email")
    lead_id: str | None = Field(None, max_length=200, description="or one of their leads")


class ErasureReport(BaseModel):
    """What the erasure touched: ids and counts, no personal data."""

    lead_ids: list[str] = Field(description="the person's leads")
    linked: list[str] = Field(description="leads found through duplicate links")
    rows: dict[str, int] = Field(description="the person's rows rewritten, per table")
    mentions: dict[str, int] = Field(
        description="other rows rewritten because they quoted the person, per table"
    )
    fields: dict[str, list[str]] = Field(description="personal fields erased, per lead")
    cached_lookups: int = Field(description="cached enrichment answers deleted")
    events: int = Field(description="`erased` lifecycle events written")
    at: str = Field(description="ISO 8601")
    dry_run: bool


@admin.post("/v1/privacy/erase")
async def post_erase(body: Erasure, state: StateDep) -> ErasureReport:
    """Erase a person (GDPR): {"email": ...} or {"lead_id": ...}. Counts are kept."""
    check_body(body.model_dump())
    try:
        report = await run_in_threadpool(
            lambda: erase_person(
                person_erasure(state.store),
                email=body.email,
                lead_id=body.lead_id,
                now=datetime.now(UTC),
                actor="api",
            )
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    state.reset()
    return ErasureReport.model_validate(report.as_record())
