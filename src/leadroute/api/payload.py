"""What a request may carry: text leadroute can store, in an encoding it can read.

`RequestText` is a plain ASGI middleware that answers, before the application acts:

- 400 for a URL whose path or query holds a NUL character (`%00`): no id or text in leadroute
  may hold one (PostgreSQL cannot store it);
- 415 for a JSON body declared in a charset other than UTF-8 (`Content-Type: application/json;
  charset=latin-1`): JSON is UTF-8 (RFC 8259);
- 400 for a JSON body that is not UTF-8 as it arrives: a byte that is not UTF-8 (latin-1 text),
  a UTF-16 or UTF-32 byte order mark, or a NUL byte (UTF-16 or UTF-32 without a mark).

`check_body(value)` refuses (422, naming the place) a parsed body holding what no field may
hold: nesting deeper than 32 levels, a whole number beyond 64 bits, NaN or Infinity, text over
32,000 characters (a name over 200), a NUL character, or an unpaired surrogate (a JSON `\\u`
escape can spell one; UTF-8 cannot). Such a request is refused whole: nothing of it is stored.

`install(app)` adds the middleware and answers for requests FastAPI cannot read: 415 for a body
that is not JSON where JSON is expected, the JSON parser's own reason instead of "There was an
error parsing the body", and validation errors that quote the input only where it can be shown.

Every refusal has one shape, `Problem`: `detail`, always a sentence saying why, and where it
helps a member a program can read (`errors` for a request that does not fit the API's
description, `problems` for a config that is not valid, `retryable` while the database is
down, `lead_id` and `outcome` for a lead kept as rejected). `Refused(...)` raises one.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, Literal

import orjson
from fastapi import FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_DEPTH = 32
MAX_TEXT = 32_000
MAX_NAME = 200
_INT64 = 2**63
_CHARSET = re.compile(r"""charset\s*=\s*["']?([^"';\s]+)""", re.IGNORECASE)
_UNREADABLE = "There was an error parsing the body"  # FastAPI's words


# -- the shape of every refusal -------------------------------------------------------------------


class ValidationIssue(BaseModel):
    """One way a request does not fit the API's description, in pydantic's words."""

    model_config = ConfigDict(extra="forbid")

    loc: list[str | int] = Field(
        description="where: 'body', 'query', 'path' or 'header', then the name or position"
    )
    msg: str = Field(description="what is wrong, e.g. 'Input should be a valid integer'")
    type: str = Field(description="the kind of error, e.g. missing, int_parsing, json_invalid")
    input: Any = Field(None, description="the value as sent, when it can be shown as JSON")
    ctx: dict[str, Any] | SkipJsonSchema[None] = Field(
        None, description="the limit or reason involved, e.g. {'ge': 1}"
    )


class ConfigProblem(BaseModel):
    """An error or a warning in a routing config, at its line."""

    model_config = ConfigDict(extra="forbid")

    line: int | None = Field(description="the line in the YAML, or null for the whole config")
    severity: str = Field(description="error (the config is refused) or warning")
    message: str


class Problem(BaseModel):
    """Every refusal (4xx) and 503 of the API: `detail` says why in a sentence; the other
    members are there only where they apply."""

    model_config = ConfigDict(extra="forbid")

    detail: str = Field(min_length=1, description="why the request was refused, in a sentence")
    errors: list[ValidationIssue] | SkipJsonSchema[None] = Field(
        None, description="each way the request does not fit the API's description (422)"
    )
    problems: list[ConfigProblem] | SkipJsonSchema[None] = Field(
        None, description="the config's errors and warnings at their lines (422)"
    )
    retryable: bool | SkipJsonSchema[None] = Field(
        None, description="true: nothing was done, the same request may be sent again (503)"
    )
    lead_id: str | SkipJsonSchema[None] = Field(
        None, description="a lead refused as not valid: the id it is kept under as rejected"
    )
    outcome: Literal["rejected"] | SkipJsonSchema[None] = Field(
        None, description="a lead refused as not valid: 'rejected'"
    )


class Refused(HTTPException):
    """An HTTPException whose answer is a Problem with members besides `detail`."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **members: Any,
    ) -> None:
        super().__init__(status_code, detail, headers=dict(headers) if headers else None)
        self.members = members


def problem_response(
    status_code: int,
    detail: str,
    *,
    headers: Mapping[str, str] | None = None,
    **members: Any,
) -> JSONResponse:
    """A Problem answer: {"detail": ..., **members}."""
    return JSONResponse(
        {"detail": detail, **members}, status_code=status_code, headers=headers or None
    )


def install(app: FastAPI) -> None:
    """Refuse unreadable requests with a reason (see the module's docstring)."""
    app.add_middleware(RequestText)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(StarletteHTTPException, _http_error)


# -- the URL and the body's encoding -------------------------------------------------------------


class RequestText:
    """ASGI middleware: 400 for a NUL in the URL; 415 or 400 for a JSON body that is not UTF-8."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _url_has_nul(scope):
            await _answer(send, 400, "the URL holds a NUL character (%00): not accepted")
            return
        content_type = _header(scope, b"content-type")
        if content_type is None or not _is_json(content_type):
            await self.app(scope, receive, send)
            return
        charset = _charset(content_type)
        if charset is not None:
            try:
                name = codecs.lookup(charset).name
            except LookupError:
                name = None
            if name != "utf-8":
                await _answer(
                    send, 415, f"JSON must be sent as UTF-8; Content-Type says charset={charset}"
                )
                return
        await self.app(scope, _utf8_only(receive), send)


def _utf8_only(receive: Receive) -> Receive:
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen = 0

    async def checked() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] != "http.request":
            return message
        chunk: bytes = message.get("body", b"")
        final = not message.get("more_body", False)
        if seen == 0 and chunk.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise HTTPException(
                400, "the body starts with a UTF-16 byte order mark: JSON must be sent as UTF-8"
            )
        nul = chunk.find(b"\x00")
        if nul >= 0:
            raise HTTPException(
                400,
                f"the body holds a NUL byte at offset {seen + nul}: JSON must be sent as "
                "UTF-8 (not UTF-16 or UTF-32)",
            )
        try:
            decoder.decode(chunk, final)
        except UnicodeDecodeError as exc:
            bad = chunk[exc.start : exc.start + 1] if exc.start < len(chunk) else b""
            byte = f"byte 0x{bad.hex()} " if bad else "an unfinished character "
            raise HTTPException(
                400,
                f"the body is not valid UTF-8 ({byte}at offset {seen + exc.start}): "
                "JSON must be sent as UTF-8",
            ) from None
        seen += len(chunk)
        return message

    return checked


def _url_has_nul(scope: Scope) -> bool:
    if "\x00" in scope.get("path", ""):
        return True
    query: bytes = scope.get("query_string", b"")
    return b"%00" in query or b"\x00" in query


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _is_json(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        return True
    return kind.startswith("application/") and kind.endswith("+json")


def _charset(content_type: str) -> str | None:
    found = _CHARSET.search(content_type)
    return found.group(1) if found else None


async def _answer(send: Send, status: int, detail: str) -> None:
    body = orjson.dumps({"detail": detail})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- what a parsed body may hold -------------------------------------------------------------


def check_body(value: Any, *, max_text: int = MAX_TEXT) -> None:
    """Raise HTTPException(422) naming the first place in `value` (a parsed body) that no field
    may hold: nesting deeper than MAX_DEPTH, a whole number outside 64 bits, NaN or Infinity, a
    text over `max_text` characters or a name over MAX_NAME, a NUL character, or an unpaired
    surrogate."""
    found = _problem(value, 0, max_text)
    if found is not None:
        steps, problem = found
        where = "".join(["body", *reversed(steps)])
        if len(where) > 120:
            where = where[:117] + "..."
        raise HTTPException(422, f"{where}: {problem}")


def _problem(value: Any, depth: int, max_text: int) -> tuple[list[str], str] | None:
    """(the path to the first problem, innermost step first; what is wrong), or None."""
    if isinstance(value, str):
        problem = _text_problem(value, max_text)
        return None if problem is None else ([], problem)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if -_INT64 <= value < _INT64:
            return None
        return [], f"a whole number of {value.bit_length()} bits does not fit in 64 bits"
    if isinstance(value, float):
        return None if math.isfinite(value) else ([], f"{value} is not a number JSON allows")
    if isinstance(value, dict | list | tuple) and depth >= MAX_DEPTH:
        return [], f"nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, dict):
        for key, item in value.items():
            name = str(key)
            problem = _text_problem(name, MAX_NAME)
            if problem is not None:
                return [f".{_shown(name)}"], f"the name: {problem}"
            found = _problem(item, depth + 1, max_text)
            if found is not None:
                found[0].append(f".{_shown(name)}")
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = _problem(item, depth + 1, max_text)
            if found is not None:
                found[0].append(f"[{i}]")
                return found
    return None


def _text_problem(text: str, max_length: int) -> str | None:
    if len(text) > max_length:
        return f"text of {len(text):,} characters; at most {max_length:,} are accepted"
    if "\x00" in text:
        return "text holds a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "text is not valid Unicode (an unpaired surrogate, \\ud800-\\udfff)"
    return None


def _shown(name: str) -> str:
    """A field name as it may be quoted back: as sent when plain, else escaped and cut short."""
    if len(name) <= 60 and name.isprintable():
        return name
    return ascii(name[:40])


# -- answers for requests FastAPI cannot read ----------------------------------------------------


async def _invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    content_type = request.headers.get("content-type")
    body_not_json = any(
        tuple(e.get("loc", ()))[:1] == ("body",)
        and e.get("type") in ("dict_type", "model_attributes_type")
        for e in errors
    )
    if body_not_json and (content_type is None or not _is_json(content_type)):
        got = f"'{content_type[:100]}'" if content_type else "none"
        return problem_response(
            415, f"send the body as JSON with 'Content-Type: application/json' (got {got})"
        )
    shown = [_showable(e) for e in errors]
    return problem_response(422, _summary(shown), errors=shown)


_SHOWN_ERRORS = 3


def _summary(errors: list[dict[str, Any]]) -> str:
    """A sentence for validation errors: each place and what is wrong (the first few)."""
    if len(errors) == 1 and errors[0].get("type") == "json_invalid":
        error = errors[0]
        reason = (error.get("ctx") or {}).get("error") or error.get("msg")
        loc = error.get("loc") or []
        at = f" at position {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
        return f"the body is not valid JSON: {reason}{at}"
    parts = []
    for error in errors[:_SHOWN_ERRORS]:
        where = "".join(
            f"[{part}]" if isinstance(part, int) else f".{part}" if i else str(part)
            for i, part in enumerate(error.get("loc") or ["request"])
        )
        parts.append(f"{where}: {error.get('msg', 'not valid')}")
    more = len(errors) - _SHOWN_ERRORS
    if more > 0:
        parts.append(f"and {more} more")
    return "the request does not fit the API's description: " + "; ".join(parts)


_ISSUE_KEYS = ("type", "loc", "msg", "input", "ctx")


def _showable(error: Any) -> dict[str, Any]:
    """A validation error as a ValidationIssue: FastAPI's, less an input or context that cannot
    be written as JSON text (NaN, an unpaired surrogate, bytes that are not UTF-8)."""
    shown: dict[str, Any] = {}
    for key, value in dict(error).items():
        if key not in _ISSUE_KEYS:
            continue
        if key == "loc":
            shown[key] = [part if isinstance(part, int) else _shown(str(part)) for part in value]
            continue
        try:
            encoded = jsonable_encoder(value)
            json.dumps(encoded, ensure_ascii=False, allow_nan=False).encode("utf-8")
        except (TypeError, ValueError):  # UnicodeError is a ValueError
            if key in ("input", "ctx"):
                continue
            encoded = str(value).encode("utf-8", "backslashreplace").decode("utf-8")
        shown[key] = encoded
    return shown


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    cause = exc.__cause__
    if exc.status_code == 400 and exc.detail == _UNREADABLE and cause is not None:
        if isinstance(cause, RecursionError):
            reason = "nested too deeply"
        elif "integer string conversion" in str(cause):
            reason = "a number has more than 4,300 digits"
        else:
            reason = str(cause).encode("utf-8", "backslashreplace").decode("utf-8")[:200]
        return problem_response(400, f"the body is not valid JSON: {reason}")
    if exc.status_code in (204, 304) or exc.status_code < 200:
        return await http_exception_handler(request, exc)  # an answer without a body
    detail = exc.detail if isinstance(exc.detail, str) else json.dumps(jsonable_encoder(exc.detail))
    if not detail.strip():  # never an empty reason
        known = exc.status_code in HTTPStatus._value2member_map_
        detail = HTTPStatus(exc.status_code).phrase if known else f"refused ({exc.status_code})"
    members = exc.members if isinstance(exc, Refused) else {}
    return problem_response(exc.status_code, detail, headers=exc.headers, **members)
