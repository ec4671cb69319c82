"""Routing config versions: list, read, diff, validate, store, activate, roll back.

GET  /v1/configs[/{seq}], GET /v1/configs/diff (read)
POST /v1/configs/validate          errors and warnings at their lines; nothing stored (read)
POST /v1/configs                   store a version, a draft unless `activate` (admin)
POST /v1/configs/{seq}/activate, POST /v1/configs/rollback (admin)
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from leadroute.adapters.store.sql import Store, StoredConfig
from leadroute.api.deps import MAX_SEQ, Moment, StateDep, StoreDep, not_found
from leadroute.api.openapi import NOT_FOUND, listed, problem
from leadroute.api.payload import ConfigProblem, Refused
from leadroute.api.state import ApiState
from leadroute.services.configs import (
    ConfigRejected,
    activate_version,
    config_diff,
    rollback,
    save_version,
    validate_source,
)

read = APIRouter()  # operations that need the `read` scope
admin = APIRouter()  # operations that need the `admin` scope

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


class ConfigSummary(BaseModel):
    seq: int = Field(description="the version's number")
    name: str
    hash: str = Field(description="the compiled config's content hash")
    active: bool
    created_at: Moment

    @classmethod
    def of(cls, stored: StoredConfig) -> ConfigSummary:
        return cls(
            seq=stored.seq,
            name=stored.name,
            hash=stored.hash,
            active=stored.active,
            created_at=stored.created_at,
        )


class ConfigVersion(ConfigSummary):
    source: str = Field(description="the YAML as stored")


class ConfigStored(ConfigSummary):
    problems: list[ConfigProblem] = Field(description="its warnings, at their lines")


SEQ = {"seq": "$response.body#/seq"}
CONFIG_LINKS = {
    "GetConfig": {"operationId": "get_config", "parameters": SEQ},
    "ActivateConfig": {"operationId": "post_activate", "parameters": SEQ},
    "DiffConfigs": {
        "operationId": "get_diff",
        "parameters": {"a": "$response.body#/seq", "b": "$response.body#/seq"},
    },
}
Seq = Path(ge=1, le=MAX_SEQ)


def summary(store: Store, seq: int) -> ConfigSummary:
    stored = store.config(seq)
    assert stored is not None  # just stored or activated
    return ConfigSummary.of(stored)


def rejected(exc: ConfigRejected) -> Refused:
    """422 naming the first errors at their lines; `problems` has them all."""
    errors = [p for p in exc.problems if p.get("severity") == "error"] or exc.problems
    shown = "; ".join(
        (f"line {p['line']}: " if p.get("line") else "") + str(p.get("message")) for p in errors[:3]
    )
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return Refused(
        422, f"the config is not valid: {shown or 'no config'}{more}", problems=exc.problems
    )


def activated(state: ApiState, change: Callable[[], int], *, missing: int) -> ConfigSummary:
    """Run a change of the active version; `missing` is the status when there is nothing to
    activate (404 for an unknown version, 409 for no earlier one)."""
    try:
        seq = change()
    except ConfigRejected as exc:
        raise rejected(exc) from None
    except LookupError as exc:
        raise HTTPException(missing, str(exc)) from None
    state.reset()
    return summary(state.store, seq)


@read.get("/v1/configs", responses={200: {"links": listed(CONFIG_LINKS, "seq", "seq")}})
async def get_configs(store: StoreDep) -> list[ConfigSummary]:
    return [ConfigSummary.of(c) for c in await run_in_threadpool(store.configs)]


@read.get("/v1/configs/diff", response_class=PlainTextResponse, responses={404: NOT_FOUND})
async def get_diff(
    store: StoreDep, a: int = Query(ge=1, le=MAX_SEQ), b: int = Query(ge=1, le=MAX_SEQ)
) -> PlainTextResponse:
    """A unified diff of two versions' YAML."""
    try:
        return PlainTextResponse(config_diff(store, a, b))
    except LookupError as exc:
        raise not_found(exc) from None


@read.get("/v1/configs/{seq}", responses={404: NOT_FOUND})
async def get_config(store: StoreDep, seq: int = Seq) -> ConfigVersion:
    stored = await run_in_threadpool(store.config, seq)
    if stored is None:
        raise HTTPException(404, f"no config #{seq}")
    return ConfigVersion(**ConfigSummary.of(stored).model_dump(), source=stored.source)


@read.post("/v1/configs/validate")
async def post_validate(config: ConfigText, store: StoreDep) -> ConfigCheck:
    """Errors and warnings, each at its line; nothing is stored."""
    loaded, problems = await run_in_threadpool(validate_source, store, config.source)
    return ConfigCheck(valid=loaded is not None, problems=[ConfigProblem(**p) for p in problems])


@admin.post(
    "/v1/configs",
    status_code=201,
    responses={
        201: {"description": "Stored", "links": CONFIG_LINKS},
        422: problem("The config is not valid: `problems` lists each at its line."),
    },
)
async def post_config(
    config: ConfigText, state: StateDep, store: StoreDep, activate: bool = False
) -> ConfigStored:
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
    stored = summary(store, seq).model_dump()
    return ConfigStored(**stored, problems=[ConfigProblem(**p) for p in problems])


@admin.post(
    "/v1/configs/{seq}/activate",
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
async def post_activate(state: StateDep, seq: int = Seq) -> ConfigSummary:
    """Make a stored version the active one (checked against today's org first)."""
    return await run_in_threadpool(
        lambda: activated(state, lambda: activate_version(state.store, seq), missing=404)
    )


@admin.post(
    "/v1/configs/rollback",
    responses={
        409: problem("No version was active before the current one."),
        422: problem(
            "That version is not valid against today's org: `problems` lists each at its line."
        ),
    },
)
async def post_rollback(state: StateDep) -> ConfigSummary:
    """Activate the version that was active before the current one."""
    return await run_in_threadpool(
        lambda: activated(state, lambda: rollback(state.store), missing=409)
    )
