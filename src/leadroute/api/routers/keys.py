"""API keys (admin).

GET    /v1/keys                    every key (never the key itself)
POST   /v1/keys                    a new key: it is in this answer only
DELETE /v1/keys/{name}             revoke a key
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from leadroute.adapters.store.key_store import KeyStore
from leadroute.api.deps import AuthenticatorDep, StoreDep
from leadroute.api.openapi import NOT_FOUND, problem
from leadroute.api.payload import check_body

admin = APIRouter()  # operations that need the `admin` scope


class NewKey(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=120,
        pattern=r"\S",
        description="who holds the key (unique; names of revoked keys stay taken)",
    )
    scopes: list[Literal["ingest", "read", "admin"]] = Field(min_length=1)


class KeyRecord(BaseModel):
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    scopes: list[str]
    created_at: str = Field(description="ISO 8601")
    revoked_at: str | None = Field(description="ISO 8601; null while the key is active")
    last_used_at: str | None = Field(description="ISO 8601")


class CreatedKey(KeyRecord):
    key: str = Field(description="the key itself: shown in this answer only")


@admin.get("/v1/keys")
async def get_keys(store: StoreDep) -> list[KeyRecord]:
    keys = await run_in_threadpool(KeyStore(store).list)
    return [KeyRecord.model_validate(k.as_record()) for k in keys]


@admin.post(
    "/v1/keys",
    status_code=201,
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
async def post_key(body: NewKey, store: StoreDep) -> CreatedKey:
    """{"name": ..., "scopes": ["ingest", "read"]}: the key is in this answer only."""
    check_body(body.model_dump())
    try:
        plaintext, key = await run_in_threadpool(KeyStore(store).create, body.name, body.scopes)
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from None
    return CreatedKey.model_validate(key.as_record() | {"key": plaintext})


# `:path`: a key's name may hold a slash (`a/b`, sent as `a%2Fb`); the description says `{name}`.
@admin.delete("/v1/keys/{name:path}", responses={404: NOT_FOUND})
async def delete_key(name: str, store: StoreDep, check: AuthenticatorDep) -> KeyRecord:
    key = await run_in_threadpool(KeyStore(store).revoke, name)
    if key is None:
        raise HTTPException(404, f"no key '{name}'")
    if check is not None:
        check.forget()  # the revoked key is refused at its next request
    return KeyRecord.model_validate(key.as_record())
