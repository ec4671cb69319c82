"""Who may call the API, how often, and with how large a body.

`Authenticator.require(scope)` is a FastAPI dependency: it reads the key from
`Authorization: Bearer <key>` or `X-API-Key: <key>` and answers

- 401 when there is no key or it is unknown, malformed or revoked (with `WWW-Authenticate`);
  also when an `Authorization` header is there but is not `Bearer <key>` (`Basic ...`, a bare
  word), or when it and `X-API-Key` carry different keys: a request never passes on one
  credential while another it carries is ignored;
- 429 with `Retry-After` when the key has used up its rate (a token bucket per key);
- 403 when the key lacks the scope, naming the scope needed.

A verified key is cached for `cache_ttl` seconds (unknown keys too), so a request costs a dict
lookup instead of a hash and a query; a key revoked elsewhere therefore keeps working here for
at most `cache_ttl` seconds (`forget()` clears the cache at once, e.g. after revoking through
this process).

Rate limits live in this process: with several server processes, each one enforces its own
budget, so a key may make up to `processes x rate_per_minute` requests a minute in total. Divide
the rate you want by the number of processes when you configure it.

`RateHeaders` (ASGI middleware) puts `X-RateLimit-Limit` and `X-RateLimit-Remaining` on every
answer below 400 to a request whose key was checked, whatever kind of response the endpoint
built.

`BodyLimit` is a plain ASGI middleware: 413 when `Content-Length` is over the limit (before the
application runs) or when a streamed body (chunked, no `Content-Length`) grows past it.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import orjson
from fastapi import HTTPException, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadroute.adapters.store.key_store import SCOPES, ApiKey, KeyStore
from leadroute.adapters.store.sql import Store

REALM = 'Bearer realm="leadroute"'
_SCHEME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}")  # an auth-scheme token, shown back
_RATE_STATE = "leadroute_rate_limit"  # (limit, remaining) in the request's state

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="Authorization: Bearer lr_<prefix>_<secret>",
)
_header_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="api_key",
    description="X-API-Key: lr_<prefix>_<secret>",
)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """A token bucket per key: `burst` requests at once, refilled at `per_minute` a minute."""

    def __init__(
        self, per_minute: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("the rate must be positive and the burst at least 1")
        self.per_second = per_minute / 60
        self.burst = burst
        self.clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int) -> tuple[float, int]:
        """Spend one request of `key_id`: (0, requests left) if allowed, else (seconds until
        the next one is allowed, 0)."""
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key_id)
            if bucket is None:
                bucket = self._buckets[key_id] = _Bucket(float(self.burst), now)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.per_second)
            bucket.at = now
            if bucket.tokens >= 1:
                bucket.tokens -= 1
                return 0.0, int(bucket.tokens)
            return (1 - bucket.tokens) / self.per_second, 0


class Authenticator:
    """API keys, scopes and the per-key rate limit, as FastAPI dependencies."""

    def __init__(
        self,
        store: Store,
        *,
        rate_per_minute: int = 600,
        burst: int | None = None,
        cache_ttl: float = 10.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`burst` (default a tenth of a minute's rate, at least 1) requests may come at once;
        after that a key gets `rate_per_minute` a minute."""
        self.keys = KeyStore(store)
        self.rate_per_minute = rate_per_minute
        self.burst = burst if burst is not None else max(1, rate_per_minute // 10)
        self.limiter = RateLimiter(rate_per_minute, self.burst, clock=clock)
        self.cache_ttl = cache_ttl
        self.cache_size = cache_size
        self.clock = clock
        self._cache: OrderedDict[str, tuple[ApiKey | None, float]] = OrderedDict()
        self._lock = threading.Lock()

    # -- keys ------------------------------------------------------------------------------

    def authenticate(self, plaintext: str) -> ApiKey | None:
        """The active key `plaintext` is, or None; served from the cache while fresh."""
        hit, found = self._cached(plaintext)
        if hit:
            return found
        found = self.keys.verify(plaintext)
        self._remember(plaintext, found)
        return found

    def forget(self) -> None:
        """Drop every cached verification (the next request of each key asks the store)."""
        with self._lock:
            self._cache.clear()

    def _cached(self, plaintext: str) -> tuple[bool, ApiKey | None]:
        with self._lock:
            entry = self._cache.get(plaintext)
            if entry is None:
                return False, None
            if entry[1] <= self.clock():
                del self._cache[plaintext]
                return False, None
            return True, entry[0]

    def _remember(self, plaintext: str, key: ApiKey | None) -> None:
        with self._lock:
            self._cache[plaintext] = (key, self.clock() + self.cache_ttl)
            self._cache.move_to_end(plaintext)
            while len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    # -- the dependency --------------------------------------------------------------------

    def require(self, scope: str) -> Callable[..., Awaitable[ApiKey]]:
        """A dependency for `Depends(auth.require("ingest"))`: the caller's ApiKey (also put
        on `request.state.api_key`), or 401/429/403."""
        if scope not in SCOPES:
            raise ValueError(f"unknown scope '{scope}'; known: {', '.join(SCOPES)}")

        async def api_key(
            request: Request,
            response: Response,
            bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
            header_key: str | None = Security(_header_key),
        ) -> ApiKey:
            del bearer, header_key  # declared for the OpenAPI description; read below
            plaintext = _presented_key(request)
            hit, key = self._cached(plaintext)
            if not hit:
                key = await run_in_threadpool(self.keys.verify, plaintext)
                self._remember(plaintext, key)
            if key is None:
                raise HTTPException(
                    401,
                    "the API key is not valid (unknown, revoked or malformed)",
                    headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
                )
            wait, left = self.limiter.take(key.id)
            limit = str(self.rate_per_minute)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                raise HTTPException(
                    429,
                    f"rate limit: key '{key.name}' may make {self.rate_per_minute} requests "
                    f"a minute (bursts of {self.burst}); retry in {retry} s",
                    headers={
                        "Retry-After": str(retry),
                        "X-RateLimit-Limit": limit,
                        "X-RateLimit-Remaining": "0",
                    },
                )
            response.headers["X-RateLimit-Limit"] = limit
            response.headers["X-RateLimit-Remaining"] = str(left)
            setattr(request.state, _RATE_STATE, (limit, str(left)))
            if not key.allows(scope):
                raise HTTPException(
                    403,
                    f"this needs the '{scope}' scope; key '{key.name}' has "
                    f"{', '.join(sorted(key.scopes))}",
                    headers={
                        "WWW-Authenticate": f'{REALM}, error="insufficient_scope", scope="{scope}"'
                    },
                )
            request.state.api_key = key
            return key

        return api_key


def _presented_key(request: Request) -> str:
    """The one key the request carries, or 401 saying what is wrong with its credentials."""
    authorization = request.headers.get("authorization")
    header_key = request.headers.get("x-api-key")
    bearer_key: str | None = None
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            named = f"'{scheme}'" if _SCHEME.fullmatch(scheme) else "one it cannot read"
            raise _unauthorized(
                f"the Authorization header uses the scheme {named}; the API takes only "
                "'Authorization: Bearer <key>' (or 'X-API-Key: <key>')"
            )
        bearer_key = credentials.strip()
        if not bearer_key:
            raise _unauthorized("the Authorization header says Bearer but carries no key")
    if bearer_key is not None and header_key is not None and header_key.strip() != bearer_key:
        raise _unauthorized(
            "'Authorization: Bearer' and 'X-API-Key' carry different keys: send one key "
            "(or the same key in both)"
        )
    plaintext = bearer_key if bearer_key is not None else (header_key or "").strip()
    if not plaintext:
        raise _unauthorized(
            "an API key is required: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"
        )
    return plaintext


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": REALM})


class RateHeaders:
    """ASGI middleware: `X-RateLimit-Limit` and `X-RateLimit-Remaining` on every answer below
    400 to a request whose key `Authenticator.require` admitted (an endpoint that builds its own
    Response would otherwise drop the headers the dependency set)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # what request.state writes to, further in

        async def send_with_rate(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                rate = state.get(_RATE_STATE)
                headers = list(message.get("headers", []))
                if rate is not None and not any(
                    name.lower() == b"x-ratelimit-limit" for name, _ in headers
                ):
                    headers.append((b"x-ratelimit-limit", rate[0].encode()))
                    headers.append((b"x-ratelimit-remaining", rate[1].encode()))
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_rate)


# -- request size ------------------------------------------------------------------------------


class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive` when a streamed body passes the limit (FastAPI re-raises
    HTTPExceptions from body parsing as they are)."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, _too_large(max_bytes))


def _too_large(max_bytes: int) -> str:
    return f"request body too large: at most {max_bytes:,} bytes are accepted"


class BodyLimit:
    """ASGI middleware: 413 for request bodies over `max_bytes`.

    A `Content-Length` over the limit is answered before the application runs, without
    reading the body. A body without one (chunked) is counted as the application reads it;
    once past the limit, reading raises and the application's answer is replaced by the 413
    (unless it had already started answering)."""

    def __init__(self, app: ASGIApp, max_bytes: int = 1_000_000) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must be 0 or more")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _content_length(scope)
        if length is not None and length > self.max_bytes:
            await self._reject(send)
            return
        seen = 0
        over = False
        started = False
        replaced = False

        async def limited_receive() -> Message:
            nonlocal seen, over
            if over:
                raise BodyTooLarge(self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    over = True
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started, replaced
            if over and not started:
                if not replaced:  # whatever the app answers to the error, answer 413
                    replaced = True
                    await self._reject(send)
                return
            if replaced:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not over or started:
                raise
            if not replaced:
                replaced = True
                await self._reject(send)

    async def _reject(self, send: Send) -> None:
        body = orjson.dumps({"detail": _too_large(self.max_bytes)})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
