"""A JSON API as an enrichment provider: GET a URL template, map dotted paths to lead fields.

The seam is httpx's transport: tests hand in a transport or point the URL at a local server.
Retries connect errors, timeouts, 429 and 5xx with exponential backoff (honouring a short
Retry-After); any other 4xx fails at once, 404 means "not found" (an empty answer).
Secrets (`${VAR}` in url and headers) are read at each call from the mapping the composition
root hands in (the process environment, `leadroute.settings.environment()`, when none is) and
never appear in error messages.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from leadroute.domain.enrichment import HttpProviderModel, LookupKey, ProviderError, render
from leadroute.settings import environment

# A Retry-After longer than this means "not now": give up rather than hold routing up.
MAX_RETRY_AFTER_S = 5.0

_MISSING = object()


def pluck(document: Any, path: str) -> Any:
    """The value at a dotted path ('data.0.industry'); `_MISSING` if there is none."""
    value = document
    for part in path.split("."):
        if isinstance(value, Mapping):
            if part not in value:
                return _MISSING
            value = value[part]
        elif isinstance(value, list):
            try:
                index = int(part)
            except ValueError:
                return _MISSING
            if not -len(value) <= index < len(value):
                return _MISSING
            value = value[index]
        else:
            return _MISSING
    return value


def _retry_after(response: httpx.Response) -> float | None:
    header = response.headers.get("Retry-After")
    if header is None:
        return None
    try:
        seconds = float(header)
    except ValueError:
        return None  # an HTTP date: treated as "no hint"
    return max(seconds, 0.0)


def _ms(value: float) -> str:
    return f"{value:.0f}"


class HttpJsonProvider:
    """Implements the `Provider` port over HTTP + JSON."""

    def __init__(
        self,
        name: str,
        model: HttpProviderModel,
        *,
        transport: httpx.BaseTransport | None = None,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.fields = frozenset(model.fields)
        self.model = model
        self._environ = environ
        self._sleep = sleep
        self._timer = timer
        self._client = httpx.Client(
            transport=transport if transport is not None else httpx.HTTPTransport(retries=0),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._client.close()

    def lookup(self, key: LookupKey, *, budget_ms: float | None = None) -> dict[str, Any]:
        environ = self._environ if self._environ is not None else environment()
        url = render(self.model.url, environ=environ, key=key)
        headers = {n: render(v, environ=environ) for n, v in self.model.headers.items()}
        headers.setdefault("Accept", "application/json")
        deadline = None if budget_ms is None else self._timer() + budget_ms / 1000
        error = "no time left to call"
        tries = 0
        for attempt in range(self.model.retries + 1):
            timeout_ms = float(self.model.timeout_ms)
            if deadline is not None:
                timeout_ms = min(timeout_ms, (deadline - self._timer()) * 1000)
                if timeout_ms < 1:
                    break
            tries += 1
            retry_after = None
            try:
                response = self._client.get(url, headers=headers, timeout=timeout_ms / 1000)
            except httpx.TimeoutException:
                error = f"timeout after {_ms(timeout_ms)} ms"
            except httpx.TransportError as exc:
                error = f"connection failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return self._fields_of(response)
                if status == 404:
                    return {}
                error = f"HTTP {status}"
                if status != 429 and status < 500:
                    raise ProviderError(error)
                retry_after = _retry_after(response)
            if attempt == self.model.retries:
                break
            delay = self.model.backoff_ms * 2**attempt / 1000
            if retry_after is not None:
                if retry_after > MAX_RETRY_AFTER_S:
                    error += f" (Retry-After {retry_after:g} s)"
                    break
                delay = max(delay, retry_after)
            if deadline is not None and self._timer() + delay >= deadline:
                break
            self._sleep(delay)
        raise ProviderError(error if tries <= 1 else f"{error} ({tries} tries)")

    def _fields_of(self, response: httpx.Response) -> dict[str, Any]:
        try:
            document = json.loads(response.content)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ProviderError(f"malformed JSON: {exc}") from None
        if not isinstance(document, dict | list):
            raise ProviderError(
                f"malformed JSON: expected an object, got {type(document).__name__}"
            )
        found: dict[str, Any] = {}
        for name, path in self.model.fields.items():
            value = pluck(document, path)
            if value is not _MISSING and value is not None:
                found[name] = value
        return found
