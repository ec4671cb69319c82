"""Accounts of the org.

GET  /v1/accounts[?domain=]        accounts, by domain (read)
GET  /v1/accounts/{id}             one account (read)
POST /v1/accounts                  create or update accounts (admin)
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, HTTPException
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from leadroute.adapters import orgfile
from leadroute.api.deps import StateDep, StoreDep, Text
from leadroute.api.openapi import NOT_FOUND, problem
from leadroute.api.payload import check_body
from leadroute.domain.org import build_org

read = APIRouter()  # operations that need the `read` scope
admin = APIRouter()  # operations that need the `admin` scope


class AccountDoc(BaseModel):
    """An account as the org file writes it."""

    model_config = ConfigDict(extra="allow")

    id: str
    name: str
    domain: str | None
    parent: str | None
    owner: str | None = Field(description="the rep who owns the account")
    status: str
    opportunity_stage: str | None
    named: bool
    industry: str | None
    employees: int | None


class Saved(BaseModel):
    saved: int = Field(description="accounts created or updated")


ACCOUNT = {"account_id": "$response.body#/0/id"}
EXAMPLE = {"accounts": [{"id": "globex", "name": "Globex", "domain": "globex.example"}]}


@read.get(
    "/v1/accounts",
    responses={
        200: {"links": {"GetAccount": {"operationId": "get_account", "parameters": ACCOUNT}}}
    },
)
async def get_accounts(store: StoreDep, domain: Text = None, limit: int = 100) -> list[AccountDoc]:
    org = await run_in_threadpool(store.load_org)
    accounts = list(org.accounts.values())
    if domain:
        accounts = [a for a in accounts if a.domain == domain.lower()]
    shown = accounts[: max(1, min(limit, 1000))]
    return [AccountDoc.model_validate(orgfile.account_to_doc(a)) for a in shown]


@read.get("/v1/accounts/{account_id}", responses={404: NOT_FOUND})
async def get_account(account_id: str, store: StoreDep) -> AccountDoc:
    org = await run_in_threadpool(store.load_org)
    account = org.accounts.get(account_id)
    if account is None:
        raise HTTPException(404, f"no account '{account_id}'")
    return AccountDoc.model_validate(orgfile.account_to_doc(account))


@admin.post(
    "/v1/accounts",
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
    state: StateDep, store: StoreDep, body: dict[str, Any] = Body(..., examples=[EXAMPLE])
) -> Saved:
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
    return Saved(saved=len(accounts))
