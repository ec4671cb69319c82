"""`leadroute serve` as a process: the store it is given, the OpenAPI description and its
browsable page, and the limits it takes from the settings and options (docs/api.md, "The HTTP
API"; docs/security.md, "Limits")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from tests.api.problem import problem
from tests.api.server import free_port


@contextmanager
def leadroute_serve(
    tmp_path: Path, *options: str, env: dict[str, str] | None = None
) -> Iterator[httpx.Client]:
    port = free_port()
    log_path = tmp_path / f"serve-{port}.log"
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith("LEADROUTE_")
    }
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "leadroute", "serve", "--port", str(port), *options],
            env={**environment, **(env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                deadline = time.monotonic() + 60
                while True:
                    try:
                        if client.get("/v1/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    assert server.poll() is None, log_path.read_text()
                    assert time.monotonic() < deadline, "leadroute serve did not start"
                    time.sleep(0.1)
                yield client
        finally:
            server.terminate()
            server.wait(timeout=30)


def _key(url: str) -> str:
    store = Store(url)
    store.migrate()
    key, _ = KeyStore(store).create("reader", ["read"])
    store.dispose()
    return key


def test_serve_answers_over_the_store_it_is_given_with_its_description_and_limits(
    db_url: str, tmp_path: Path
) -> None:
    key = {"Authorization": f"Bearer {_key(db_url)}"}
    with leadroute_serve(tmp_path, "--db", db_url, env={"LEADROUTE_MAX_BODY_BYTES": "1000"}) as api:
        described = api.get("/openapi.json")
        assert described.status_code == 200 and "/v1/leads" in described.json()["paths"]
        page = api.get("/docs")
        assert page.status_code == 200 and "/openapi.json" in page.text
        reps = api.get("/v1/reps", headers=key)  # the key is in the store --db names
        assert reps.status_code == 200, reps.text
        assert reps.headers["X-RateLimit-Limit"] == "6000"  # the default rate
        assert reps.headers["X-RateLimit-Remaining"] == "599"  # a burst of a tenth, one spent
        big = api.post("/v1/leads", content=b"{" + b" " * 1000 + b"}", headers=key)
        problem(big, 413, "request body too large: at most 1,000 bytes are accepted")


def test_serve_takes_the_store_and_rate_from_the_environment_and_the_rate_option(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'leadroute.db'}"
    key = {"X-API-Key": _key(url)}
    environment = {"LEADROUTE_DB": url, "LEADROUTE_RATE_PER_MINUTE": "120"}
    with leadroute_serve(tmp_path, env=environment) as api:
        answer = api.get("/v1/reps", headers=key)
        assert answer.status_code == 200, answer.text
        assert answer.headers["X-RateLimit-Limit"] == "120"
        assert answer.headers["X-RateLimit-Remaining"] == "11"
        problem(api.post("/v1/leads", json={"x": "y" * 2_000_000}, headers=key), 413, "2,000,000")
    with leadroute_serve(tmp_path, "--rate-per-minute", "30", env=environment) as api:
        answer = api.get("/v1/reps", headers=key)
        assert answer.headers["X-RateLimit-Limit"] == "30"  # the option over the setting
        assert answer.headers["X-RateLimit-Remaining"] == "2"
