"""The OpenAPI description's shared parts: every answer an operation may give.

Every refusal (4xx) and 503 is a `Problem` (payload.py): `detail`, a sentence, and members where
they apply. The description lists every status an operation can answer: its own (404, 409...)
in its router's decorator, the ones every operation shares (the body limit, the encoding checks,
the key check, the database) added by `describe_answers`, which `LeadrouteAPI.openapi` runs.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from fastapi import FastAPI

from leadroute.api.payload import Problem

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
