"""Bad input over real HTTP (SQLite and PostgreSQL): oversized, malformed, mistyped and
misencoded bodies, and text no field may hold. Each gets a 4xx that says why, and nothing of a
refused request is stored; a bulk whose leads are partly bad answers each lead."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from leadroute.adapters.inbound import sign_v3
from leadroute.adapters.store.sql import Store
from leadroute.api import create_app
from leadroute.domain.org import Rep, Territory, build_org
from tests.adapters.test_inbound import LEAD_ONE, ORG_18, outbound
from tests.api.problem import problem
from tests.api.server import serve
from tests.services.fixtures import activate

LIMIT = 64_000  # over the 32,000 characters a text may have, so both limits can be seen
SECRET = "hub-secret"
CONFIG = """
name: bad-input
pools:
  sales: {members: [r1, r2], fairness_window: all}
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
JSON_TYPE = "application/json"
JSON = {"content-type": JSON_TYPE}
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def api(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    monkeypatch.setenv("LEADROUTE_HUBSPOT_SECRET", SECRET)
    monkeypatch.setenv("LEADROUTE_SALESFORCE_ORG_ID", ORG_18)
    reps = [Rep(id=r, name=r, email=f"{r}@vendor.com", teams=("sales",)) for r in ("r1", "r2")]
    org = build_org(reps=reps, territories=[Territory("na", "NA", frozenset({"US"}))])
    activate(store, org, CONFIG)
    with serve(create_app(store, auth=False, max_body_bytes=LIMIT)) as client:
        yield client


def stored(store: Store) -> int:
    """Every lead row: routed, held, unrouted and rejected ones alike."""
    return sum(store.lead_counts().values())


def refused(answer: httpx.Response, status: int, *words: str) -> str:
    """Assert the answer is a `status` Problem whose `detail` holds `words`; return it."""
    return str(problem(answer, status, *words)["detail"])


def chunks(*parts: bytes) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked)."""
    yield from parts


# --- size -------------------------------------------------------------------------------------


def test_oversized_bodies_get_413_declared_or_chunked(api: httpx.Client, store: Store) -> None:
    big = b'{"email": "a@b.com", "notes": "' + b"x" * LIMIT + b'"}'
    for path, content_type in (
        ("/v1/leads", JSON),
        ("/v1/leads/bulk", JSON),
        ("/v1/activities", JSON),
        ("/v1/webhooks/web-to-lead", {"content-type": FORM}),
        ("/v1/webhooks/salesforce", {"content-type": "text/xml"}),
        ("/v1/webhooks/hubspot", JSON),
    ):
        declared = api.post(path, content=big, headers=content_type)
        refused(declared, 413, "at most 64,000 bytes")
        streamed = api.post(path, content=chunks(big[:40_000], big[40_000:]), headers=content_type)
        refused(streamed, 413, "at most 64,000 bytes")
        assert "content-length" not in streamed.request.headers
    assert stored(store) == 0


def test_a_bulk_over_a_thousand_leads_is_refused_whole(api: httpx.Client, store: Store) -> None:
    leads = [{"email": f"p{i}@x.io"} for i in range(1001)]
    refused(api.post("/v1/leads/bulk", json={"leads": leads}), 413, "at most 1000 leads")
    assert stored(store) == 0


# --- malformed JSON and the wrong content type ------------------------------------------------


# body, status, words of the detail, the validation error's type (422)
MALFORMED: list[tuple[bytes, int, list[str], str | None]] = [
    (
        b'{"email": "a@b.com",',
        422,
        ["not valid JSON", "Expecting property name", "at position 20"],
        "json_invalid",
    ),
    (b'{"email": "a@b.com" "company": "X"}', 422, ["not valid JSON", "delimiter"], "json_invalid"),
    (b"{'email': 'a@b.com'}", 422, ["not valid JSON"], "json_invalid"),
    (b"", 422, ["body: Field required"], "missing"),
    (b'["a@b.com"]', 422, ["body: Input should be a valid dictionary"], "dict_type"),
    (b'"a@b.com"', 422, ["valid dictionary"], "dict_type"),
    (b"[" * 5000 + b"]" * 5000, 400, ["not valid JSON", "nested too deeply"], None),
    (b'{"employees": 1' + b"0" * 5000 + b"}", 400, ["more than 4,300 digits"], None),
]


def test_malformed_json_says_what_is_wrong(api: httpx.Client, store: Store) -> None:
    for body, status, words, kind in MALFORMED:
        for path in ("/v1/leads", "/v1/leads/bulk"):
            answer = problem(api.post(path, content=body, headers=JSON), status, *words)
            if kind is not None:
                assert [e["type"] for e in answer["errors"]] == [kind], answer
            else:
                assert "errors" not in answer, answer
    assert stored(store) == 0


def test_a_bulk_must_be_a_list_of_objects(api: httpx.Client, store: Store) -> None:
    bodies: list[dict[str, Any]] = [
        {"leads": "x"},
        {"leads": [{"email": "a@b.com"}, 3]},
        {"rows": []},
    ]
    for body in bodies:
        refused(api.post("/v1/leads/bulk", json=body), 422, "'leads' must be a list of objects")
    assert stored(store) == 0


def test_json_endpoints_refuse_other_content_types_with_415(
    api: httpx.Client, store: Store
) -> None:
    body = b'{"email": "a@b.com"}'
    for content_type in (None, "text/plain", "application/xml", FORM, "multipart/form-data; b=x"):
        headers = {"content-type": content_type} if content_type else {}
        got = f"got '{content_type}'" if content_type else "got none"
        for path in ("/v1/leads", "/v1/leads/bulk", "/v1/activities"):
            answer = api.post(path, content=body, headers=headers)
            refused(answer, 415, "Content-Type: application/json", got)
    assert stored(store) == 0


# --- encodings ---------------------------------------------------------------------------------

LEAD_TEXT = '{"email": "zoe@acme.com", "company": "Café Ångström"}'


MISENCODED: list[tuple[bytes, list[str]]] = [
    (LEAD_TEXT.encode("latin-1"), ["not valid UTF-8", "byte 0xe9"]),
    (LEAD_TEXT.encode("cp1252"), ["not valid UTF-8", "byte 0xe9"]),
    (LEAD_TEXT.encode("utf-16"), ["UTF-16 byte order mark"]),
    (LEAD_TEXT.encode("utf-16-le"), ["NUL byte at offset 1", "not UTF-16"]),
    (LEAD_TEXT.encode("utf-32"), ["UTF-16 byte order mark"]),  # FF FE 00 00
    (LEAD_TEXT.encode("utf-32-be"), ["NUL byte at offset 0"]),
    (b'{"email": "a@b.com", "company": "Caf\xc3\x28"}', ["not valid UTF-8", "byte 0xc3"]),
    (b'{"email": "a@b.com", "company": "\xed\xa0\x80"}', ["not valid UTF-8"]),  # surrogate
    (b'{"email": "a@b.com", "company": "Caf\xe2\x82', ["not valid UTF-8"]),  # cut short
]


def test_json_that_is_not_utf8_gets_400(api: httpx.Client, store: Store) -> None:
    for body, words in MISENCODED:
        for path in ("/v1/leads", "/v1/leads/bulk", "/v1/activities"):
            whole = api.post(path, content=body, headers=JSON)
            refused(whole, 400, "JSON must be sent as UTF-8", *words)
            streamed = api.post(path, content=chunks(body[:7], body[7:]), headers=JSON)
            refused(streamed, 400, *words)
    assert stored(store) == 0


def test_a_declared_charset_other_than_utf8_gets_415(api: httpx.Client, store: Store) -> None:
    body = LEAD_TEXT.encode("latin-1")
    for charset in ("latin-1", "ISO-8859-1", "utf-16", "no-such-charset"):
        headers = {"content-type": f"application/json; charset={charset}"}
        refused(api.post("/v1/leads", content=body, headers=headers), 415, f"charset={charset}")
    assert stored(store) == 0
    utf8 = {"content-type": 'application/json; charset="UTF-8"'}
    answer = api.post("/v1/leads", content=LEAD_TEXT.encode(), headers=utf8)
    assert answer.status_code == 201, answer.text
    lead = store.lead(answer.json()["lead_id"])
    assert lead is not None and lead.lead.fields["company"] == "Café Ångström"


def test_utf8_with_a_byte_order_mark_is_read(api: httpx.Client, store: Store) -> None:
    answer = api.post("/v1/leads", content=b"\xef\xbb\xbf" + LEAD_TEXT.encode(), headers=JSON)
    assert answer.status_code == 201, answer.text
    assert store.lead(answer.json()["lead_id"]).lead.fields["company"] == "Café Ångström"  # type: ignore[union-attr]


# --- text no field may hold ------------------------------------------------------------------


UNSTORABLE: list[tuple[bytes, list[str]]] = [
    (b'{"email": "a@b.com", "company": "Ac\\u0000me"}', ["body.company", "NUL character"]),
    (b'{"id": "L\\u00001", "email": "a@b.com"}', ["body.id", "NUL character"]),
    (b'{"email": "a@b.com", "x\\u0000y": "1"}', ["'x\\x00y'", "the name", "NUL"]),
    (b'{"email": "a@b.com", "company": "Ac\\ud800me"}', ["body.company", "unpaired surrogate"]),
    (b'{"email": "a@b.com", "\\udfff": 1}', ["the name", "unpaired surrogate"]),
    (b'{"email": "a@b.com", "employees": 123456789012345678901234567890}', ["97 bits"]),
    (b'{"email": "a@b.com", "employees": NaN}', ["body.employees", "nan is not a number"]),
    (b'{"email": "a@b.com", "annual_revenue": -Infinity}', ["-inf is not a number"]),
    (b'{"email": "a@b.com", "notes": ' + b"[" * 40 + b"]" * 40 + b"}", ["32 levels deep"]),
    (b'{"email": "a@b.com", "city": "' + b"x" * 40_000 + b'"}', ["body.city", "40,000"]),
    (b'{"email": "a@b.com", "' + b"k" * 300 + b'": 1}', ["the name", "300 characters"]),
]


def test_text_no_field_may_hold_refuses_the_request_whole(api: httpx.Client, store: Store) -> None:
    good = b'{"email": "fine@acme.com", "country": "US"}'
    for lead, words in UNSTORABLE:
        refused(api.post("/v1/leads", content=lead, headers=JSON), 422, *words)
        bulk = b'{"leads": [' + good + b", " + lead + b"]}"
        refused(api.post("/v1/leads/bulk", content=bulk, headers=JSON), 422, "body.leads[1]")
    assert stored(store) == 0  # not even the good lead of a bulk: the request is refused whole


def test_a_nul_in_the_url_gets_400(api: httpx.Client, store: Store) -> None:
    for method, path in (
        ("GET", "/v1/leads/L%001"),
        ("GET", "/v1/reps/r1%00"),
        ("POST", "/v1/leads/L1/actions/accept?actor=a%00b"),
        ("POST", "/v1/leads?source=web%00"),
    ):
        answer = api.request(method, path, json={"email": "a@b.com"})
        refused(answer, 400, "NUL character (%00)")
    assert stored(store) == 0


# --- a bulk with some bad leads answers each ---------------------------------------------------


def test_a_bulk_with_some_bad_leads_answers_each_and_the_counts_add_up(
    api: httpx.Client, store: Store
) -> None:
    leads = [
        {"id": "B0", "email": "ada@acme.com", "country": "US"},
        {"id": "B1", "email": "bo@acme.com", "employees": "lots"},
        {"id": "B2", "country": "US"},  # nothing identifies it
        {"id": "B3", "email": "cy@small.io", "country": "FR"},
        {"id": "B4", "email": "di@acme.com", "received_at": "yesterday-ish", "employees": -3},
    ]
    answer = api.post("/v1/leads/bulk", json={"leads": leads})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["received"] == 5 and body["counts_add_up"] is True
    assert sum(body["outcomes"].values()) == 5
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3, 4]
    outcomes = [r["outcome"] for r in results]
    assert outcomes == ["routed", "rejected", "rejected", "routed", "rejected"]
    assert "lead 1: employees must be a number" in results[1]["detail"]
    assert "nothing identifies the lead" in results[2]["detail"]
    assert "received_at is not an ISO date/time: 'yesterday-ish'" in results[4]["detail"]
    assert body["outcomes"] == {o: outcomes.count(o) for o in set(outcomes)}
    assert stored(store) == 5  # every lead kept: the bad ones as rejected, with their reason
    assert store.lead_counts()["rejected"] == outcomes.count("rejected")


# --- webhooks ----------------------------------------------------------------------------------


def test_web_to_lead_reads_the_declared_charset_and_refuses_a_wrong_one(
    api: httpx.Client, store: Store
) -> None:
    form = "oid=" + ORG_18 + "&email=zoe%40cafe.fr&last_name=M%FCller&company=Caf%E9&debug=1"
    latin1 = {"content-type": f"{FORM}; charset=ISO-8859-1"}
    answer = api.post("/v1/webhooks/web-to-lead", content=form.encode(), headers=latin1)
    assert answer.status_code == 201, answer.text
    lead = store.lead(answer.json()["lead_id"])
    assert lead is not None
    assert (lead.lead.fields["company"], lead.lead.fields["last_name"]) == ("Café", "Müller")
    assert stored(store) == 1
    undeclared = api.post(
        "/v1/webhooks/web-to-lead", content=form.encode(), headers={"content-type": FORM}
    )
    refused(undeclared, 400, "'last_name'", "is not utf-8 text", "charset=ISO-8859-1")
    raw_bytes = "email=a@b.io&company=Café".encode("latin-1")
    refused(
        api.post("/v1/webhooks/web-to-lead", content=raw_bytes, headers={"content-type": FORM}),
        400,
        "'company'",
    )
    unknown = {"content-type": f"{FORM}; charset=klingon"}
    refused(
        api.post("/v1/webhooks/web-to-lead", content=form.encode(), headers=unknown),
        415,
        "unknown charset 'klingon'",
    )
    as_json = api.post("/v1/webhooks/web-to-lead", json={"email": "a@b.io"})
    refused(as_json, 415, FORM, "got application/json")
    nul = api.post(
        "/v1/webhooks/web-to-lead",
        content=b"email=a@b.io&company=A%00B",
        headers={"content-type": FORM},
    )
    refused(nul, 422, "body.company[0]", "NUL character")
    long_text = api.post(
        "/v1/webhooks/web-to-lead",
        content=b"email=a@b.io&description=" + b"x" * 33_000,
        headers={"content-type": FORM},
    )
    refused(long_text, 422, "body.description[0]", "33,000 characters")
    assert stored(store) == 1


def test_salesforce_xml_in_a_wrong_encoding_gets_a_soap_fault(
    api: httpx.Client, store: Store
) -> None:
    good = outbound(LEAD_ONE)
    misdeclared = good.decode().encode("latin-1")  # says UTF-8, is latin-1 (Å, ö)
    for body in (
        misdeclared,
        good.decode().encode("utf-16-le"),  # no byte order mark, UTF-8 declared
        good.replace(b"<sf:Company>", b"<sf:Company>\x00"),
        good.replace(b"Nordlicht", b"Nord&#0;licht"),
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e 'x'>]><x>&e;</x>",
        good[: len(good) // 2],
    ):
        answer = api.post(
            "/v1/webhooks/salesforce", content=body, headers={"content-type": "text/xml"}
        )
        assert answer.status_code == 400, answer.text
        assert b"<faultcode>soapenv:Client</faultcode>" in answer.content
        assert (
            b"<faultstring>" in answer.content
            and b"<faultstring></faultstring>" not in answer.content
        )
    assert stored(store) == 0
    declared_latin1 = misdeclared.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    answer = api.post(
        "/v1/webhooks/salesforce", content=declared_latin1, headers={"content-type": "text/xml"}
    )
    assert answer.status_code == 200 and b"<Ack>true</Ack>" in answer.content
    assert store.lead("sf-00Q5e00000AbCdEEAZ").lead.fields["company"] == "Nordlicht Ångström GmbH"  # type: ignore[union-attr]


def _hubspot(api: httpx.Client, body: bytes) -> httpx.Response:
    url = str(api.base_url) + "/v1/webhooks/hubspot"
    stamp = str(int(datetime.now(UTC).timestamp() * 1000))
    headers = {
        "X-HubSpot-Signature-v3": sign_v3(
            secret=SECRET, method="POST", uri=url, body=body, timestamp=stamp
        ),
        "X-HubSpot-Request-Timestamp": stamp,
        "content-type": "application/json",
    }
    return api.post("/v1/webhooks/hubspot", content=body, headers=headers)


def test_hubspot_bodies_that_cannot_be_read_are_refused(api: httpx.Client, store: Store) -> None:
    event = (
        '{"eventId": 1, "subscriptionId": 9, "portalId": 77, "occurredAt": 1795000000000,'
        ' "subscriptionType": "contact.propertyChange", "objectId": 501,'
        ' "propertyName": "company", "propertyValue": %s}'
    )
    cases = [
        ("[" + event % '"Café"' + "]").encode("latin-1"),
        ("[" + event % '"Café"' + "]").encode("utf-16"),
        ("[" + event % '"Ac\\u0000me"' + "]").encode(),
        ("[" + event % '"Ac\\ud800me"' + "]").encode(),
        ("[" + event % "1" + "0" * 30 + "]").encode(),
        b"[" * 3000 + b"]" * 3000,
        b'[{"eventId": 1',
    ]
    for body in cases:
        answer = _hubspot(api, body)
        assert answer.status_code in (400, 422), (body[:60], answer.status_code, answer.text)
        assert answer.json()["detail"], answer.text
    assert stored(store) == 0
    fine = _hubspot(api, ("[" + event % '"Café"' + "]").encode())
    assert fine.status_code == 200, fine.text
    assert fine.json()["received"] == 1


def test_what_is_refused_before_the_key_is_looked_at(store: Store) -> None:
    """Without a key: a request that cannot be read (its URL, its size, its encoding, JSON that
    does not parse) is refused as such; every other check comes after the key's (401)."""
    with serve(create_app(store, max_body_bytes=LIMIT)) as anonymous:
        before = [
            (anonymous.get("/v1/leads/L%001"), 400, "NUL character"),
            (
                anonymous.post("/v1/leads", content=b"{" + b" " * LIMIT + b"}", headers=JSON),
                413,
                "",
            ),
            (
                anonymous.post("/v1/leads", content=LEAD_TEXT.encode("latin-1"), headers=JSON),
                400,
                "",
            ),
            (
                anonymous.post(
                    "/v1/leads",
                    content=b"{}",
                    headers={"content-type": f"{JSON_TYPE}; charset=latin-1"},
                ),
                415,
                "charset=latin-1",
            ),
            (anonymous.post("/v1/leads", content=b'{"a": ', headers=JSON), 422, "not valid JSON"),
            (anonymous.post("/v1/leads", content=b"[" * 5000, headers=JSON), 400, "too deeply"),
        ]
        for answer, status, words in before:
            refused(answer, status, words)
        after = [
            anonymous.post("/v1/leads", content=b'["a@b.com"]', headers=JSON),
            anonymous.post("/v1/leads", content=b'{"a": "\\u0000"}', headers=JSON),
            anonymous.post("/v1/leads", content=b"{}", headers={"content-type": "text/plain"}),
            anonymous.post("/v1/leads", json={}, headers={"Idempotency-Key": "k" * 300}),
            anonymous.get("/v1/configs/0"),
            anonymous.post("/v1/webhooks/hubspot", content=b"[" * 5000, headers=JSON),
            anonymous.post(
                "/v1/webhooks/web-to-lead", content=b"a=%00", headers={"content-type": FORM}
            ),
        ]
        for answer in after:
            refused(answer, 401, "an API key is required")
    assert stored(store) == 0
