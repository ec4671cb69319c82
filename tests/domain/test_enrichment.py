"""Enrichment core: config validation at its place, lookup keys, templates and the waterfall."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from leadroute.domain.enrichment import (
    Answer,
    EnrichmentConfig,
    HttpProviderModel,
    LookupKey,
    ProviderError,
    Waterfall,
    lookup_text,
    render,
    template_env,
    template_parts,
)

AT = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)

EXAMPLE = """
enrichment:
  wait_ms: 1500
  providers:
    warehouse: {type: table, path: companies.csv, key: domain,
                fields: {industry: industry, employees: employee_count, country: hq_country}}
    vendor_a:
      type: http
      url: "http://127.0.0.1:8080/v2/companies/find?domain={domain}"
      headers: {Authorization: "Bearer ${VENDOR_A_KEY}"}
      fields: {industry: category.industry, employees: metrics.employees,
               annual_revenue: metrics.annualRevenue}
      timeout_ms: 800
      retries: 2
      backoff_ms: 100
      daily_cap: 5000
      cache_ttl_hours: 720
      confidence: 0.8
    infer: {type: inference}
  fields:
    industry: [warehouse, vendor_a]
    employees: [warehouse, vendor_a]
    annual_revenue: [vendor_a]
    timezone: [infer]
"""

SIMPLE = {
    "providers": {
        "a": {"type": "table", "path": "a.csv", "key": "domain", "fields": {"industry": "i"}},
        "b": {
            "type": "http",
            "url": "http://x/{domain}",
            "fields": {"industry": "i", "employees": "e", "annual_revenue": "r"},
        },
        "c": {"type": "table", "path": "c.csv", "key": "domain", "fields": {"employees": "e"}},
    },
    "fields": {"industry": ["a", "b"], "employees": ["c", "b"], "annual_revenue": ["b"]},
}


def config(document: dict[str, Any] | None = None, **changes: Any) -> EnrichmentConfig:
    return EnrichmentConfig.model_validate({**(document or SIMPLE), **changes})


def problems(document: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    with pytest.raises(ValidationError) as caught:
        EnrichmentConfig.model_validate(document)
    return {tuple(e["loc"]): e["msg"] for e in caught.value.errors()}


def drive(waterfall: Waterfall, answers: dict[str, Answer]) -> list[str]:
    asked = []
    while (name := waterfall.next_provider()) is not None:
        asked.append(name)
        waterfall.record(name, answers.get(name, Answer.found({}, at=AT)))
    return asked


def found(**fields: Any) -> Answer:
    return Answer.found(fields, at=AT)


# -- config ------------------------------------------------------------------------------------


def test_the_documented_example_validates() -> None:
    model = EnrichmentConfig.model_validate(yaml.safe_load(EXAMPLE)["enrichment"])
    assert model.wait_ms == 1500
    vendor = model.providers["vendor_a"]
    assert isinstance(vendor, HttpProviderModel)
    assert vendor.daily_cap == 5000 and vendor.headers["Authorization"].endswith("${VENDOR_A_KEY}")
    assert list(model.fields) == ["industry", "employees", "annual_revenue", "timezone"]


def test_defaults() -> None:
    model = config(
        {"providers": {"v": {"type": "http", "url": "https://x/?d={domain}", "fields": {"a": "b"}}}}
    )
    vendor = model.providers["v"]
    assert isinstance(vendor, HttpProviderModel)
    assert (vendor.timeout_ms, vendor.retries, vendor.backoff_ms) == (800, 2, 100)
    assert vendor.daily_cap is None and vendor.cache_ttl_hours == 720
    assert model.wait_ms == 1500 and model.fields == {}


def test_segment_is_rejected_as_derived() -> None:
    document = yaml.safe_load(EXAMPLE)["enrichment"]
    document["fields"]["segment"] = ["infer"]
    found_problems = problems(document)
    assert "derived by the router from employees" in found_problems[("fields", "segment")]


def test_every_reference_problem_is_reported_at_its_place() -> None:
    document = {
        "providers": {
            "infer": {"type": "inference"},
            "t": {"type": "table", "path": "x.csv", "key": "domain", "fields": {"industry": "i"}},
        },
        "fields": {
            "employees": ["infer"],
            "industry": ["t", "nope", "t"],
            "annual_revenue": ["t"],
            "city": [],
        },
    }
    assert problems(document) == {
        ("fields", "employees", 0): (
            "the inference provider infer never invents employees; it infers only country, timezone"
        ),
        ("fields", "industry", 1): "unknown provider nope (providers: infer, t)",
        ("fields", "industry", 2): "provider t is listed twice",
        ("fields", "annual_revenue", 0): (
            "provider t has no mapping for annual_revenue (add it under its fields)"
        ),
        ("fields", "city"): "city needs at least one provider",
    }


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ({"type": "table", "key": "domain", "fields": {"a": "b"}}, "exactly one of path"),
        (
            {"type": "table", "path": "x", "url": "sqlite://", "key": "d", "fields": {"a": "b"}},
            "exactly one of path",
        ),
        ({"type": "table", "url": "sqlite://", "key": "d", "fields": {"a": "b"}}, "both url"),
        ({"type": "http", "url": "http://x/{name}", "fields": {"a": "b"}}, "unknown placeholder"),
        ({"type": "http", "url": "http://x/all", "fields": {"a": "b"}}, "needs a placeholder"),
        ({"type": "http", "url": "ftp://x/{domain}", "fields": {"a": "b"}}, "http:// or https://"),
        (
            {"type": "http", "url": "http://x/{domain}", "headers": {"X": "{email}"}, "fields": {}},
            "at least 1 item",
        ),
        ({"type": "http", "url": "http://x/{domain}", "fields": {"a": "b"}, "timeout": 3}, "Extra"),
        ({"type": "inference", "fields": ["employees"]}, "'country' or 'timezone'"),
        ({"type": "graph"}, "does not match any of the expected tags"),
    ],
)
def test_provider_models_are_checked(provider: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        EnrichmentConfig.model_validate({"providers": {"p": provider}})
    assert message in str(caught.value)


def test_headers_take_only_environment_references() -> None:
    with pytest.raises(ValidationError, match="only"):
        HttpProviderModel.model_validate(
            {
                "type": "http",
                "url": "http://x/{domain}",
                "headers": {"X": "{email}"},
                "fields": {"a": "b"},
            }
        )


def test_wait_budget_bounds() -> None:
    with pytest.raises(ValidationError):
        config(wait_ms=-1)


# -- lookup keys and templates ---------------------------------------------------------------------


def test_lookup_key_normalises_and_finds_the_company_domain() -> None:
    key = LookupKey.from_fields(
        {
            "email": " Ada@Acme.COM ",
            "website": "https://www.Acme.com/about",
            "company": "  Acme   Inc ",
            "country": "us",
            "phone": "+1 415 555 0123",
        }
    )
    assert key == LookupKey(
        domain="acme.com",
        email="ada@acme.com",
        company="Acme Inc",
        country="US",
        phone="+1 415 555 0123",
    )
    assert LookupKey.from_fields({"email": "bob@beta.io"}).domain == "beta.io"
    assert LookupKey.from_fields({"email": "bob@gmail.com"}).domain is None
    assert LookupKey.from_fields({"email": "bob@corp.io", "free_email": True}).domain is None
    assert LookupKey.from_fields({"email": "not an email"}).email is None
    assert LookupKey.from_fields({"mobile_phone": "+44 20 7946 0000"}).phone == "+44 20 7946 0000"
    with pytest.raises(KeyError):
        key.get("website")


def test_lookup_text_per_provider_kind() -> None:
    model = config()
    key = LookupKey(domain="acme.com", company="Acme")
    assert lookup_text(model.providers["a"], key) == "domain:acme.com"
    assert lookup_text(model.providers["a"], LookupKey(company="Acme")) is None
    two = HttpProviderModel.model_validate(
        {"type": "http", "url": "http://x/?c={company}&d={domain}", "fields": {"a": "b"}}
    )
    assert lookup_text(two, key) == "company:Acme|domain:acme.com"
    assert lookup_text(two, LookupKey(domain="acme.com")) is None
    long = lookup_text(model.providers["a"], LookupKey(domain="x" * 300 + ".com"))
    assert long is not None and long.startswith("sha256:") and len(long) <= 255


def test_templates_encode_values_and_read_the_environment() -> None:
    template = "https://api/${REGION}/find?company={company}&email={email}"
    assert template_parts(template) == ("company", "email")
    assert template_env(template + "${REGION}${KEY}") == ("REGION", "KEY")
    key = LookupKey(company="Smith & Sons/Co", email="a+b@x.io")
    assert (
        render(template, environ={"REGION": "eu"}, key=key)
        == "https://api/eu/find?company=Smith%20%26%20Sons%2FCo&email=a%2Bb%40x.io"
    )
    with pytest.raises(ProviderError, match="environment variable REGION is not set"):
        render(template, environ={}, key=key)
    with pytest.raises(ProviderError, match="no company"):
        render(template, environ={"REGION": "eu"}, key=LookupKey(email="a@x.io"))


# -- the waterfall -------------------------------------------------------------------------------


def test_each_field_walks_its_providers_in_order_and_stops_at_the_first_fill() -> None:
    waterfall = Waterfall(config(), {"domain": "acme.com"})
    asked = drive(
        waterfall,
        {
            "a": found(industry="Software"),
            "c": found(),
            "b": found(industry="Tech", employees="1,200", annual_revenue="5e6"),
        },
    )
    assert asked == ["a", "c", "b"]
    result = waterfall.result(12.5)
    assert result.fields == {"industry": "Software", "employees": 1200, "annual_revenue": 5000000}
    assert {f: p.provider for f, p in result.provenance.items()} == {
        "industry": "a",
        "employees": "b",
        "annual_revenue": "b",
    }
    assert [(a.provider, a.field, a.outcome) for a in result.attempts] == [
        ("a", "industry", "filled"),
        ("c", "employees", "empty"),
        ("b", "employees", "filled"),
        ("b", "annual_revenue", "filled"),
    ]
    assert result.provenance["industry"].confidence == 1.0
    assert result.provenance["employees"].confidence == 0.8


def test_a_provider_is_asked_once_for_several_fields() -> None:
    document = {
        **SIMPLE,
        "fields": {"industry": ["b"], "employees": ["b"], "annual_revenue": ["b"]},
    }
    waterfall = Waterfall(config(document), {})
    assert drive(waterfall, {"b": found(industry="x", employees=3, annual_revenue=4)}) == ["b"]
    assert waterfall.result(0).fields == {"industry": "x", "employees": 3, "annual_revenue": 4}


def test_errors_skips_and_bad_values_fall_to_the_next_provider() -> None:
    waterfall = Waterfall(config(), {})
    drive(
        waterfall,
        {
            "a": Answer.failed("timeout after 800 ms"),
            "b": found(industry="Tech", employees="lots"),
            "c": Answer.skipped("no lookup key"),
        },
    )
    result = waterfall.result(1)
    assert result.fields == {"industry": "Tech"}
    assert [(a.provider, a.field, a.outcome) for a in result.attempts] == [
        ("a", "industry", "error: timeout after 800 ms"),
        ("b", "industry", "filled"),
        ("c", "employees", "skipped: no lookup key"),
        ("b", "employees", "error: invalid value: employees must be a number, got 'lots'"),
        ("b", "annual_revenue", "empty"),
    ]


def test_objects_and_lists_are_not_single_values() -> None:
    waterfall = Waterfall(config(), {})
    drive(waterfall, {"a": found(industry={"name": "x"}), "b": found(industry=["x"])})
    outcomes = [a.outcome for a in waterfall.result(0).attempts if a.field == "industry"]
    assert outcomes == [
        "error: invalid value: industry must be a single value, got an object",
        "error: invalid value: industry must be a single value, got a list",
    ]


def test_present_fields_are_never_asked_for_and_missing_narrows() -> None:
    waterfall = Waterfall(config(), {"industry": "Retail", "employees": " "}, wanted=["employees"])
    assert waterfall.targets == ["employees"]
    assert drive(waterfall, {"c": found(employees="40")}) == ["c"]
    assert waterfall.result(0).fields == {"employees": 40}
    assert Waterfall(config(), {"industry": "x", "employees": 1, "annual_revenue": 2}).targets == []


def test_cached_answers_keep_their_fetch_time() -> None:
    waterfall = Waterfall(config(), {}, wanted=["industry"])
    earlier = datetime(2026, 11, 1, tzinfo=UTC)
    waterfall.record("a", Answer.found({"industry": "x"}, at=earlier, cached=True))
    assert waterfall.next_provider() is None
    result = waterfall.result(0)
    assert result.provenance["industry"].cached and result.provenance["industry"].at == earlier
    assert result.attempts[0].outcome == "cached"


def test_a_provider_cannot_be_recorded_twice() -> None:
    waterfall = Waterfall(config(), {})
    waterfall.record("a", found())
    with pytest.raises(ValueError, match="already asked"):
        waterfall.record("a", found())


def test_the_record_is_json() -> None:
    waterfall = Waterfall(config(), {})
    drive(waterfall, {"a": found(industry="x"), "c": Answer.failed("HTTP 500")})
    record = waterfall.result(3.14159).as_record()
    assert json.loads(json.dumps(record)) == record
    assert record["provenance"]["industry"] == {
        "provider": "a",
        "at": "2026-11-24T15:00:00+00:00",
        "confidence": 1.0,
        "cached": False,
    }
    assert record["elapsed_ms"] == 3.1
    assert {"provider": "c", "field": "employees", "outcome": "error: HTTP 500"} in record[
        "attempts"
    ]


# -- properties ----------------------------------------------------------------------------------

PROVIDERS = ["p0", "p1", "p2", "p3"]
FIELDS = ["industry", "employees", "city"]

answers = st.one_of(
    st.just(Answer.failed("boom")),
    st.just(Answer.skipped("daily cap 1 reached")),
    st.dictionaries(
        st.sampled_from(FIELDS), st.sampled_from(["", None, "7", "x", "Acme"]), max_size=3
    ).map(lambda fields: Answer.found(fields, at=AT)),
)


@settings(max_examples=200, deadline=None)
@given(
    chains=st.fixed_dictionaries(
        {
            f: st.lists(st.sampled_from(PROVIDERS), min_size=1, max_size=4, unique=True)
            for f in FIELDS
        }
    ),
    replies=st.fixed_dictionaries({p: answers for p in PROVIDERS}),
    lead=st.fixed_dictionaries({}, optional={f: st.sampled_from(["", "given"]) for f in FIELDS}),
)
def test_waterfall_properties(
    chains: dict[str, list[str]], replies: dict[str, Answer], lead: dict[str, str]
) -> None:
    model = EnrichmentConfig.model_validate(
        {
            "providers": {
                p: {
                    "type": "table",
                    "path": "x.csv",
                    "key": "domain",
                    "fields": {f: f for f in FIELDS},
                }
                for p in PROVIDERS
            },
            "fields": chains,
        }
    )
    waterfall = Waterfall(model, lead)
    asked = drive(waterfall, replies)
    result = waterfall.result(0)
    assert len(asked) == len(set(asked)), "a provider is asked at most once per lead"
    for name in FIELDS:
        if lead.get(name):
            assert name not in result.fields, "a given value is never replaced"
            continue
        # The field is filled by the first provider of its chain whose answer has a usable value.
        expected = None
        for provider in chains[name]:
            fields = replies[provider].fields
            value = None if fields is None else fields.get(name)
            if value in ("7", "x", "Acme") and not (name == "employees" and value != "7"):
                expected = provider
                break
        assert (result.provenance[name].provider if name in result.provenance else None) == expected
        tried = [a.provider for a in result.attempts if a.field == name]
        stop = chains[name].index(expected) + 1 if expected else len(chains[name])
        assert tried == chains[name][:stop], "providers are tried in order, up to the first fill"
    assert set(result.fields) == set(result.provenance)
