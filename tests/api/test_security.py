"""API keys, scopes, the rate limit and the body limit on a real server on 127.0.0.1: on a small
app of its own, and on the API itself (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request

from leadroute.adapters.store.key_store import ApiKey, KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.api.security import Authenticator, BodyLimit, RateLimiter
from tests.adapters.test_inbound import LEAD_ONE, outbound
from tests.api.problem import problem
from tests.api.server import serve
from tests.api.test_service_api import CONFIG
from tests.api.test_service_api import _org as _service_org
from tests.services.fixtures import activate

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


# -- the real API: credentials, rate headers, rate per process ---------------------------------


@pytest.fixture
def served_api(store: Store) -> Iterator[tuple[httpx.Client, Authenticator]]:
    activate(store, _service_org(), CONFIG)  # type: ignore[arg-type]
    auth = Authenticator(store, rate_per_minute=60, burst=20)
    with serve(create_app(store, auth=auth)) as client:
        yield client, auth


def test_junk_credentials_beside_a_valid_key_are_refused_saying_why(
    served_api: tuple[httpx.Client, Authenticator],
) -> None:
    api, auth = served_api
    reader, _ = auth.keys.create("bi", ["read"])
    other, _ = auth.keys.create("bi-2", ["read"])
    assert api.get("/v1/reps", headers={"X-API-Key": reader}).status_code == 200
    refusals = [
        ({"Authorization": "Basic dTpw", "X-API-Key": reader}, "the scheme 'Basic'"),
        ({"Authorization": "foo", "X-API-Key": reader}, "the scheme 'foo'"),
        ({"Authorization": f"Basic {reader}"}, "the scheme 'Basic'"),
        ({"Authorization": "Bearer", "X-API-Key": reader}, "carries no key"),
        ({"Authorization": "Bearer \t x", "X-API-Key": reader}, "carry different keys"),
        ({"Authorization": "", "X-API-Key": reader}, "the scheme"),
        ({"Authorization": "Béarer x".encode(), "X-API-Key": reader}, "one it cannot read"),
        ({"Authorization": f"Bearer {reader}", "X-API-Key": other}, "carry different keys"),
        ({"Authorization": f"Bearer {reader}", "X-API-Key": ""}, "carry different keys"),
        ({"Authorization": f"Bearer {reader}", "X-API-Key": "junk"}, "carry different keys"),
    ]
    for headers, words in refusals:
        answer = api.get("/v1/reps", headers=headers)  # type: ignore[arg-type]
        assert answer.status_code == 401, (headers, answer.text)
        assert words in problem(answer, 401)["detail"], (headers, answer.text)
        assert answer.headers["WWW-Authenticate"] == 'Bearer realm="leadroute"'
    same = {"Authorization": f"bearer {reader}", "X-API-Key": reader}  # one key, both ways
    assert api.get("/v1/reps", headers=same).status_code == 200
    problem(api.get("/v1/reps", headers={"X-API-Key": ""}), 401, "an API key is required")


def test_every_successful_answer_carries_the_rate_headers(
    served_api: tuple[httpx.Client, Authenticator],
) -> None:
    api, auth = served_api
    admin, _ = auth.keys.create("ops", ["admin"])
    key = {"X-API-Key": admin}
    api.post("/v1/configs", json={"source": CONFIG.replace("lt: 20", "lt: 30")}, headers=key)
    answers = [
        api.post("/v1/leads", json={"email": "a@acme.com"}, headers=key),  # its own JSONResponse
        api.get("/v1/reps", headers=key),  # a dict FastAPI serializes
        api.get("/v1/configs/diff", params={"a": 1, "b": 2}, headers=key),  # plain text
        api.get("/metrics", headers=key),  # Prometheus text
        api.post("/v1/webhooks/salesforce", content=outbound(LEAD_ONE), headers=key),  # SOAP
        api.post(
            "/v1/webhooks/web-to-lead",
            data={"email": "w@acme.com", "retURL": "https://example.com/thanks"},
            headers=key,
        ),  # 303
    ]
    assert [a.status_code for a in answers] == [201, 200, 200, 200, 200, 303]
    assert all(a.headers["X-RateLimit-Limit"] == "60" for a in answers)
    assert all(0 <= int(a.headers["X-RateLimit-Remaining"]) < 20 for a in answers)
    refused = api.get("/v1/leads/nope", headers=key)
    assert refused.status_code == 404 and "X-RateLimit-Limit" not in refused.headers


def test_create_app_limits_each_key_to_600_a_minute_in_bursts_of_a_tenth(store: Store) -> None:
    reader, _ = KeyStore(store).create("bi", ["read"])
    with serve(create_app(store)) as api:
        first = api.get("/v1/reps", headers={"X-API-Key": reader})
    assert first.headers["X-RateLimit-Limit"] == "600"
    assert first.headers["X-RateLimit-Remaining"] == "59"  # a burst of 60, one spent


def test_each_process_counts_its_own_rate(store: Store, clock: Clock) -> None:
    """Two server processes over one store: a key gets each one's burst, twice the one's."""
    reader, _ = KeyStore(store).create("bi", ["read"])
    key = {"X-API-Key": reader}
    one = Authenticator(store, rate_per_minute=60, burst=3, clock=clock)
    two = Authenticator(store, rate_per_minute=60, burst=3, clock=clock)
    with serve(create_app(store, auth=one)) as first, serve(create_app(store, auth=two)) as second:
        codes = [first.get("/v1/reps", headers=key).status_code for _ in range(4)]
        codes += [second.get("/v1/reps", headers=key).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429] * 2


def test_requests_without_a_valid_key_spend_no_rate(api: httpx.Client, auth: Authenticator) -> None:
    reader, _ = auth.keys.create("bi", ["read"])
    for headers in (
        {},
        _bearer("lr_00000000_" + "x" * 43),
        _bearer(reader + "x"),
        {"Authorization": "Basic x", "X-API-Key": reader},
    ):
        codes = {api.get("/v1/leads", headers=headers).status_code for _ in range(10)}
        assert codes == {401}, headers  # never 429: nothing is counted
    answer = api.get("/v1/leads", headers=_bearer(reader))
    assert answer.status_code == 200 and answer.headers["X-RateLimit-Remaining"] == "2"
