"""One HTTP call of a sender, with its failure sorted: retry later, or give up.

Timeouts, connection errors, 408, 429 and 5xx are retryable (a 429's or 503's Retry-After is
passed on); any other non-2xx status is not. The URL never appears in an error: a Slack
webhook URL is a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping

import httpx

from leadroute.domain.notify import DeliveryError

MAX_ERROR_BODY = 300


def client(transport: httpx.BaseTransport | None = None) -> httpx.Client:
    """A client that never follows redirects and makes one try per call (the outbox retries)."""
    return httpx.Client(
        transport=transport if transport is not None else httpx.HTTPTransport(retries=0),
        follow_redirects=False,
    )


def body_excerpt(response: httpx.Response) -> str:
    """The start of a response body, on one line."""
    text = " ".join(response.text.split())
    return text[:MAX_ERROR_BODY] + ("\u2026" if len(text) > MAX_ERROR_BODY else "")


def retry_after(response: httpx.Response) -> float | None:
    """A Retry-After given in seconds (an HTTP date is ignored)."""
    header = response.headers.get("Retry-After")
    try:
        return max(float(header), 0.0) if header is not None else None
    except ValueError:
        return None


def is_retryable(status: int) -> bool:
    return status in (408, 429) or status >= 500


def call(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    content: bytes,
    timeout: float,
    describe: Callable[[httpx.Response], str] = body_excerpt,
    retryable: Callable[[httpx.Response], bool] = lambda r: is_retryable(r.status_code),
) -> httpx.Response:
    """Make the call; a 2xx response is returned, anything else raises `DeliveryError` with
    `describe(response)` (the receiver's own error text)."""
    try:
        response = http.request(
            method, url, headers=dict(headers), content=content, timeout=timeout
        )
    except httpx.TimeoutException:
        raise DeliveryError(f"timeout after {timeout:g} s", retryable=True) from None
    except httpx.TransportError as exc:
        raise DeliveryError(f"connection failed ({type(exc).__name__})", retryable=True) from None
    if 200 <= response.status_code < 300:
        return response
    detail = describe(response)
    raise DeliveryError(
        f"HTTP {response.status_code}" + (f": {detail}" if detail else ""),
        retryable=retryable(response),
        retry_after=retry_after(response),
    )


def patch_json(
    http: httpx.Client,
    url: str,
    body: object,
    *,
    token: str,
    timeout: float,
    describe: Callable[[httpx.Response], str] = body_excerpt,
    retryable: Callable[[httpx.Response], bool] = lambda r: is_retryable(r.status_code),
) -> httpx.Response:
    """A JSON PATCH with a bearer token: how both CRMs take a record update."""
    return call(
        http,
        "PATCH",
        url,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
        content=json.dumps(body).encode(),
        timeout=timeout,
        describe=describe,
        retryable=retryable,
    )


def secret(env: Mapping[str, str], name: str) -> str:
    """An environment variable's value; a missing one is a permanent error (set it, then
    retry the dead messages)."""
    value = env.get(name)
    if not value:
        raise DeliveryError(f"environment variable {name} is not set", retryable=False)
    return value
