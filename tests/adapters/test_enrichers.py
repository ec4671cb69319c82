"""Enrichment providers: HTTP against a real server on 127.0.0.1, CSV and SQL tables, inference."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, insert

from leadroute.adapters.enrichers import (
    CsvTableProvider,
    HttpJsonProvider,
    InferenceProvider,
    SqlTableProvider,
    build_provider,
)
from leadroute.adapters.enrichers.http_json import pluck
from leadroute.adapters.enrichers.inference import _timezone_rule, fallback_timezone
from leadroute.domain.enrichment import (
    HttpProviderModel,
    InferenceProviderModel,
    LookupKey,
    ProviderError,
    ProviderSetupError,
    TableProviderModel,
)

ACME = LookupKey(domain="acme.com", email="ada@acme.com", company="Acme & Co")

# -- a scripted JSON server ------------------------------------------------------------------------


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


class JsonServer:
    """Answers GETs from a script of replies (the last one repeats) and records every request."""

    def __init__(self) -> None:
        self.script: list[Reply] = [Reply(body={})]
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                with server._lock:
                    server.seen.append(
                        Seen(parts.path, parse_qs(parts.query), dict(self.headers.items()))
                    )
                    reply = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                if reply.delay:
                    time.sleep(reply.delay)
                body = (
                    reply.body.encode()
                    if isinstance(reply.body, str)
                    else json.dumps(reply.body).encode()
                )
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def replies(self, *replies: Reply) -> None:
        self.script = list(replies)


@pytest.fixture
def server() -> Iterator[JsonServer]:
    server = JsonServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()
    server.thread.join(5)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


VENDOR_FIELDS = {
    "industry": "data.0.category.industry",
    "employees": "data.0.metrics.employees",
    "annual_revenue": "data.0.metrics.annualRevenue",
}


def vendor(
    server: JsonServer,
    *,
    path: str = "/v2/companies/find?domain={domain}&company={company}",
    environ: dict[str, str] | None = None,
    sleep: Callable[[float], None] | None = None,
    **options: Any,
) -> HttpJsonProvider:
    model = HttpProviderModel.model_validate(
        {
            "type": "http",
            "url": server.url(path),
            "headers": {"Authorization": "Bearer ${VENDOR_A_KEY}"},
            "fields": VENDOR_FIELDS,
            "backoff_ms": 10,
            **options,
        }
    )
    return HttpJsonProvider(
        "vendor_a",
        model,
        environ={"VENDOR_A_KEY": "s3cret"} if environ is None else environ,
        sleep=sleep if sleep is not None else Sleeps(),
    )


COMPANY = {
    "data": [
        {
            "category": {"industry": "Software"},
            "metrics": {"employees": 1200, "annualRevenue": None},
        }
    ]
}


# -- HTTP ----------------------------------------------------------------------------------------


def test_http_sends_the_templated_request_and_maps_the_answer(server: JsonServer) -> None:
    server.replies(Reply(body=COMPANY))
    provider = vendor(server)
    assert provider.fields == frozenset(VENDOR_FIELDS)
    assert provider.lookup(ACME) == {"industry": "Software", "employees": 1200}
    [seen] = server.seen
    assert seen.path == "/v2/companies/find"
    assert seen.query == {"domain": ["acme.com"], "company": ["Acme & Co"]}
    assert seen.headers["Authorization"] == "Bearer s3cret"
    assert seen.headers["Accept"] == "application/json"
    provider.close()


def test_http_reads_secrets_from_the_environment_at_call_time(
    server: JsonServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = HttpProviderModel.model_validate(
        {
            "type": "http",
            "url": server.url("/find?domain={domain}&key=${VENDOR_QS}"),
            "headers": {"Authorization": "Bearer ${VENDOR_A_KEY}"},
            "fields": {"industry": "industry"},
        }
    )
    provider = HttpJsonProvider("v", model)
    monkeypatch.delenv("VENDOR_A_KEY", raising=False)
    monkeypatch.setenv("VENDOR_QS", "q1")
    with pytest.raises(ProviderError, match="environment variable VENDOR_A_KEY is not set"):
        provider.lookup(ACME)
    assert server.seen == [], "no request without its secret"
    monkeypatch.setenv("VENDOR_A_KEY", "rotated")
    server.replies(Reply(body={"industry": "Retail"}))
    assert provider.lookup(ACME) == {"industry": "Retail"}
    assert server.seen[0].headers["Authorization"] == "Bearer rotated"
    assert server.seen[0].query["key"] == ["q1"]
    provider.close()


def test_http_a_slow_answer_is_a_timeout_error(server: JsonServer) -> None:
    server.replies(Reply(body=COMPANY, delay=1.0))
    provider = vendor(server, timeout_ms=100, retries=0)
    started = time.monotonic()
    with pytest.raises(ProviderError) as caught:
        provider.lookup(ACME)
    assert str(caught.value) == "timeout after 100 ms"
    assert time.monotonic() - started < 0.8
    provider.close()


def test_http_the_budget_shortens_the_timeout_and_stops_retries(server: JsonServer) -> None:
    server.replies(Reply(body=COMPANY, delay=1.0))
    sleeps = Sleeps()
    provider = vendor(server, timeout_ms=800, retries=3, backoff_ms=400, sleep=sleeps)
    started = time.monotonic()
    with pytest.raises(ProviderError, match=r"^timeout after 1\d\d ms$"):
        provider.lookup(ACME, budget_ms=150)
    assert time.monotonic() - started < 0.7
    assert sleeps == [], "no backoff that would end past the budget"
    provider.close()


def test_http_retries_5xx_then_succeeds_with_exponential_backoff(server: JsonServer) -> None:
    server.replies(Reply(500), Reply(502), Reply(body=COMPANY))
    sleeps = Sleeps()
    provider = vendor(server, retries=2, backoff_ms=10, sleep=sleeps)
    assert provider.lookup(ACME)["industry"] == "Software"
    assert len(server.seen) == 3
    assert sleeps == [0.01, 0.02]
    provider.close()


def test_http_retries_429_honouring_a_short_retry_after(server: JsonServer) -> None:
    server.replies(
        Reply(429, {"error": "slow down"}, headers={"Retry-After": "1"}), Reply(body=COMPANY)
    )
    sleeps = Sleeps()
    provider = vendor(server, sleep=sleeps)
    assert provider.lookup(ACME)["employees"] == 1200
    assert sleeps == [1.0]
    provider.close()


def test_http_a_long_retry_after_gives_up_at_once(server: JsonServer) -> None:
    server.replies(Reply(429, {}, headers={"Retry-After": "120"}))
    sleeps = Sleeps()
    provider = vendor(server, sleep=sleeps)
    with pytest.raises(ProviderError, match=r"^HTTP 429 \(Retry-After 120 s\)$"):
        provider.lookup(ACME)
    assert len(server.seen) == 1 and sleeps == []
    provider.close()


def test_http_persistent_5xx_reports_the_tries(server: JsonServer) -> None:
    server.replies(Reply(503, {}))
    sleeps = Sleeps()
    provider = vendor(server, retries=2, sleep=sleeps)
    with pytest.raises(ProviderError, match=r"^HTTP 503 \(3 tries\)$"):
        provider.lookup(ACME)
    assert len(server.seen) == 3 and sleeps == [0.01, 0.02]
    provider.close()


@pytest.mark.parametrize("status", [400, 401, 403, 422])
def test_http_other_4xx_fail_without_retry(server: JsonServer, status: int) -> None:
    server.replies(Reply(status, {"error": "no"}))
    provider = vendor(server)
    with pytest.raises(ProviderError, match=f"^HTTP {status}$"):
        provider.lookup(ACME)
    assert len(server.seen) == 1
    provider.close()


def test_http_404_means_not_found(server: JsonServer) -> None:
    server.replies(Reply(404, {"error": "unknown company"}))
    provider = vendor(server)
    assert provider.lookup(ACME) == {}
    provider.close()


@pytest.mark.parametrize("body", ["{not json", '"just a string"', "\xff\xfe"])
def test_http_a_malformed_body_is_an_error(server: JsonServer, body: str) -> None:
    server.replies(Reply(body=body))
    provider = vendor(server)
    with pytest.raises(ProviderError, match=r"^malformed JSON"):
        provider.lookup(ACME)
    assert len(server.seen) == 1, "a malformed answer is not retried"
    provider.close()


def test_http_connection_refused_is_retried_then_reported(server: JsonServer) -> None:
    url = server.url("/x?d={domain}")
    server.httpd.shutdown()
    server.httpd.server_close()
    sleeps = Sleeps()
    model = HttpProviderModel.model_validate(
        {"type": "http", "url": url, "fields": {"industry": "i"}, "retries": 1, "backoff_ms": 5}
    )
    provider = HttpJsonProvider("v", model, sleep=sleeps)
    with pytest.raises(ProviderError, match=r"^connection failed \(ConnectError\) \(2 tries\)$"):
        provider.lookup(ACME)
    assert sleeps == [0.005]
    provider.close()


def test_http_errors_never_show_secrets(server: JsonServer) -> None:
    server.replies(Reply(401, {}))
    provider = vendor(server, path="/x?domain={domain}&key=${VENDOR_A_KEY}")
    with pytest.raises(ProviderError) as caught:
        provider.lookup(ACME)
    assert "s3cret" not in str(caught.value)
    provider.close()


def test_pluck_follows_dotted_paths_and_list_indexes() -> None:
    document = {"data": [{"a": {"b": 1}}, {"a": None}], "n": 0}
    assert pluck(document, "data.0.a.b") == 1
    assert pluck(document, "data.-1.a") is None
    assert pluck(document, "n") == 0
    missing = pluck(document, "nope")
    for path in ("data.2.a", "data.x", "data.0.a.b.c", "n.0"):
        assert pluck(document, path) is missing


# -- CSV tables ---------------------------------------------------------------------------------


def table_model(**changes: Any) -> TableProviderModel:
    document = {
        "type": "table",
        "path": "companies.csv",
        "key": "Domain",
        "fields": {"industry": "industry", "employees": "Employee_Count", "country": "hq_country"},
    }
    return TableProviderModel.model_validate({**document, **changes})


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_matches_normalised_domains_case_insensitively(tmp_path: Path) -> None:
    write(
        tmp_path / "companies.csv",
        "\ufeffdomain,Industry,employee_count,HQ_Country\n"
        "WWW.Acme.com,Software,1200,US\n"
        "https://beta.io/about,Retail,,DE\n"
        "acme.com,Duplicate,1,FR\n"
        ",Orphan,1,FR\n"
        "short\n",
    )
    provider = CsvTableProvider("warehouse", table_model(), base_dir=tmp_path)
    assert len(provider) == 3
    assert provider.lookup(LookupKey(domain="acme.com")) == {
        "industry": "Software",
        "employees": "1200",
        "country": "US",
    }
    assert provider.lookup(LookupKey(domain="beta.io")) == {"industry": "Retail", "country": "DE"}
    assert provider.lookup(LookupKey(domain="gamma.io")) == {}
    assert provider.lookup(LookupKey(company="Acme")) == {}


def test_csv_by_company_name(tmp_path: Path) -> None:
    write(tmp_path / "c.csv", "company,industry\n  ACME   Inc ,Software\n")
    model = table_model(path="c.csv", key="company", fields={"industry": "industry"})
    provider = CsvTableProvider("w", model, base_dir=tmp_path)
    assert provider.lookup(LookupKey(company="acme inc")) == {"industry": "Software"}


def test_csv_problems_are_raised_when_built(tmp_path: Path) -> None:
    with pytest.raises(ProviderSetupError, match="cannot read"):
        CsvTableProvider("w", table_model(), base_dir=tmp_path)
    write(tmp_path / "companies.csv", "domain,industry\nacme.com,Software\n")
    with pytest.raises(ProviderSetupError, match="no column 'Employee_Count'"):
        CsvTableProvider("w", table_model(), base_dir=tmp_path)
    (tmp_path / "companies.csv").write_bytes(b"domain,industry\n\xff\xfe,x\n")
    with pytest.raises(ProviderSetupError, match="not a readable CSV"):
        CsvTableProvider("w", table_model(fields={"industry": "industry"}), base_dir=tmp_path)


# -- SQL tables ---------------------------------------------------------------------------------


def test_sql_table_by_key_with_an_lru(db_url: str) -> None:
    engine = create_engine(db_url)
    companies = Table(
        "companies",
        MetaData(),
        Column("Domain", String(255)),
        Column("industry", String(80)),
        Column("employee_count", Integer),
    )
    companies.create(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(companies),
            [
                {"Domain": "www.Acme.com", "industry": "Software", "employee_count": 1200},
                {"Domain": "beta.io", "industry": " ", "employee_count": None},
            ],
        )
    model = TableProviderModel.model_validate(
        {
            "type": "table",
            "url": "${WAREHOUSE_URL}",
            "table": "companies",
            "key": "domain",
            "fields": {"industry": "Industry", "employees": "EMPLOYEE_COUNT"},
        }
    )
    provider = SqlTableProvider("warehouse", model, environ={"WAREHOUSE_URL": db_url})
    assert provider.lookup(LookupKey(domain="acme.com")) == {
        "industry": "Software",
        "employees": 1200,
    }
    assert provider.lookup(LookupKey(domain="beta.io")) == {}
    assert provider.lookup(LookupKey(domain="none.io")) == {}
    with engine.begin() as conn:
        conn.execute(companies.delete())
    assert provider.lookup(LookupKey(domain="acme.com"))["industry"] == "Software", "from the LRU"
    provider.close()
    engine.dispose()


def test_sql_table_problems_are_raised_when_built(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'w.db'}"
    model = TableProviderModel.model_validate(
        {"type": "table", "url": url, "table": "missing", "key": "domain", "fields": {"a": "b"}}
    )
    with pytest.raises(ProviderSetupError, match="no table missing"):
        SqlTableProvider("w", model)
    with pytest.raises(ProviderSetupError, match="WAREHOUSE_URL is not set"):
        SqlTableProvider("w", model.model_copy(update={"url": "${WAREHOUSE_URL}"}), environ={})


# -- inference ----------------------------------------------------------------------------------


def inference(**changes: Any) -> InferenceProvider:
    model = InferenceProviderModel.model_validate({"type": "inference", **changes})
    return InferenceProvider("infer", model, timezone_rule=fallback_timezone)


def test_inference_country_from_an_international_phone() -> None:
    provider = inference()
    assert provider.fields == frozenset({"country", "timezone"})
    assert provider.lookup(LookupKey(phone="+44 20 7946 0000")) == {
        "country": "GB",
        "timezone": "Europe/London",
    }
    assert provider.lookup(LookupKey(phone="020 7946 0000")) == {}, "no country from a local form"
    assert provider.lookup(LookupKey(phone="+1 555")) == {}, "invalid numbers give nothing"
    assert provider.lookup(LookupKey()) == {}


def test_inference_timezone_prefers_the_state_then_the_phone_then_the_country() -> None:
    provider = inference(fields=["timezone"])
    assert provider.lookup(LookupKey(country="US", state="US-TX", phone="+1 415 555 0123")) == {
        "timezone": "America/Chicago"
    }
    assert provider.lookup(LookupKey(country="US", phone="+1 415 555 0123")) == {
        "timezone": "America/Los_Angeles"
    }
    assert provider.lookup(LookupKey(country="US", phone="4155550123")) == {
        "timezone": "America/Los_Angeles"
    }, "a national number is read in the lead's country"
    assert provider.lookup(LookupKey(country="DE")) == {"timezone": "Europe/Berlin"}
    assert provider.lookup(LookupKey(country="IN")) == {"timezone": "Asia/Kolkata"}
    assert provider.lookup(LookupKey(country="AU", state="wa")) == {"timezone": "Australia/Perth"}
    assert provider.lookup(LookupKey(country="US")) == {}, "no guess across US zones"
    assert provider.lookup(LookupKey(country="ZZ")) == {}


def test_inference_uses_the_geo_rule_it_is_given() -> None:
    calls: list[tuple[Any, ...]] = []

    def rule(*args: Any) -> str | None:
        calls.append(args)
        return "Europe/Paris"

    model = InferenceProviderModel.model_validate({"type": "inference", "fields": ["timezone"]})
    provider = InferenceProvider("infer", model, timezone_rule=rule)
    found = provider.lookup(
        LookupKey(country="FR", state="IDF", postal_code="75001", phone="+33 1 23 45 67 89")
    )
    assert found == {"timezone": "Europe/Paris"}
    assert calls == [("FR", "IDF", "75001", "+33123456789")]
    provider.lookup(LookupKey(country="US", state="us-tx "))
    assert calls[-1] == ("US", "TX", None, None), "the state arrives as its subdivision code"


def test_inference_takes_the_geo_rule_when_the_module_exists() -> None:
    geo = pytest.importorskip("leadroute.domain.geo")
    assert _timezone_rule() is geo.infer_timezone


def test_inference_never_gives_company_facts() -> None:
    found = inference().lookup(LookupKey(domain="acme.com", company="Acme", phone="+14155550123"))
    assert set(found) <= {"country", "timezone"}


def test_build_provider_picks_the_kind(tmp_path: Path) -> None:
    write(tmp_path / "companies.csv", "domain,industry,employee_count,hq_country\n")
    assert isinstance(build_provider("w", table_model(), base_dir=tmp_path), CsvTableProvider)
    http = build_provider(
        "v",
        HttpProviderModel.model_validate(
            {"type": "http", "url": "http://127.0.0.1:1/{domain}", "fields": {"a": "b"}}
        ),
        base_dir=tmp_path,
    )
    assert isinstance(http, HttpJsonProvider)
    http.close()
    infer = build_provider("i", InferenceProviderModel(type="inference"), base_dir=tmp_path)
    assert isinstance(infer, InferenceProvider)
