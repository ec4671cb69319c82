"""API keys, scopes, the rate limit and the body limit on a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from leadroute.adapters.store.key_store import ApiKey
from leadroute.adapters.store.sql import Store
from leadroute.api.security import Authenticator, BodyLimit, RateLimiter
from tests.api.server import serve

LIMIT = 1_000


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _app(auth: Authenticator) -> FastAPI:
    app = FastAPI()
    app.add_middleware(BodyLimit, max_bytes=LIMIT)

    @app.get("/v1/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/leads")
    async def leads(key: ApiKey = Depends(auth.require("read"))) -> dict[str, str]:
        return {"key": key.name}

    @app.post("/v1/leads")
    async def add(
        body: dict[str, Any], key: ApiKey = Depends(auth.require("ingest"))
    ) -> dict[str, Any]:
        return {"key": key.name, "fields": len(body)}

    @app.post("/v1/upload", dependencies=[Depends(auth.require("ingest"))])
    async def upload(request: Request) -> dict[str, int]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"bytes": size}

    @app.delete("/v1/keys/{name}")
    async def revoke(name: str, key: ApiKey = Depends(auth.require("admin"))) -> dict[str, str]:
        return {"by": key.name, "revoked": name}

    return app


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(store: Store, clock: Clock) -> Authenticator:
    return Authenticator(store, rate_per_minute=60, burst=3, cache_ttl=10, clock=clock)


@pytest.fixture
def api(auth: Authenticator) -> Iterator[httpx.Client]:
    with serve(_app(auth)) as client:
        yield client


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_every_endpoint_but_health_needs_a_valid_key(
    api: httpx.Client, auth: Authenticator
) -> None:
    assert api.get("/v1/health").status_code == 200
    missing = api.get("/v1/leads")
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert "X-API-Key" in missing.json()["detail"]
    wrong = api.get("/v1/leads", headers=_bearer("lr_00000000_" + "x" * 43))
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    assert api.get("/v1/leads", headers={"Authorization": "Basic dTpw"}).status_code == 401
    reader, _ = auth.keys.create("bi", ["read"])
    by_bearer = api.get("/v1/leads", headers=_bearer(reader))
    assert by_bearer.status_code == 200 and by_bearer.json() == {"key": "bi"}
    by_header = api.get("/v1/leads", headers={"X-API-Key": reader})
    assert by_header.status_code == 200 and by_header.headers["X-RateLimit-Limit"] == "60"


def test_a_key_without_the_scope_gets_403_naming_it(api: httpx.Client, auth: Authenticator) -> None:
    reader, _ = auth.keys.create("bi", ["read"])
    admin, _ = auth.keys.create("ops", ["admin"])
    denied = api.post("/v1/leads", json={"email": "a@b.com"}, headers=_bearer(reader))
    assert denied.status_code == 403
    assert "'ingest' scope" in denied.json()["detail"] and "bi" in denied.json()["detail"]
    assert api.delete("/v1/keys/bi", headers=_bearer(reader)).status_code == 403
    for method, path in (("GET", "/v1/leads"), ("DELETE", "/v1/keys/bi")):
        assert api.request(method, path, headers=_bearer(admin)).status_code == 200
    ok = api.post("/v1/leads", json={"email": "a@b.com"}, headers=_bearer(admin))
    assert ok.status_code == 200 and ok.json() == {"key": "ops", "fields": 1}


def test_revoked_keys_fail_once_the_cache_forgets(
    api: httpx.Client, auth: Authenticator, clock: Clock
) -> None:
    reader, _ = auth.keys.create("bi", ["read"])
    calls = 0
    verify = auth.keys.verify

    def counting(plaintext: str) -> ApiKey | None:
        nonlocal calls
        calls += 1
        return verify(plaintext)

    auth.keys.verify = counting  # type: ignore[method-assign]
    for _ in range(3):
        assert api.get("/v1/leads", headers=_bearer(reader)).status_code == 200
    assert calls == 1  # one hash and query, then the cache
    auth.keys.revoke("bi")
    clock.now += 1  # the bucket refills a little; the cached key is still fresh
    assert api.get("/v1/leads", headers=_bearer(reader)).status_code == 200
    clock.now += 10  # past the cache's TTL
    assert api.get("/v1/leads", headers=_bearer(reader)).status_code == 401
    assert calls == 2


def test_each_key_has_its_rate_and_429_says_when_to_retry(
    api: httpx.Client, auth: Authenticator, clock: Clock
) -> None:
    one, _ = auth.keys.create("one", ["read"])
    two, _ = auth.keys.create("two", ["read"])
    assert [api.get("/v1/leads", headers=_bearer(one)).status_code for _ in range(3)] == [200] * 3
    limited = api.get("/v1/leads", headers=_bearer(one))
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1" and "60 requests a minute" in limited.text
    assert api.get("/v1/leads", headers=_bearer(two)).status_code == 200
    clock.now += 1.0
    assert api.get("/v1/leads", headers=_bearer(one)).status_code == 200
    assert api.get("/v1/leads", headers=_bearer(one)).status_code == 429


def test_bodies_over_the_limit_get_413(api: httpx.Client, auth: Authenticator) -> None:
    key, _ = auth.keys.create("web", ["ingest"])
    big = {"notes": "x" * (LIMIT + 10)}
    declared = api.post("/v1/leads", json=big, headers=_bearer(key))
    assert declared.status_code == 413
    assert declared.json()["detail"] == "request body too large: at most 1,000 bytes are accepted"
    anonymous = api.post("/v1/leads", json=big)  # refused before the key is even looked at
    assert anonymous.status_code == 413

    def chunks(total: int) -> Iterator[bytes]:
        for _ in range(total // 100):
            yield b"y" * 100

    streamed = api.post("/v1/upload", content=chunks(LIMIT * 3), headers=_bearer(key))
    assert streamed.status_code == 413 and "1,000 bytes" in streamed.json()["detail"]
    chunked_json = api.post(
        "/v1/leads",
        content=(part for part in (b'{"a": "', b"z" * LIMIT, b'"}')),
        headers={**_bearer(key), "Content-Type": "application/json"},
    )
    assert chunked_json.status_code == 413
    fine = api.post("/v1/upload", content=chunks(LIMIT), headers=_bearer(key))
    assert fine.status_code == 200 and fine.json() == {"bytes": LIMIT}
    small = api.post("/v1/leads", json={"a": 1}, headers=_bearer(key))
    assert small.status_code == 200


def test_the_bucket_refills_at_the_rate_up_to_the_burst() -> None:
    clock = Clock()
    bucket = RateLimiter(120, 2, clock=clock)
    assert bucket.take(1) == (0.0, 1) and bucket.take(1) == (0.0, 0)
    wait, _ = bucket.take(1)
    assert wait == pytest.approx(0.5)
    clock.now += 60  # a long pause refills only up to the burst
    assert [bucket.take(1)[0] for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]
    with pytest.raises(ValueError):
        RateLimiter(0, 1)


def test_unknown_scopes_are_refused_when_wiring(auth: Authenticator) -> None:
    with pytest.raises(ValueError, match="unknown scope 'write'"):
        auth.require("write")
