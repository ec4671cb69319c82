"""The one shape of every refusal, checked on a real answer."""

from __future__ import annotations

from typing import Any

import httpx

from leadroute.api.payload import Problem


def problem(answer: httpx.Response, status: int, *words: str) -> dict[str, Any]:
    """Assert `answer` is a `status` Problem in JSON whose `detail` (a sentence) holds `words`;
    return its body."""
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].split(";")[0] == "application/json", answer.headers
    body: dict[str, Any] = answer.json()
    Problem.model_validate(body)  # no member but the documented ones, each of its type
    detail = body["detail"]
    assert isinstance(detail, str) and detail.strip(), body
    for word in words:
        assert word in detail, (word, detail)
    return body
