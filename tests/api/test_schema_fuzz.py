"""Every operation of the API, fed input generated from its own OpenAPI description.

A real server on 127.0.0.1 (SQLite and PostgreSQL), keys checked as in production. For each
operation, input that fits the description and input that breaks it, with path parameters both
generated and naming things that exist (a routed lead, a rep, an account, config #1):

- no answer is ever a 5xx (schemathesis's `not_a_server_error`);
- a 2xx answer conforms to the response schema (`response_schema_conformance`);
- a 4xx answer in JSON says why (a non-empty `detail`);
- without a key, or with a wrong one, every operation but the health check answers 401.

Generation is derandomized, so a run is the same on every machine.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.api.security import Authenticator
from leadroute.domain.org import Account, Rep, Territory, build_org
from tests.api.server import serve
from tests.conftest import pg_schema
from tests.services.fixtures import activate

EXAMPLES = 15  # per operation and mode: about 700 requests per database

CONFIG = """
name: fuzz
pools:
  sales: {members: [r1, r2, r3], fairness_window: all}
queues:
  self_serve: {message: "Start now"}
flow:
  - id: sales
    when: {territory: na}
    then: {distribute: sales}
  - id: fallback
    fallback: true
    then: {queue: self_serve}
"""

# Path parameters that name something stored, so generated bodies reach the code behind them.
EXISTING = {
    "lead_id": "L1",
    "rep_id": "r1",
    "account_id": "acme",
    "seq": 1,
    "name": "fuzz-reader",
    "action": "accept",
}


def _operations() -> list[tuple[str, bool]]:
    """(label, has input to break) for every operation in the API's description."""
    described = create_app(Store("sqlite://"), auth=False).openapi()
    found = []
    for path, methods in described["paths"].items():
        for method, operation in methods.items():
            has_input = bool(operation.get("parameters") or operation.get("requestBody"))
            found.append((f"{method.upper()} {path}", has_input))
    return found


OPERATIONS = _operations()
MODES = [
    pytest.param(label, mode, id=f"{mode.value}-{label}")
    for label, has_input in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if has_input or mode is GenerationMode.POSITIVE
]


@dataclass
class Served:
    base_url: str
    schema: Any
    admin_key: str
    store: Store


def _org() -> Any:
    reps = [
        Rep(id=f"r{i}", name=f"Rep {i}", email=f"r{i}@vendor.com", teams=("sales",))
        for i in (1, 2, 3)
    ]
    return build_org(
        reps=reps,
        territories=[Territory("na", "NA", frozenset({"US", "CA"}))],
        accounts=[Account("acme", "Acme", "acme.com", owner_id="r1")],
    )


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database for the module (the requests of every test go to one server)."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("fuzz") / "leadroute.db"
        yield f"sqlite:///{path}"
        return
    with pg_schema() as url:
        yield url


@pytest.fixture(scope="module")
def served(database_url: str) -> Iterator[Served]:
    store = Store(database_url)
    store.migrate()
    activate(store, _org(), CONFIG)
    keys = KeyStore(store)
    admin_key, _ = keys.create("fuzz-admin", ["admin"])
    keys.create("fuzz-reader", ["read"])
    # A rate no generated run can reach: the fuzz is about input, not about the limiter.
    auth = Authenticator(store, rate_per_minute=10_000_000, burst=1_000_000)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LEADROUTE_HUBSPOT_SECRET", "fuzz-secret")
        env.delenv("LEADROUTE_SALESFORCE_ORG_ID", raising=False)
        with serve(create_app(store, auth=auth)) as client:
            routed = client.post(
                "/v1/leads",
                json={"id": "L1", "email": "ada@acme.com", "company": "Acme", "country": "US"},
                headers={"Authorization": f"Bearer {admin_key}"},
            )
            assert routed.status_code == 201, routed.text
            base_url = str(client.base_url)
            schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
            yield Served(base_url, schema, admin_key, store)
    store.dispose()


def _strategy(operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
    generated = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    if not names:
        return generated  # type: ignore[no-any-return]
    existing = {name: EXISTING[name] for name in names if name in EXISTING}
    pinned = operation.as_strategy(generation_mode=mode, path_parameters=existing)
    return st.one_of(generated, pinned)


def _run(operation: Any, mode: GenerationMode, examples: int, check: Any) -> None:
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )
    @given(case=_strategy(operation, mode))
    def each(case: Any) -> None:
        check(case)

    each()


def _header(answer: Any, name: str) -> str:
    values = answer.headers.get(name) or [""]
    return str(values[0])


def _reason(answer: Any) -> Any:
    try:
        return answer.json().get("detail")
    except ValueError:
        return None


@pytest.mark.parametrize(("label", "mode"), MODES)
def test_no_input_gets_a_server_error(served: Served, label: str, mode: GenerationMode) -> None:
    operation = served.schema.find_operation_by_label(label)
    assert operation is not None, label
    key = served.admin_key
    refused: list[int] = []

    def check(case: Any) -> None:
        answer = case.call(
            base_url=served.base_url,
            headers={"Authorization": f"Bearer {key}", "X-API-Key": key},
            timeout=30,
        )
        if answer.status_code == 429 or _header(answer, "www-authenticate"):
            refused.append(answer.status_code)
        case.validate_response(answer, checks=[not_a_server_error])
        if 200 <= answer.status_code < 300 and mode is GenerationMode.POSITIVE:
            case.validate_response(answer, checks=[response_schema_conformance])
        if (
            400 <= answer.status_code < 500
            and _header(answer, "content-type") == "application/json"
        ):
            assert _reason(answer), (answer.status_code, answer.text)

    _run(operation, mode, EXAMPLES, check)
    assert not refused, "the key was refused: the fuzz tested nothing"


def test_without_a_valid_key_every_operation_answers_401(served: Served) -> None:
    """401 whatever the input, but for a URL no request may have (a NUL in it), which is
    refused as unreadable before any key is looked at, like an oversized body."""
    refused: dict[str, set[int]] = {}
    for label, _ in OPERATIONS:
        operation = served.schema.find_operation_by_label(label)
        assert operation is not None, label
        answers: set[int] = set()

        def check(case: Any, answers: set[int] = answers) -> None:
            for headers in ({}, {"Authorization": "Bearer lr_00000000_" + "x" * 43}):
                answer = case.call(base_url=served.base_url, headers=headers, timeout=30)
                case.validate_response(answer, checks=[not_a_server_error])
                if answer.status_code == 400 and "NUL character" in str(_reason(answer)):
                    continue
                answers.add(answer.status_code)
                if answer.status_code == 401:
                    assert _header(answer, "www-authenticate").startswith("Bearer")

        _run(operation, GenerationMode.POSITIVE, 3, check)
        refused[label] = answers
    assert refused.pop("GET /v1/health") == {200}
    assert all(codes == {401} for codes in refused.values()), {
        label: codes for label, codes in refused.items() if codes != {401}
    }


def test_the_fuzzed_server_still_works(served: Served) -> None:
    """After every generated request, the service still routes and answers as before."""
    headers = {"Authorization": f"Bearer {served.admin_key}"}
    with httpx.Client(base_url=served.base_url, headers=headers, timeout=30) as client:
        health = client.get("/v1/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"
        answer = client.post("/v1/leads", json={"email": "after@fuzz.com", "country": "FR"})
        assert answer.status_code in (200, 201), answer.text
        assert answer.json()["outcome"] in ("routed", "held", "unrouted")
        assert client.get("/v1/leads/L1").status_code == 200
