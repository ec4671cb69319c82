"""Every operation of the API, fed input generated from its own OpenAPI description, and every
answer checked against that description (schemathesis).

A real server on 127.0.0.1 (SQLite and PostgreSQL), keys checked as in production. For each
operation, input that fits the description and input that breaks it, with path parameters both
generated and naming things that exist (a routed lead, a rep, an account, config #1). Each
answer, whatever its status:

- is not a 5xx (`not_a_server_error`);
- has a status the description lists for the operation (`status_code_conformance`), in a media
  type it lists (`content_type_conformance`), with the headers it says are always there
  (`response_headers_conformance`: the rate headers, Retry-After, Location...), and a body that
  matches the schema of that status (`response_schema_conformance`: every refusal a Problem);
- for input that breaks the description, is a refusal (`negative_data_rejection`).

Without a key, or with a wrong one, every operation but the health check answers 401, in the
described shape. Then a stateful run: schemathesis's state machine follows the description's
links (a lead created, then read, its decisions, brief and events, accepted; a config stored,
read, diffed, activated, rolled back; a key created and revoked; an account saved and read),
with the same checks and those that need a sequence (`use_after_free`,
`ensure_resource_availability`); every link is followed at least once.

Generation is derandomized, so a run is the same on every machine.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ensure_resource_availability,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)

from leadroute.adapters.store.key_store import KeyStore
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.api.security import Authenticator
from leadroute.domain.org import Account, Rep, Territory, build_org
from tests.api.server import serve
from tests.conftest import pg_schema
from tests.services.fixtures import activate

EXAMPLES = 20  # per operation and mode
STATEFUL_RUNS = 12  # of a fixed seed each
STATEFUL_SCENARIOS = 6  # per run, each of up to STATEFUL_STEPS requests
STATEFUL_STEPS = 10

CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]

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
    session: requests.Session
    requests: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)

    def took(self, kind: str, started: float) -> None:
        self.seconds[kind] = self.seconds.get(kind, 0.0) + time.perf_counter() - started

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}", "X-API-Key": self.admin_key}

    def call(self, case: Any, kind: str, headers: dict[str, str] | None = None) -> Any:
        self.requests[kind] += 1
        return case.call(
            base_url=self.base_url,
            session=self.session,
            headers=self.headers if headers is None else headers,
            timeout=30,
        )


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
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@contextmanager
def _database(backend: str, directory: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'leadroute.db'}"
        return
    with pg_schema() as url:
        yield url


@contextmanager
def _serving(database_url: str) -> Iterator[Served]:
    """A server over a new database: the org, CONFIG active, lead L1 routed, two keys."""
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
        with serve(create_app(store, auth=auth)) as client, requests.Session() as session:
            routed = client.post(
                "/v1/leads",
                json={"id": "L1", "email": "ada@acme.com", "company": "Acme", "country": "US"},
                headers={"Authorization": f"Bearer {admin_key}"},
            )
            assert routed.status_code == 201, routed.text
            base_url = str(client.base_url)
            schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
            yield Served(base_url, schema, admin_key, store, session)
    store.dispose()


@pytest.fixture(scope="module")
def served(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the stateless tests (the requests of every test go to it)."""
    with _database(backend, tmp_path_factory.mktemp("fuzz")) as url, _serving(url) as running:
        yield running


@pytest.fixture
def fresh(backend: str, tmp_path: Path) -> Iterator[Served]:
    """A server of its own, so the stateful run meets the same state whatever ran before."""
    with _database(backend, tmp_path) as url, _serving(url) as running:
        yield running


def _strategy(operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
    generated = operation.as_strategy(generation_mode=mode)
    names = {p.name for p in operation.path_parameters}
    if not names:
        return generated  # type: ignore[no-any-return]
    existing = {name: EXISTING[name] for name in names if name in EXISTING}
    pinned = operation.as_strategy(generation_mode=mode, path_parameters=existing)
    return st.one_of(generated, pinned)


def _run(operation: Any, mode: GenerationMode, examples: int, check: Callable[[Any], None]) -> None:
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
    except (ValueError, AttributeError):
        return None


@pytest.mark.parametrize(("label", "mode"), MODES)
def test_every_answer_is_as_described(served: Served, label: str, mode: GenerationMode) -> None:
    operation = served.schema.find_operation_by_label(label)
    assert operation is not None, label
    checks = list(CONFORMANCE)
    if mode is GenerationMode.NEGATIVE:
        checks.append(negative_data_rejection)
    refused: list[int] = []
    started = time.perf_counter()

    def check(case: Any) -> None:
        answer = served.call(case, mode.value)
        if answer.status_code == 429 or _header(answer, "www-authenticate"):
            refused.append(answer.status_code)
        case.validate_response(answer, checks=checks, headers=served.headers)

    _run(operation, mode, EXAMPLES, check)
    served.took(mode.value, started)
    assert not refused, "the key was refused: the fuzz tested nothing"


def test_without_a_valid_key_every_operation_answers_401(served: Served) -> None:
    """401 whatever the input, in the described shape, but for a URL no request may have (a
    NUL in it), which is refused as unreadable before any key is looked at."""
    started = time.perf_counter()
    refused: dict[str, set[int]] = {}
    credentials: list[dict[str, str]] = [
        {},
        {"Authorization": "Bearer lr_00000000_" + "x" * 43},
        {"Authorization": f"Basic {served.admin_key}"},  # a valid key, in a scheme not taken
        {"Authorization": "foo", "X-API-Key": served.admin_key},
        {"Authorization": "Bearer lr_00000000_" + "x" * 43, "X-API-Key": served.admin_key},
    ]
    for label, _ in OPERATIONS:
        operation = served.schema.find_operation_by_label(label)
        assert operation is not None, label
        answers: set[int] = set()

        def check(case: Any, answers: set[int] = answers) -> None:
            for headers in credentials:
                answer = served.call(case, "no key", headers)
                case.validate_response(answer, checks=CONFORMANCE, headers=headers)
                if answer.status_code == 400 and "NUL character" in str(_reason(answer)):
                    continue
                answers.add(answer.status_code)
                if answer.status_code == 401:
                    assert _header(answer, "www-authenticate").startswith("Bearer")

        _run(operation, GenerationMode.POSITIVE, 2, check)
        refused[label] = answers
    served.took("no key", started)
    assert refused.pop("GET /v1/health") == {200}
    assert all(codes == {401} for codes in refused.values()), {
        label: codes for label, codes in refused.items() if codes != {401}
    }


def test_stateful_workflows_follow_every_link(fresh: Served, served: Served) -> None:
    """Sequences along the OpenAPI links, each answer checked as above: every operation a link
    leads to is reached by one, with what an earlier answer (or request) named.

    The server keeps what each scenario did (a key name is taken once, a rollback needs an
    earlier version), so a scenario Hypothesis replays may find it changed and draw otherwise
    (FlakyStrategyDefinition). Like schemathesis's own runner, that ends a run, not the test:
    the scenarios run in short runs of fixed seeds, and every check failure is recorded as it
    happens, so ending a run early cannot hide one."""
    links = [  # (source operation, target operation)
        (f"{method.upper()} {path}", link["operationId"])
        for path, methods in fresh.schema.raw_schema["paths"].items()
        for method, operation in methods.items()
        for answer in operation["responses"].values()
        for link in answer.get("links", {}).values()
    ]
    label = {
        operation["operationId"]: f"{method.upper()} {path}"
        for path, methods in fresh.schema.raw_schema["paths"].items()
        for method, operation in methods.items()
    }
    followed: Counter[tuple[str, str]] = Counter()
    failures: list[str] = []
    checks = [*CONFORMANCE, negative_data_rejection, use_after_free, ensure_resource_availability]
    started = time.perf_counter()

    # Only the links the description declares: schemathesis would otherwise infer more, e.g.
    # GET /v1/keys -> DELETE /v1/keys/{name}, which revokes the key the fuzz runs with.
    fresh.schema.config.phases.stateful.inference.algorithms = []

    class Workflow(fresh.schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            fresh.requests["stateful"] += 1
            return {
                "base_url": fresh.base_url,
                "session": fresh.session,
                "headers": fresh.headers,
                "timeout": 30,
            }

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                case.validate_response(
                    response,
                    checks=checks,
                    headers=fresh.headers,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )
            except FailureGroup as exc:
                failures.append(f"{case.operation.label}: {exc}")
                raise

        def step(self, input: Any) -> Any:
            output = super().step(input)
            if output.response.status_code in (401, 429):
                failures.append(f"the key was refused: {output.response.text}")
            if input.transition is not None and input.is_applied:
                # "POST /v1/leads -> [201] GetLead -> GET /v1/leads/{lead_id}"
                source, _, _ = input.transition.id.partition(" -> ")
                followed[source, input.case.operation.label] += 1
            return output

        def teardown(self) -> None:
            fresh.requests["stateful scenarios"] += 1
            super().teardown()

    ended_early = 0
    for run in range(STATEFUL_RUNS):
        machine: Any = seed(run)(type(f"Workflow{run}", (Workflow,), {}))
        try:
            machine.run(
                settings=settings(
                    max_examples=STATEFUL_SCENARIOS,
                    stateful_step_count=STATEFUL_STEPS,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
            )
        except FlakyStrategyDefinition:
            ended_early += 1
    served.requests.update(fresh.requests)
    served.took("stateful", started)
    assert not failures, failures
    assert links, "the description has no links"
    targets = {label[target] for _, target in links}
    assert targets == {target for _, target in followed}, sorted(followed)
    assert sum(followed.values()) >= len(links), sorted(followed)
    assert ended_early < STATEFUL_RUNS // 2, f"{ended_early} of {STATEFUL_RUNS} runs ended early"


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
    print(
        f"\nschemathesis: {len(OPERATIONS)} operations; requests {dict(served.requests)} "
        f"({sum(served.requests.values())}); seconds "
        f"{ {k: round(v, 1) for k, v in served.seconds.items()} }"
    )
